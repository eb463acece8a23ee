/*
 * conv_winograd.c - 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): every 2x2 block of
 * output pixels (a tile) comes from a 4x4 patch of the input as
 *     Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A,
 * so the 36 multiply-adds per tile and input channel of a direct 3x3 conv become 16, carried out
 * as 16 independent GEMMs (one per position xi of the 4x4 transformed tile):
 *     M_xi[m, t] = sum_c U_xi[m, c] * V_xi[c, t],
 * U = G g G^T the transformed weights (packed once at reshape, like the other GEMM kinds), V the
 * transformed input patches. F(2x2, 3x3) only adds and halves: its rounding error stays within a
 * few ulps of the direct sum (larger tiles, F(4x4, 3x3), cut the work further but lose digits).
 *
 * A slice is done block by block: a block is a few rows of tiles, whose input rows are first
 * copied with their zero padding made explicit (no bounds checks in the transforms), then
 * transformed into V (16 x C x TB floats, sized to stay in L2), then for each chunk of output
 * channels the 16 GEMMs run and the output transform writes the tiles' pixels with bias,
 * residual and activation.
 *
 * This file is compiled in the kernels' library with the vectoriser on (Makefile.am), since its
 * transforms are plain loops over tiles.
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "prefetch.h"
#include "../engine/hugemem.h"

/* V's budget in floats (1 MB): 16 x C x TB. */
#define WINO_V_FLOATS (256 * 1024)
/* Output channels per chunk of the 16 GEMMs and the output transform. */
#define WINO_MB 64
/* Maps smaller than this (pixels) have too few tiles for the 16 GEMMs to run well; measured on
 * ResNet-18, one core: Winograd ran its 56x56, 28x28 and 14x14 layers 1.35-1.4x faster than
 * conv_shifted, and its 7x7x512 ones 1.7x slower (16 tiles; 16/9 the weights to stream). */
#ifndef HIDP__WINO_MIN_PIXELS
#define HIDP__WINO_MIN_PIXELS (14 * 14)
#endif

int hidp__conv_winograd_fits(const hidp__conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
           g->group == 1 && g->cg >= 8 && g->mg >= 8 && g->oh * g->ow >= HIDP__WINO_MIN_PIXELS;
}

static int64_t tiles_w(const hidp__conv_geom *g)
{
    return (g->ow + 1) / 2;
}
static int64_t tiles_h(const hidp__conv_geom *g)
{
    return (g->oh + 1) / 2;
}
/* Padded band width: the 4 columns of every tile. */
static int64_t band_w(const hidp__conv_geom *g)
{
    return 2 * tiles_w(g) + 2;
}
/* Tiles a block should have at least, whatever V's budget: they are the 16 GEMMs' columns, and
 * with fewer than a few panels the GEMMs crawl (VGG-16's 512-channel layers got 2 rows of 14
 * tiles from the budget and ran at 140-190 GFLOP/s). */
#define WINO_MIN_TILES 128

/* Rows of tiles per block. */
static int64_t block_rows(const hidp__conv_geom *g)
{
    int64_t r = WINO_V_FLOATS / (16 * g->cg * tiles_w(g));
    const int64_t for_tiles = (WINO_MIN_TILES + tiles_w(g) - 1) / tiles_w(g);
    if (r < for_tiles)
        r = for_tiles;
    return r < tiles_h(g) ? r : tiles_h(g);
}

/* The parts of the scratch, in floats, each rounded to 16 (64 bytes). */
typedef struct wino_parts {
    size_t v, band, mbuf, gemm;
} wino_parts;

static size_t up16(size_t n)
{
    return (n + 15) / 16 * 16;
}

static wino_parts parts(const hidp__conv_geom *g, const hidp__sgemm_kernel *kern)
{
    const int64_t tb = block_rows(g) * tiles_w(g);
    wino_parts w;
    w.v = up16((size_t)(16 * g->cg * tb));
    w.band = up16((size_t)(g->cg * (2 * block_rows(g) + 2) * band_w(g)));
    /* per xi: WINO_MB rows + mr rows of slack in front (a chunk may start inside a panel) */
    w.mbuf = up16((size_t)(16 * (WINO_MB + kern->mr) * tb));
    w.gemm = up16(hidp__sgemm_scratch_floats(kern, g->cg, tb));
    return w;
}

