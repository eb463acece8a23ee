/*
 * conv_shifted.c - convolutions as a GEMM with no im2col. The input rows a band of output rows
 * needs are copied into scratch with their zero padding made explicit and, for a stride s > 1,
 * split into s x s phase planes (padded pixel (y, x) goes to plane (y % sh, x % sw) at
 * (y / sh, x / sw)). In a phase plane of width Wq, output pixel (oh, ow) at the "wide" position
 * q = oh * Wq + ow reads its tap (c, kh, kw) at
 *     q + plane(c, kh * dh % sh, kw * dw % sw) + (kh * dh / sh) * Wq + kw * dw / sw,
 * so row (c, kh, kw) of the patch matrix is the band shifted by a constant: the GEMM reads B in
 * place through a table of row offsets (hidp__sgemm_rows) and drops the few padded positions
 * of each wide row when it stores C (hidp__sgemm_call.c_wide).
 *
 * Against im2col + packing this makes one pass over the input per band instead of kH * kW, at
 * the price of computing (kW - 1) * dw / sw padded columns per output row (2-4% on ResNet).
 */
#include <string.h>

#include "conv.h"
#include "phase.h"

/* Padded band of cg channels, aimed at about 256 KB so the GEMM's passes over it stay in L2. */
#ifndef HIDP__CONV_BAND_FLOATS
#define HIDP__CONV_BAND_FLOATS (64 * 1024)
#endif

/* Width and extra rows of a phase plane: enough positions for every tap of ow outputs. */
static int64_t plane_w(const hidp__conv_geom *g)
{
    return g->ow + (g->kw - 1) * g->dw / g->sw;
}
static int64_t extra_rows(const hidp__conv_geom *g)
{
    return (g->kh - 1) * g->dh / g->sh;
}

/* Floats of band per output row (all channels and phases). */
static int64_t per_row(const hidp__conv_geom *g)
{
    return g->cg * g->sh * g->sw * plane_w(g);
}

/* Wide columns a band's GEMM should have at least: every band reads all of A (the weights), so
 * deep layers, whose weights are megabytes and whose maps are small, take their whole map in one
 * band (ResNet-50's 3x3/2 layer on 14x14x512 ran 3 bands of 3 rows at 77 GFLOP/s). */
#define HIDP__CONV_BAND_MIN_COLS 512

/* Output rows per band. */
static int64_t band_rows(const hidp__conv_geom *g)
{
    int64_t r = HIDP__CONV_BAND_FLOATS / per_row(g) - extra_rows(g);
    const int64_t for_cols = (HIDP__CONV_BAND_MIN_COLS + plane_w(g) - 1) / plane_w(g);
    if (r < for_cols)
        r = for_cols;
    return r < g->oh ? r : g->oh;
}

int hidp__conv_shifted_fits(const hidp__conv_geom *g)
{
    /* One output row's band must stay within 8x the budget: larger inputs go through im2col. */
    return per_row(g) * (1 + extra_rows(g)) <= 8 * HIDP__CONV_BAND_FLOATS;
}

/* Whether some tap reads phase f of a dimension with kernel k, dilation d and stride s: a strided
 * 1x1 conv reads only phase 0, and copying the others would cost more than its GEMM. */
static int phase_read(int64_t f, int64_t k, int64_t d, int64_t s)
{
    for (int64_t i = 0; i < k; i++)
        if (i * d % s == f)
            return 1;
    return 0;
}

size_t hidp__conv_shifted_scratch(const hidp__conv_geom *g, const hidp__sgemm_kernel *kern)
{
    const int64_t k = g->cg * g->kh * g->kw;
    /* band + the nr floats the last tile may read past it + offsets (int64) + the GEMM's tile
     * buffers + alignment */
    return (size_t)(per_row(g) * (band_rows(g) + extra_rows(g)) + kern->nr + 2 * k + 32) +
           hidp__sgemm_rows_floats(kern, g->mg);
}

