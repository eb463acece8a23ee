/*
 * split.h - dividing a layer's output among workers: contiguous ranges of channels or rows.
 *
 * The local scheduler gives each worker one range of a node's output (channels, or rows when
 * there are too few channels). Ranges are rounded to SIMD-friendly blocks so that each worker's
 * GEMM tiles stay whole.
 */
#ifndef HIDP_SPLIT_H
#define HIDP_SPLIT_H

#include <stdint.h>

/* Range [*lo, *hi) of part `index` (0-based) when [0, total) is cut into `parts` contiguous
 * pieces as equal as the alignment allows: every boundary but the end is a multiple of align,
 * so every piece's size is a multiple of align except the one that holds the tail. Pieces
 * cover every element exactly once, in order; a piece may be empty (more parts than blocks).
 * align < 1 counts as 1; parts < 1 or index outside [0, parts) gives an empty range. */
void hidp__split_even(int64_t total, int parts, int64_t align, int index, int64_t *lo,
                      int64_t *hi);

/* As hidp__split_even, but piece i gets a share proportional to weight[i] (speeds of unequal
 * cores), rounded to align. Weights must be >= 0; all zero splits evenly. */
void hidp__split_weighted(int64_t total, int parts, const double *weight, int64_t align,
                          int index, int64_t *lo, int64_t *hi);

/* Turns speed weights (weight[0..parts), the largest the fastest) into shares that allow for
 * the wake-up: workers of slower kinds sleep at the barrier, so they start a layer wake_s seconds
 * after the fastest, which spins. With t0 the layer's time on the fastest worker alone and
 * r = weight / fastest, all finish together at T = (t0 + sum r d) / sum r when each gets
 * r (T - d) of the work (d = wake_s, 0 for the fastest); a worker that could start only after
 * T gets nothing. Shares of equal weights, or with t0 or wake_s <= 0, keep their proportions. */
void hidp__split_allow_wake(int parts, double *weight, double t0, double wake_s);

#endif