size_t hidp__conv_winograd_scratch(const hidp__conv_geom *g, const hidp__sgemm_kernel *kern)
{
    const wino_parts w = parts(g, kern);
    return w.v + w.band + w.mbuf + w.gemm + 16;
}

/* U = G g G^T for every (m, c): 16 matrices [M, C], packed for kern chunk by chunk of WINO_MB
 * output channels, the 16 of a chunk one after the other, so the 16 GEMMs of a chunk read one
 * sequential stream of weights: ResNet-50's 14x14 layers ran 0.32 ms slower in a whole-model
 * run than alone with 16 interleaved streams, 0.23 ms slower with one. */
int hidp__conv_winograd_pack(hidp__conv_params *p, const float *w, const hidp__sgemm_kernel *kern)
{
    static const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    const hidp__conv_geom *g = &p->g;
    const int64_t m = g->mg, c = g->cg;
    const size_t per = hidp__sgemm_packed_a_floats(kern, WINO_MB, c); /* one (chunk, xi) */
    const int64_t chunks = (m + WINO_MB - 1) / WINO_MB;
    float *u = malloc((size_t)(16 * m * c) * sizeof *u);
    /* on huge pages when 2 MB or more, as hidp__conv_pack_weights's (ResNet-50's 14x14 layers:
     * 4 MB each); the old packing (another kernel's) is not kept */
    float *packed = hidp__huge_alloc((size_t)chunks * 16 * per * sizeof *packed);
    if (!u || !packed) {
        free(u);
        free(packed);
        return HIDP_ENOMEM;
    }
    free(p->packed);
    for (int64_t mi = 0; mi < m; mi++)
        for (int64_t ci = 0; ci < c; ci++) {
            const float *k = w + (mi * c + ci) * 9;
            float t[4][3];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    u[((i * 4 + j) * m + mi) * c + ci] =
                        t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
        }
    for (int64_t cb = 0; cb < m; cb += WINO_MB) {
        const int64_t rows = m - cb < WINO_MB ? m - cb : WINO_MB;
        for (int xi = 0; xi < 16; xi++)
            hidp__sgemm_pack_a(kern, u + (xi * m + cb) * c, c, rows, c,
                               packed + (size_t)(cb / WINO_MB * 16 + xi) * per);
    }
    free(u);
    p->packed = packed;
    p->packed_group = per;
    p->kern = kern;
    return 0;
}

/* Copies input rows [2 * ty0 - pt, + rows) of the c planes at x into band (band_w floats per
 * row), zero where they fall in the padding or past the input. */
static void fill_band(const hidp__conv_geom *g, const float *x, int64_t ty0, int64_t rows,
                      float *band)
{
    const int64_t wp = band_w(g);
    const int64_t lo = g->pl < wp ? g->pl : wp;                        /* input columns */
    const int64_t hi = g->pl + g->w < wp ? g->pl + g->w : wp;
    for (int64_t c = 0; c < g->cg; c++)
        for (int64_t r = 0; r < rows; r++) {
            float *dst = band + (c * rows + r) * wp;
            const int64_t ih = 2 * ty0 - g->pt + r;
            if (ih < 0 || ih >= g->h) {
                memset(dst, 0, (size_t)wp * sizeof *dst);
                continue;
            }
            memset(dst, 0, (size_t)lo * sizeof *dst);
            memcpy(dst + lo, x + (c * g->h + ih) * g->w, (size_t)(hi - lo) * sizeof *dst);
            memset(dst + hi, 0, (size_t)(wp - hi) * sizeof *dst);
        }
}

/* Tiles per chunk of the transforms' stack arrays. */
#define WINO_CHUNK 64

/* V_xi[c, t] = (B^T d B)[xi] for the nr x tw tiles of the band; V row (xi, c) is tb floats.
 * First B^T d for a whole band row of columns at once (rows combined: four contiguous sweeps),
 * then (.) B per tile (columns combined: stride-2 reads, contiguous writes), so both vectorise. */