/* Fills the phase planes of the group's cg channels for output rows from oy0: phase row r of
 * plane (c, fy, fx) holds padded row (oy0 + r) * sh + fy, positions j the padded columns
 * j * sw + fx; zero where those fall in the padding. plane: floats per phase plane. */
static void fill_band(const hidp__conv_geom *g, const float *x, int64_t oy0, int64_t rq,
                      int64_t plane, float *band)
{
    const int64_t wq = plane_w(g);
    for (int64_t c = 0; c < g->cg; c++) {
        const float *xc = x + c * g->h * g->w;
        for (int64_t fy = 0; fy < g->sh; fy++) {
            for (int64_t fx = 0; fx < g->sw; fx++) {
                if (!phase_read(fy, g->kh, g->dh, g->sh) || !phase_read(fx, g->kw, g->dw, g->sw))
                    continue;
                float *dst = band + ((c * g->sh + fy) * g->sw + fx) * plane;
                int64_t lo, hi;
                hidp__phase_range(g->w, g->pl, g->sw, fx, wq, &lo, &hi);
                for (int64_t r = 0; r < rq; r++, dst += wq) {
                    const int64_t ih = (oy0 + r) * g->sh + fy - g->pt;
                    if (ih < 0 || ih >= g->h)
                        memset(dst, 0, (size_t)wq * sizeof *dst);
                    else
                        hidp__phase_fill(dst, wq, xc + ih * g->w, g->pl, g->sw, fx, lo, hi, 0.0f);
                }
            }
        }
    }
}

void hidp__conv_shifted(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                        float *scratch)
{
    if (s.c0 >= s.c1 || s.h0 >= s.h1)
        return;
    const hidp__sgemm_kernel *kern = io->p->kern;
    const int64_t wq = plane_w(g), ohw = g->oh * g->ow, k = g->cg * g->kh * g->kw;
    const int64_t rows = band_rows(g), plane = (rows + extra_rows(g)) * wq;
    const int64_t planes = g->cg * g->sh * g->sw;
    float *band = scratch;
    int64_t *off = (int64_t *)(((uintptr_t)(band + planes * plane + kern->nr) + 7) & ~(uintptr_t)7);
    float *tile = (float *)(off + k);
    for (int64_t c = 0, i = 0; c < g->cg; c++)
        for (int64_t kh = 0; kh < g->kh; kh++)
            for (int64_t kw = 0; kw < g->kw; kw++) {
                const int64_t y = kh * g->dh, x = kw * g->dw;
                off[i++] = ((c * g->sh + y % g->sh) * g->sw + x % g->sw) * plane +
                           y / g->sh * wq + x / g->sw;
            }
    memset(band + planes * plane, 0, (size_t)kern->nr * sizeof *band);
    const hidp__sgemm_rows b = {band, off};

    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t grp = s.c0 / g->mg; grp * g->mg < s.c1; grp++) {
            int64_t m_lo, m_hi;
            hidp__conv_group_span(g, s, grp, &m_lo, &m_hi);
            const int64_t m_base = grp * g->mg;
            const float *xg = io->x + (n * g->c + grp * g->cg) * g->h * g->w;
            for (int64_t oy0 = s.h0; oy0 < s.h1; oy0 += rows) {
                const int64_t nr = rows < s.h1 - oy0 ? rows : s.h1 - oy0;
                fill_band(g, xg, oy0, nr + extra_rows(g), plane, band);
                const hidp__sgemm_call call = {
                    .kern = kern, .m = g->mg, .n = (nr - 1) * wq + g->ow, .k = k,
                    .a_packed = io->p->packed + (size_t)grp * io->p->packed_group,
                    .b_rows = &b,
                    .c = io->y + (n * g->m + m_base) * ohw + oy0 * g->ow, .ldc = ohw,
                    .res = io->res ? io->res + (n * g->m + m_base) * ohw + oy0 * g->ow : NULL,
                    .c_wide = wq, .c_cols = g->ow,
                    .bias = io->b ? io->b + m_base : NULL, .act = io->act,
                    .transposed = io->p->transposed};
                hidp__sgemm(&call, m_lo - m_base, m_hi - m_base, tile);
            }
        }
    }
}
