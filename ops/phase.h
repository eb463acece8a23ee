/*
 * phase.h - an input row padded and split by column phase, the layout that turns a strided
 * window into unit-stride runs: position j of phase f holds padded column j * s + f, which is
 * input column j * s + f - pad (the pad value where that falls outside the row). The depthwise
 * kernel and conv_shifted copy their bands this way; with s = 1 it is a plain padded copy.
 * MaxPool (ops/pool.c split_row) keeps its own copy: through these helpers VGG-16's pools
 * measured 5-10% slower, inlined or not, though its unchanged code also moved by 5% between
 * builds on this VM, so the cause may be layout.
 */
#ifndef HIDP_PHASE_H
#define HIDP_PHASE_H

#include <stdint.h>
#include <string.h>

#include "op_util.h"

/* The positions [*lo, *hi) of phase f, among its n, that hold input columns of a w-wide row
 * padded by pad columns on the left, for stride s. */
static inline void hidp__phase_range(int64_t w, int64_t pad, int64_t s, int64_t f, int64_t n,
                                     int64_t *lo, int64_t *hi)
{
    *lo = hidp__clamp64(hidp__ceildiv(pad - f, s), 0, n);
    *hi = hidp__clamp64(hidp__floordiv(w - 1 + pad - f, s) + 1, *lo, n);
}

/* Writes the n positions of phase f of row into dst: [lo, hi) (from hidp__phase_range) from the
 * row, padv elsewhere. Stride 1 is a memcpy, stride 2 a constant stride the vectoriser turns
 * into shuffles. */
static inline void hidp__phase_fill(float *restrict dst, int64_t n, const float *restrict row,
                                    int64_t pad, int64_t s, int64_t f, int64_t lo, int64_t hi,
                                    float padv)
{
    const float *src = row + lo * s + f - pad;
    for (int64_t j = 0; j < lo; j++)
        dst[j] = padv;
    if (s == 2)
        for (int64_t j = lo; j < hi; j++)
            dst[j] = src[(j - lo) * 2];
    else if (s == 1)
        memcpy(dst + lo, src, (size_t)(hi - lo) * sizeof *dst);
    else
        for (int64_t j = lo; j < hi; j++)
            dst[j] = src[(j - lo) * s];
    for (int64_t j = hi; j < n; j++)
        dst[j] = padv;
}

#endif
