/*
 * conv_depthwise.c - depthwise convolutions (group == C; output channel m reads input channel
 * m / (M/C), so channel multipliers > 1 work too) as a direct kernel: with one input channel per
 * output channel there is no reduction for a GEMM to exploit, and im2col would only copy.
 *
 * Borders: the input rows a band of output rows needs are first copied into scratch with their
 * zero padding made explicit, so no tap ever needs a bounds check and the interior loops are
 * plain sweeps the compiler vectorises (the copy is one pass over the input; the taps make
 * kH * kW passes). Then:
 *   stride 1    (plane_s1): the band is laid out at the padded width wp, so output (r, ow) and
 *               its tap (kh, kw) are a constant distance apart (kh*dh*wp + kw*dw): each tap is
 *               one sweep along the whole band, not one per output row. Small planes (14x14,
 *               7x7) would otherwise spend their time in per-row overhead.
 *   stride > 1  (plane_strided): each padded row is stored split by column phase (padded column
 *               j*sw + f goes to phase f, position j), so that for every tap an output row reads
 *               a unit-stride run of one phase; the taps are swept row by row.
 * Both sweep three taps of a kernel row at a time, so the accumulator is loaded and stored a
 * third as often as with one sweep per tap.
 */
#include <string.h>

#include "conv.h"

/* Scratch of one band of padded rows (plus, for stride 1, its wide output), in floats. The
 * bands are sized to stay within about 64 KB, in L2 while the taps sweep them. */
#ifndef HIDP__DW_BAND_FLOATS
#define HIDP__DW_BAND_FLOATS (16 * 1024)
#endif

/* dst[i] += a * s0[i] for i < len. Blocks of 8 independent lanes: GCC's -O2 cost model
 * vectorises a loop only when its trip count is a known multiple of the vector width. */
static void axpy1(float *restrict dst, const float *restrict s0, int64_t len, float a)
{
    int64_t i = 0;
    for (; i + 8 <= len; i += 8)
        for (int j = 0; j < 8; j++)
            dst[i + j] += a * s0[i + j];
    for (; i < len; i++)
        dst[i] += a * s0[i];
}

/* dst[i] += a0 * s0[i] + a1 * s1[i] + a2 * s2[i] for i < len. */
static void axpy3(float *restrict dst, const float *restrict s0, const float *restrict s1,
                  const float *restrict s2, int64_t len, float a0, float a1, float a2)
{
    int64_t i = 0;
    for (; i + 8 <= len; i += 8)
        for (int j = 0; j < 8; j++)
            dst[i + j] += a0 * s0[i + j] + a1 * s1[i + j] + a2 * s2[i + j];
    for (; i < len; i++)
        dst[i] += a0 * s0[i] + a1 * s1[i] + a2 * s2[i];
}

/* Floats per column phase of a padded row, and per padded row (all phases). */
static int64_t phase_len(const hidp__conv_geom *g)
{
    return hidp__ceildiv(g->w + g->pl + g->pr, g->sw);
}
static int64_t row_pitch(const hidp__conv_geom *g)
{
    return g->sw * phase_len(g);
}
/* Padded input rows that nr output rows need. */
static int64_t band_in_rows(const hidp__conv_geom *g, int64_t nr)
{
    return (nr - 1) * g->sh + (g->kh - 1) * g->dh + 1;
}
static int64_t band_floats(const hidp__conv_geom *g, int64_t nr)
{
    int64_t f = band_in_rows(g, nr) * row_pitch(g);
    if (g->sh == 1 && g->sw == 1)
        f += nr * row_pitch(g); /* the wide output */
    return f;
}

size_t hidp__conv_depthwise_plan(hidp__conv_geom *g)
{
    /* The largest band within the budget (band_floats grows with nr), at least one row. */
    int64_t lo = 1, hi = g->oh;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (band_floats(g, mid) <= HIDP__DW_BAND_FLOATS)
            lo = mid;
        else
            hi = mid - 1;
    }
    g->band_rows = lo;
    return (size_t)band_floats(g, lo);
}