static void input_transform(const hidp__conv_geom *g, const float *band, int64_t nr, int64_t tb,
                            float *v)
{
    const int64_t tw = tiles_w(g), wp = band_w(g), rows = 2 * nr + 2, plane = g->cg * tb;
    float a[4][2 * WINO_CHUNK + 2];
    for (int64_t c = 0; c < g->cg; c++)
        for (int64_t ty = 0; ty < nr; ty++) {
            const float *r0 = band + (c * rows + 2 * ty) * wp;
            const float *r1 = r0 + wp, *r2 = r1 + wp, *r3 = r2 + wp;
            float *out = v + c * tb + ty * tw;
            for (int64_t t0 = 0; t0 < tw; t0 += WINO_CHUNK) {
                const int64_t nt = tw - t0 < WINO_CHUNK ? tw - t0 : WINO_CHUNK;
                const int64_t j0 = 2 * t0, nj = 2 * nt + 2;
                for (int64_t j = 0; j < nj; j++) {
                    a[0][j] = r0[j0 + j] - r2[j0 + j];
                    a[1][j] = r1[j0 + j] + r2[j0 + j];
                    a[2][j] = r2[j0 + j] - r1[j0 + j];
                    a[3][j] = r1[j0 + j] - r3[j0 + j];
                }
                for (int i = 0; i < 4; i++) {
                    const float *ai = a[i];
                    float *restrict o0 = out + (i * 4 + 0) * plane + t0;
                    float *restrict o1 = out + (i * 4 + 1) * plane + t0;
                    float *restrict o2 = out + (i * 4 + 2) * plane + t0;
                    float *restrict o3 = out + (i * 4 + 3) * plane + t0;
                    for (int64_t t = 0; t < nt; t++) {
                        o0[t] = ai[2 * t] - ai[2 * t + 2];
                        o1[t] = ai[2 * t + 1] + ai[2 * t + 2];
                        o2[t] = ai[2 * t + 2] - ai[2 * t + 1];
                        o3[t] = ai[2 * t + 1] - ai[2 * t + 3];
                    }
                }
            }
        }
}

/* Output channel m's pixels of the block's tiles: Y = A^T M A from the 16 GEMM results at mb
 * (xi after xi, xi_stride floats apart, tw per tile row), plus bias and residual, for the
 * output rows of [h0, h1) the block holds; then the activation on them. Per output row: the
 * column sums of A^T M over a chunk of tiles (contiguous sweeps), then the two pixels of each
 * tile (stride-2 writes). */
static void output_transform(const hidp__conv_geom *g, const hidp__conv_io *io, int64_t n,
                             int64_t m, const float *mb, int64_t xi_stride, int64_t ty0,
                             int64_t nr, int64_t h0, int64_t h1)
{
    const int64_t tw = tiles_w(g), plane = g->oh * g->ow;
    const float bias = io->b ? io->b[m] : 0.0f;
    float *y = io->y + (n * g->m + m) * plane;
    const float *res = io->res ? io->res + (n * g->m + m) * plane : NULL;
    float t[4][WINO_CHUNK], px[2 * WINO_CHUNK];
    int64_t first = -1, last = -1;
    for (int64_t ty = 0; ty < nr; ty++) {
        for (int half = 0; half < 2; half++) {
            const int64_t oy = 2 * (ty0 + ty) + half;
            if (oy < h0 || oy >= h1 || oy >= g->oh)
                continue;
            if (first < 0)
                first = oy;
            last = oy;
            float *yr = y + oy * g->ow;
            const float *rr = res ? res + oy * g->ow : NULL;
            for (int64_t t0 = 0; t0 < tw; t0 += WINO_CHUNK) {
                const int64_t nt = tw - t0 < WINO_CHUNK ? tw - t0 : WINO_CHUNK;
                const float *s = mb + ty * tw + t0;
                /* rows of A^T M: half 0 sums M rows 0, 1, 2; half 1 takes 1 - 2 - 3 */
                for (int k = 0; k < 4; k++) {
                    const float *restrict m0 = s + (0 * 4 + k) * xi_stride;
                    const float *restrict m1 = s + (1 * 4 + k) * xi_stride;
                    const float *restrict m2 = s + (2 * 4 + k) * xi_stride;
                    const float *restrict m3 = s + (3 * 4 + k) * xi_stride;
                    float *restrict tk = t[k];
                    if (half)
                        for (int64_t i = 0; i < nt; i++)
                            tk[i] = m1[i] - m2[i] - m3[i];
                    else
                        for (int64_t i = 0; i < nt; i++)
                            tk[i] = m0[i] + m1[i] + m2[i];
                }
                for (int64_t i = 0; i < nt; i++) {
                    px[2 * i] = t[0][i] + t[1][i] + t[2][i] + bias;
                    px[2 * i + 1] = t[1][i] - t[2][i] - t[3][i] + bias;
                }
                const int64_t ox = 2 * t0, cnt = 2 * nt < g->ow - ox ? 2 * nt : g->ow - ox;
                if (rr)
                    for (int64_t i = 0; i < cnt; i++)
                        yr[ox + i] = px[i] + rr[ox + i];
                else
                    memcpy(yr + ox, px, (size_t)cnt * sizeof *yr);
            }
        }
    }
    if (first >= 0 && io->act->kind != HIDP__ACT_NONE)
        hidp__act_apply(io->act, y + first * g->ow, (size_t)((last - first + 1) * g->ow));
}

