/*
 * im2col.c - input patches of a block of output pixels as matrix columns (see im2col.h).
 *
 * The loops run row (c, kh, kw) by row, and inside a row output row by output row: for a given
 * kw the output columns whose tap lands inside the image form one range [lo, hi), computed once
 * per matrix row, so the copy itself has no bounds checks (a memcpy when the stride is 1) and
 * the padding is written as two zero runs around it.
 */
#include <string.h>

#include "im2col.h"

void hidp__im2col(const hidp__conv_geom *g, const float *x, int64_t p0, int64_t p1, float *cols)
{
    const int64_t hw = g->h * g->w, ow_n = g->ow, sw = g->sw;
    for (int64_t c = 0; c < g->cg; c++) {
        const float *xc = x + c * hw;
        for (int64_t kh = 0; kh < g->kh; kh++) {
            for (int64_t kw = 0; kw < g->kw; kw++) {
                /* Output column ow reads input column ow * sw + off. */
                const int64_t off = kw * g->dw - g->pl;
                const int64_t lo = hidp__clamp64(hidp__ceildiv(-off, sw), 0, ow_n);
                const int64_t hi = hidp__clamp64(hidp__floordiv(g->w - 1 - off, sw) + 1, lo, ow_n);
                float *dst = cols;
                cols += p1 - p0;
                for (int64_t p = p0; p < p1;) {
                    const int64_t oh = p / ow_n, ow0 = p % ow_n;
                    const int64_t ow1 = ow0 + (p1 - p) < ow_n ? ow0 + (p1 - p) : ow_n;
                    const int64_t ih = oh * g->sh - g->pt + kh * g->dh;
                    const int64_t run = ow1 - ow0;
                    if (ih < 0 || ih >= g->h) {
                        memset(dst, 0, (size_t)run * sizeof *dst);
                    } else {
                        const float *row = xc + ih * g->w;
                        const int64_t a = hidp__clamp64(lo, ow0, ow1);
                        const int64_t b = hidp__clamp64(hi, a, ow1);
                        /* dst[ow - ow0] is the element of output column ow. */
                        if (a > ow0)
                            memset(dst, 0, (size_t)(a - ow0) * sizeof *dst);
                        if (sw == 1) {
                            if (b > a)
                                memcpy(dst + (a - ow0), row + a + off,
                                       (size_t)(b - a) * sizeof *dst);
                        } else if (b > a) {
                            float *d = dst + (a - ow0);
                            const float *src = row + a * sw + off;
                            for (int64_t i = 0; i < b - a; i++)
                                d[i] = src[i * sw];
                        }
                        if (ow1 > b)
                            memset(dst + (b - ow0), 0, (size_t)(ow1 - b) * sizeof *dst);
                    }
                    dst += run;
                    p += run;
                }
            }
        }
    }
}