/* Small tables built once per call instead of dividing in the inner loops (a division costs as
 * much as a dozen taps on 7x7 planes): per column phase, the positions [lo, hi) that hold input
 * columns; per kernel column, where its taps start in a phase-split row. Kernels wider, or
 * strides larger, than this compute the entries as they go. */
#define HIDP__DW_TABLE 32

typedef struct dw_tables {
    int64_t jlo[HIDP__DW_TABLE], jhi[HIDP__DW_TABLE]; /* per phase f < sw */
    int64_t tap[HIDP__DW_TABLE];                      /* per kernel column kw < kw */
    int have_phase, have_tap;
} dw_tables;

/* Phase f of a padded row: position j is padded column j*sw + f, input column j*sw + f - pl. */
static void phase_range(const hidp__conv_geom *g, int64_t f, int64_t *jlo, int64_t *jhi)
{
    const int64_t wq = phase_len(g);
    *jlo = hidp__clamp64(hidp__ceildiv(g->pl - f, g->sw), 0, wq);
    *jhi = hidp__clamp64(hidp__floordiv(g->pl + g->w - 1 - f, g->sw) + 1, *jlo, wq);
}

/* Tap kw reads padded column ow*sw + kw*dw: phase (kw*dw) % sw, position ow + (kw*dw) / sw. */
static int64_t tap_offset(const hidp__conv_geom *g, int64_t kw)
{
    return (kw * g->dw % g->sw) * phase_len(g) + kw * g->dw / g->sw;
}

static void build_tables(const hidp__conv_geom *g, dw_tables *t)
{
    t->have_phase = g->sw <= HIDP__DW_TABLE;
    t->have_tap = g->kw <= HIDP__DW_TABLE;
    for (int64_t f = 0; t->have_phase && f < g->sw; f++)
        phase_range(g, f, &t->jlo[f], &t->jhi[f]);
    for (int64_t k = 0; t->have_tap && k < g->kw; k++)
        t->tap[k] = tap_offset(g, k);
}

/* Copies padded input rows [ih0, ih0 + rows) of plane xc into band (row_pitch floats each),
 * zeros for the padding, split by column phase when sw > 1 (a plain copy when sw == 1). */
static void fill_band(const hidp__conv_geom *g, const dw_tables *t, const float *xc,
                      int64_t ih0, int64_t rows, float *band)
{
    const int64_t wq = phase_len(g), pitch = row_pitch(g);
    for (int64_t r = 0; r < rows; r++) {
        const int64_t ih = ih0 + r;
        float *dst = band + r * pitch;
        if (ih < 0 || ih >= g->h) {
            memset(dst, 0, (size_t)pitch * sizeof *dst);
            continue;
        }
        const float *src = xc + ih * g->w;
        for (int64_t f = 0; f < g->sw; f++) {
            float *ph = dst + f * wq;
            int64_t jlo, jhi;
            if (t->have_phase) {
                jlo = t->jlo[f];
                jhi = t->jhi[f];
            } else {
                phase_range(g, f, &jlo, &jhi);
            }
            /* The padding runs are a few floats: plain loops beat memset calls here. */
            for (int64_t j = 0; j < jlo; j++)
                ph[j] = 0.0f;
            if (g->sw == 1) {
                memcpy(ph + jlo, src + jlo - g->pl, (size_t)(jhi - jlo) * sizeof *ph);
            } else {
                const float *sp = src + jlo * g->sw + f - g->pl;
                for (int64_t j = 0; j < jhi - jlo; j++)
                    ph[jlo + j] = sp[j * g->sw];
            }
            for (int64_t j = jhi; j < wq; j++)
                ph[j] = 0.0f;
        }
    }
}