/* Asks for output channel m's rows of the block (those of [h0, h1) that tiles [ty0, ty0 + nr)
 * cover) owned for writing, while the channel before is transformed (ops/prefetch.h): on two
 * cores that share no cache, ResNet-50 ran 5.2% faster (in-process A/B). */
static void claim_rows(const hidp__conv_geom *g, const hidp__conv_io *io, int64_t n, int64_t m,
                       int64_t ty0, int64_t nr, int64_t h0, int64_t h1)
{
    int64_t lo = 2 * ty0 > h0 ? 2 * ty0 : h0, hi = 2 * (ty0 + nr) < h1 ? 2 * (ty0 + nr) : h1;
    hi = hi < g->oh ? hi : g->oh;
    if (lo < hi)
        hidp__prefetch_for_write(io->y + (n * g->m + m) * g->oh * g->ow + lo * g->ow,
                                 (hi - lo) * g->ow);
}

void hidp__conv_winograd(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                         float *scratch)
{
    if (s.c0 >= s.c1 || s.h0 >= s.h1)
        return;
    const hidp__sgemm_kernel *kern = io->p->kern;
    const wino_parts w = parts(g, kern);
    float *v = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *band = v + w.v, *mbuf = band + w.band, *gs = mbuf + w.mbuf;
    const int64_t tw = tiles_w(g), rows = block_rows(g), mr = kern->mr;
    const int64_t ty_end = (s.h1 + 1) / 2;
    for (int64_t n = 0; n < g->n; n++) {
        const float *x = io->x + n * g->c * g->h * g->w;
        for (int64_t ty0 = s.h0 / 2; ty0 < ty_end; ty0 += rows) {
            const int64_t nr = rows < ty_end - ty0 ? rows : ty_end - ty0, tb = nr * tw;
            fill_band(g, x, ty0, 2 * nr + 2, band);
            input_transform(g, band, nr, tb, v);
            const int64_t xi_stride = (WINO_MB + mr) * tb;
            /* the weights' chunks of WINO_MB channels that meet [c0, c1) */
            for (int64_t cb = s.c0 / WINO_MB * WINO_MB; cb < s.c1; cb += WINO_MB) {
                const int64_t m0 = cb > s.c0 ? cb : s.c0;
                const int64_t m1 = cb + WINO_MB < s.c1 ? cb + WINO_MB : s.c1;
                const int64_t lead = (m0 - cb) % mr; /* rows of the first panel before m0 */
                const int64_t first = m0 - cb - lead; /* chunk row of that panel */
                claim_rows(g, io, n, m0, ty0, nr, s.h0, s.h1); /* during the 16 GEMMs */
                for (int xi = 0; xi < 16; xi++) {
                    const hidp__sgemm_matrix b = {v + xi * g->cg * tb, tb};
                    /* rows [m0, m1) land at mbuf + xi * xi_stride + (mr + m - m0) * tb */
                    const hidp__sgemm_call call = {
                        .kern = kern, .m = m1 - m0 + lead, .n = tb, .k = g->cg,
                        .a_packed = io->p->packed +
                                    (size_t)(cb / WINO_MB * 16 + xi) * io->p->packed_group +
                                    first * g->cg,
                        .b_src = &b,
                        .c = mbuf + xi * xi_stride + (mr - lead) * tb, .ldc = tb};
                    hidp__sgemm(&call, lead, m1 - m0 + lead, gs);
                }
                for (int64_t m = m0; m < m1; m++) {
                    if (m + 1 < m1)
                        claim_rows(g, io, n, m + 1, ty0, nr, s.h0, s.h1);
                    output_transform(g, io, n, m, mbuf + (mr + m - m0) * tb, xi_stride, ty0, nr,
                                     s.h0, s.h1);
                }
            }
        }
    }
}
