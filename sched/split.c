/*
 * split.c - contiguous, aligned partitions of [0, total).
 *
 * Both splits work in whole blocks of `align` elements (the last block may be short) and turn
 * block boundaries into element boundaries, clamped to total; that is why only the piece holding
 * the tail can have a size that is not a multiple of align.
 */
#include "split.h"

static void empty(int64_t *lo, int64_t *hi)
{
    *lo = 0;
    *hi = 0;
}

/* Element boundary of block boundary b. */
static int64_t edge(int64_t b, int64_t align, int64_t total)
{
    int64_t e = b * align;
    return e < total ? e : total;
}

void hidp__split_even(int64_t total, int parts, int64_t align, int index, int64_t *lo,
                      int64_t *hi)
{
    if (parts < 1 || index < 0 || index >= parts || total <= 0) {
        empty(lo, hi);
        return;
    }
    if (align < 1)
        align = 1;
    int64_t blocks = (total + align - 1) / align;
    /* blocks * index never overflows in practice (blocks < 2^40, parts <= 256), but stay exact
     * by splitting the quotient. */
    int64_t q = blocks / parts, r = blocks % parts;
    int64_t b0 = q * index + r * index / parts;
    int64_t b1 = q * (index + 1) + r * (index + 1) / parts;
    *lo = edge(b0, align, total);
    *hi = edge(b1, align, total);
}

void hidp__split_weighted(int64_t total, int parts, const double *weight, int64_t align,
                          int index, int64_t *lo, int64_t *hi)
{
    if (parts < 1 || index < 0 || index >= parts || total <= 0) {
        empty(lo, hi);
        return;
    }
    double sum = 0, before = 0;
    for (int i = 0; i < parts; i++) {
        double w = weight[i] > 0 ? weight[i] : 0;
        sum += w;
        if (i < index)
            before += w;
    }
    if (!(sum > 0)) {
        hidp__split_even(total, parts, align, index, lo, hi);
        return;
    }
    if (align < 1)
        align = 1;
    int64_t blocks = (total + align - 1) / align;
    double wi = weight[index] > 0 ? weight[index] : 0;
    /* Boundaries are rounded cumulative shares, so neighbouring pieces agree on their common
     * edge and the pieces tile [0, blocks) exactly. */
    int64_t b0 = (int64_t)(blocks * (before / sum) + 0.5);
    int64_t b1 = index == parts - 1 ? blocks : (int64_t)(blocks * ((before + wi) / sum) + 0.5);
    if (b0 > blocks)
        b0 = blocks;
    if (b1 > blocks)
        b1 = blocks;
    if (b1 < b0)
        b1 = b0;
    *lo = edge(b0, align, total);
    *hi = edge(b1, align, total);
}

/* On the little-core bench (a 40% quota core, 18 us wake-up) MobileNet-V2's 50-100 us layers with
 * shares by speed alone left the fast core waiting for a share that started late. */
void hidp__split_allow_wake(int parts, double *weight, double t0, double wake_s)
{
    double fastest = 0;
    for (int w = 0; w < parts; w++)
        fastest = weight[w] > fastest ? weight[w] : fastest;
    if (!(fastest > 0) || !(t0 > 0) || !(wake_s > 0))
        return;
    for (int pass = 0; pass < parts; pass++) {
        double sum_r = 0, sum_rd = 0;
        for (int w = 0; w < parts; w++) {
            const double r = weight[w] / fastest, d = weight[w] < fastest ? wake_s : 0;
            sum_r += r;
            sum_rd += r * d;
        }
        const double finish = (t0 + sum_rd) / sum_r;
        int dropped = 0;
        for (int w = 0; w < parts; w++)
            if (weight[w] > 0 && weight[w] < fastest && finish <= wake_s) {
                weight[w] = 0; /* it would start after the others are done */
                dropped = 1;
            }
        if (dropped)
            continue;
        for (int w = 0; w < parts; w++) {
            const double r = weight[w] / fastest, d = weight[w] < fastest ? wake_s : 0;
            weight[w] = weight[w] > 0 ? r * (finish - d) : 0;
        }
        return;
    }
}