/* Stride 1: output rows [h0, h1) of one plane, band by band, each tap one sweep of the band. */
static void plane_s1(const hidp__conv_geom *g, const dw_tables *t, const float *xc,
                     const float *wk, float *yc, int64_t h0, int64_t h1, float bias,
                     const hidp__act *act, float *scratch)
{
    const int64_t wp = row_pitch(g); /* == w + pl + pr == ow + (kw - 1) * dw */
    for (int64_t r0 = h0; r0 < h1; r0 += g->band_rows) {
        const int64_t nr = g->band_rows < h1 - r0 ? g->band_rows : h1 - r0;
        const int64_t rin = band_in_rows(g, nr);
        float *band = scratch, *acc = scratch + rin * wp;
        fill_band(g, t, xc, r0 - g->pt, rin, band);
        /* The wide output has wp columns per row, the first ow real; the last row stops at
         * column ow, so no tap reads past the band. */
        const int64_t len = (nr - 1) * wp + g->ow;
        memset(acc, 0, (size_t)len * sizeof *acc);
        for (int64_t kh = 0; kh < g->kh; kh++) {
            const float *pk = band + kh * g->dh * wp, *wr = wk + kh * g->kw;
            int64_t kw = 0;
            for (; kw + 3 <= g->kw; kw += 3)
                axpy3(acc, pk + kw * g->dw, pk + (kw + 1) * g->dw, pk + (kw + 2) * g->dw, len,
                      wr[kw], wr[kw + 1], wr[kw + 2]);
            for (; kw < g->kw; kw++)
                axpy1(acc, pk + kw * g->dw, len, wr[kw]);
        }
        /* One epilogue over the whole band (the wide columns too: they are dropped anyway). */
        hidp__conv_epilogue(acc, len, bias, act);
        for (int64_t r = 0; r < nr; r++)
            memcpy(yc + (r0 + r) * g->ow, acc + r * wp, (size_t)g->ow * sizeof *yc);
    }
}

/* Stride > 1: output rows [h0, h1) of one plane, row by row over a phase-split band. */
static void plane_strided(const hidp__conv_geom *g, const dw_tables *t, const float *xc,
                          const float *wk, float *yc, int64_t h0, int64_t h1, float bias,
                          const hidp__act *act, float *scratch)
{
    const int64_t pitch = row_pitch(g);
    for (int64_t r0 = h0; r0 < h1; r0 += g->band_rows) {
        const int64_t nr = g->band_rows < h1 - r0 ? g->band_rows : h1 - r0;
        fill_band(g, t, xc, r0 * g->sh - g->pt, band_in_rows(g, nr), scratch);
        for (int64_t r = 0; r < nr; r++) {
            float *row = yc + (r0 + r) * g->ow;
            memset(row, 0, (size_t)g->ow * sizeof *row);
            for (int64_t kh = 0; kh < g->kh; kh++) {
                const float *prow = scratch + (r * g->sh + kh * g->dh) * pitch;
                const float *wr = wk + kh * g->kw;
#define TAP(k) (prow + (t->have_tap ? t->tap[k] : tap_offset(g, k)))
                int64_t kw = 0;
                for (; kw + 3 <= g->kw; kw += 3)
                    axpy3(row, TAP(kw), TAP(kw + 1), TAP(kw + 2), g->ow, wr[kw], wr[kw + 1],
                          wr[kw + 2]);
                for (; kw < g->kw; kw++)
                    axpy1(row, TAP(kw), g->ow, wr[kw]);
#undef TAP
            }
            hidp__conv_epilogue(row, g->ow, bias, act);
        }
    }
}

void hidp__conv_depthwise(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                          float *scratch)
{
    const int s1 = g->sh == 1 && g->sw == 1;
    dw_tables t;
    build_tables(g, &t);
    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t m = s.c0; m < s.c1; m++) {
            const float *xc = io->x + (n * g->c + m / g->mg) * g->h * g->w;
            const float *wk = io->w + m * g->kh * g->kw;
            float *yc = io->y + (n * g->m + m) * g->oh * g->ow;
            const float bias = io->b ? io->b[m] : 0.0f;
            if (s1)
                plane_s1(g, &t, xc, wk, yc, s.h0, s.h1, bias, io->act, scratch);
            else
                plane_strided(g, &t, xc, wk, yc, s.h0, s.h1, bias, io->act, scratch);
        }
    }
}
