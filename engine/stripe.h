/*
 * stripe.h - stripes: runs of consecutive layers that a worker carries through a band of rows
 * on its own, found once per prepared graph (engine/stripe.c) and run by the executor when a
 * slower core helps (engine/exec_stripe.c).
 *
 * Split one by one, MobileNet-V2's layers (30-150 us each on a big core) cost the slower worker
 * a wake-up each (40 us measured) and a read of what the other core just wrote, at a quarter of
 * the speed of its own cache (25 against 100 GB/s measured on this VM). Given instead the bottom
 * rows of an inverted-residual block or a bottleneck, it computes the rows of each layer that
 * the band of the last one needs (a few more at each 3x3 conv: the halo, computed by both) in
 * memory of its own, and only the band of the last output crosses to the other core.
 */
#ifndef HIDP_STRIPE_H
#define HIDP_STRIPE_H

#include <stdint.h>

#include "graph.h"

typedef struct hidp__stripe {
    int first, end; /* nodes [first, end); only the output of node end - 1 is read after them */
} hidp__stripe;

/* A node's output rows [h0, h1) (empty when h0 >= h1). */
typedef struct hidp__rows {
    int64_t h0, h1;
} hidp__rows;

/* The stripes of the bound, sorted graph g, disjoint and in order: runs of at least two nodes
 * whose ops can write aside (HIDP__OP_REDIRECTS), each reading what an earlier one of the run
 * wrote only in rows it can name (hidp__slice_reads), every output at least HIDP__STRIPE_MIN_ROWS
 * rows high, and no value but the last node's output read after the run. A run is cut where the
 * rows both bands compute (the halo, with the slower worker given a third) would pass a tenth of
 * its work. *out is malloc'd (NULL when there are none); returns the count, or -1 when out of
 * memory. */
int hidp__stripe_find(const hidp__graph *g, hidp__stripe **out);

/* The rows of each node of stripe s that rows [h0, h1) of its last output need: rows[k -
 * s->first] for node k. producer[v] is the node writing value v (-1 none). */
void hidp__stripe_rows(const hidp__graph *g, const int *producer, const hidp__stripe *s, int64_t h0,
                       int64_t h1, hidp__rows *rows);

/* Rows of the last output of a stripe, and of every node's output in it, at least. */
#define HIDP__STRIPE_MIN_ROWS 14
/* Nodes in a stripe, at most. */
#define HIDP__STRIPE_MAX_NODES 8

#endif
