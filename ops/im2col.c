/*
 * im2col.c - input patches packed as GEMM panels (see im2col.h).
 *
 * The loops run matrix row (c, kh, kw) by row, and inside a row output row by output row: for a
 * given kw the output columns whose tap lands inside the image form one range [lo, hi), computed
 * once per matrix row, so the copy itself has no bounds checks (a memcpy when the stride is 1)
 * and the padding is written as zero runs around it. A run of output columns is cut where it
 * crosses from one nr-wide panel into the next.
 */
#include <string.h>

#include "im2col.h"

/* Where one matrix row's taps read: input column = output column * sw + off, inside the image
 * for output columns [lo, hi). */
typedef struct tap_row {
    const float *row; /* input row, NULL when the tap's row is in the padding */
    int64_t off, lo, hi, sw;
} tap_row;

/* Writes output columns [a0, a1) of one tap row to d. Runs are at most a panel wide, so the
 * padding parts are a few floats: plain loops beat memset calls there. */
static inline void copy_run(const tap_row *t, int64_t a0, int64_t a1, float *d)
{
    if (!t->row) {
        memset(d, 0, (size_t)(a1 - a0) * sizeof *d);
        return;
    }
    const int64_t a = hidp__clamp64(t->lo, a0, a1), b = hidp__clamp64(t->hi, a, a1);
    for (int64_t i = a0; i < a; i++)
        d[i - a0] = 0.0f;
    if (t->sw == 1) {
        if (b > a)
            memcpy(d + (a - a0), t->row + a + t->off, (size_t)(b - a) * sizeof *d);
    } else {
        const float *s = t->row + a * t->sw + t->off;
        for (int64_t i = 0; i < b - a; i++)
            d[a - a0 + i] = s[i * t->sw];
    }
    for (int64_t i = b; i < a1; i++)
        d[i - a0] = 0.0f;
}

/* A run of output pixels that lies in one output row and one panel: the part of the column
 * range every matrix row copies the same way. */
typedef struct pixel_run {
    int64_t oh, ow0, ow1; /* output row and columns [ow0, ow1) */
    int64_t at;           /* where its first column goes in panel row 0 */
} pixel_run;

/* Runs per batch: the division-heavy pixel bookkeeping is done once per batch of runs, not once
 * per matrix row (a 3x3 conv has 9 * C of those). */
#define IM2COL_RUNS 64

void hidp__im2col_pack(const void *src, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr,
                       float *dst)
{
    const hidp__im2col_src *s = src;
    const hidp__conv_geom *g = s->g;
    const int64_t ow_n = g->ow, taps = g->kh * g->kw;
    const int64_t p_first = s->p0 + n0, panels = (nc + nr - 1) / nr;
    pixel_run runs[IM2COL_RUNS];
    for (int64_t q = 0; q < nc;) {
        int nrun = 0;
        for (; q < nc && nrun < IM2COL_RUNS; nrun++) {
            const int64_t p = p_first + q, lane = q % nr;
            pixel_run *r = &runs[nrun];
            r->oh = p / ow_n;
            r->ow0 = p % ow_n;
            int64_t len = ow_n - r->ow0;
            if (len > nc - q)
                len = nc - q;
            if (len > nr - lane)
                len = nr - lane;
            r->ow1 = r->ow0 + len;
            r->at = q / nr * nr * kc + lane;
            q += len;
        }
        for (int64_t kk = 0; kk < kc; kk++) {
            const int64_t k = k0 + kk, c = k / taps, kh = k % taps / g->kw, kw = k % g->kw;
            const float *xc = s->x + c * g->h * g->w;
            tap_row t;
            t.sw = g->sw;
            t.off = kw * g->dw - g->pl;
            t.lo = hidp__clamp64(hidp__ceildiv(-t.off, t.sw), 0, ow_n);
            t.hi = hidp__clamp64(hidp__floordiv(g->w - 1 - t.off, t.sw) + 1, t.lo, ow_n);
            for (int i = 0; i < nrun; i++) {
                const int64_t ih = runs[i].oh * g->sh - g->pt + kh * g->dh;
                t.row = ih >= 0 && ih < g->h ? xc + ih * g->w : NULL;
                copy_run(&t, runs[i].ow0, runs[i].ow1, dst + runs[i].at + kk * nr);
            }
        }
    }
    if (nc < panels * nr) /* the last panel's columns past nc */
        for (int64_t kk = 0; kk < kc; kk++)
            memset(dst + (panels - 1) * nr * kc + kk * nr + nc % nr, 0,
                   (size_t)(nr - nc % nr) * sizeof *dst);
}
