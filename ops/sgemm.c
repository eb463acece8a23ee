/*
 * sgemm.c - the blocked driver of hidp's GEMM (BLIS's loop order, one level of it): for each
 * block of NC columns and KC rows of B, pack the block once (the caller's packer: im2col or a
 * plain copy), then for each MR-row panel of A run the micro-kernel across the block's NR-wide
 * panels. The A panel (MR x KC, 8 KB) stays in L1 and the packed block in L2, so the kernel runs
 * near the core's FMA peak, and A, megabytes in late layers, is read once per block rather than
 * once per NR columns. The bias and ReLU / Clip are applied in registers on the last KC block,
 * before C is stored.
 *
 * Partial tiles (rows past m, columns past n, a row range that starts inside a tile) run the
 * same kernel on a private tile buffer and copy the wanted part out, so the kernel never sees an
 * edge.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "prefetch.h"
#include "sgemm.h"
#include "sgemm_isa.h"

/* Rows of B per packed block: the A panel (MR x KC floats, 8 KB with the AVX-512 tile) stays in
 * L1 beside the B panel the tile streams (KC x NR, 32 KB). */
#ifndef SGEMM_KC
#define SGEMM_KC 256
#endif
/* Columns of B per packed block (a multiple of every NR): the packer's per-call overhead is
 * spread over this many columns; the block (KC x NC floats, 256 KB) stays in L2. */
#ifndef SGEMM_NC
#define SGEMM_NC 288
#endif
/* Largest MR of any kernel (size of the edge path's bias copy). */
#define SGEMM_MAX_MR 32

static const hidp__sgemm_kernel *const kernels[] = {
#if HIDP_HAVE_X86_KERNELS
    &hidp__sgemm_kernel_avx512,
    &hidp__sgemm_kernel_avx2,
#endif
    &hidp__sgemm_kernel_generic,
};

static int cpu_runs(const hidp__sgemm_kernel *k)
{
#if HIDP_HAVE_X86_KERNELS
    if (!strcmp(k->isa, "avx512"))
        return __builtin_cpu_supports("avx512f");
    if (!strcmp(k->isa, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    (void)k;
    return 1;
}

const hidp__sgemm_kernel *hidp__sgemm_find(const char *isa)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (!strcmp(kernels[i]->isa, isa))
            return cpu_runs(kernels[i]) ? kernels[i] : NULL;
    return NULL;
}

const hidp__sgemm_kernel *hidp__sgemm_best(void)
{
    /* Decided once. Two first callers may both decide, with the same answer; the pointer is
     * atomic so that neither reads it half-written (a plain static would be a data race). */
    static _Atomic(const hidp__sgemm_kernel *) best;
    const hidp__sgemm_kernel *k = atomic_load_explicit(&best, memory_order_relaxed);
    if (!k) {
        const char *want = getenv("HIDP_ISA");
        k = want && *want ? hidp__sgemm_find(want) : NULL;
        for (size_t i = 0; !k && i < sizeof kernels / sizeof kernels[0]; i++)
            if (cpu_runs(kernels[i]))
                k = kernels[i];
        atomic_store_explicit(&best, k, memory_order_relaxed);
    }
    return k;
}

/* ---- packing ---- */

size_t hidp__sgemm_packed_a_floats(const hidp__sgemm_kernel *kern, int64_t m, int64_t k)
{
    return (size_t)((m + kern->mr - 1) / kern->mr * kern->mr * k);
}

/* Panel p holds rows [p*mr, p*mr + mr), k-major: for each k its mr values. A block of KC rows
 * of B then meets the contiguous range [k0*mr, (k0+kc)*mr) of every A panel. */
void hidp__sgemm_pack_a(const hidp__sgemm_kernel *kern, const float *a, int64_t lda, int64_t m,
                        int64_t k, float *dst)
{
    const int mr = kern->mr;
    for (int64_t p = 0; p < m; p += mr) {
        const int rows = m - p < mr ? (int)(m - p) : mr;
        for (int64_t kk = 0; kk < k; kk++) {
            for (int i = 0; i < rows; i++)
                dst[kk * mr + i] = a[(p + i) * lda + kk];
            for (int i = rows; i < mr; i++)
                dst[kk * mr + i] = 0.0f;
        }
        dst += mr * k;
    }
}

size_t hidp__sgemm_packed_wt_floats(const hidp__sgemm_kernel *kern, int64_t m, int64_t k)
{
    return (size_t)((m + kern->nr - 1) / kern->nr * kern->nr * k);
}

void hidp__sgemm_pack_wt(const hidp__sgemm_kernel *kern, const float *w, int64_t ldw, int64_t m,
                         int64_t k, float *dst)
{
    const int nr = kern->nr;
    for (int64_t p = 0; p < m; p += nr)
        for (int64_t kk = 0; kk < k; kk++, dst += nr)
            for (int j = 0; j < nr; j++)
                dst[j] = p + j < m ? w[(p + j) * ldw + kk] : 0.0f;
}

void hidp__sgemm_pack_b_matrix(const void *src, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                               int nr, float *dst)
{
    const hidp__sgemm_matrix *b = src;
    for (int64_t j = 0; j < nc; j += nr) {
        const int cols = nc - j < nr ? (int)(nc - j) : nr;
        const float *s = b->p + k0 * b->ld + n0 + j;
        for (int64_t kk = 0; kk < kc; kk++, s += b->ld, dst += nr) {
            memcpy(dst, s, (size_t)cols * sizeof *dst);
            if (cols < nr)
                memset(dst + cols, 0, (size_t)(nr - cols) * sizeof *dst);
        }
    }
}

/* ---- the driver ---- */

static int64_t round_up(int64_t v, int64_t to)
{
    return (v + to - 1) / to * to;
}

size_t hidp__sgemm_tile_floats(const hidp__sgemm_kernel *kern)
{
    const int64_t edge = kern->mr * kern->nr, pair = 2 * kern->tmr * kern->nr;
    return (size_t)(edge > pair ? edge : pair);
}

size_t hidp__sgemm_rows_floats(const hidp__sgemm_kernel *kern, int64_t m)
{
    const size_t tiles = (size_t)((m + kern->mr - 1) / kern->mr + 1) * (size_t)kern->mr *
                         (size_t)kern->nr,
                 one = hidp__sgemm_tile_floats(kern);
    return (tiles > one ? tiles : one) + 16;
}

size_t hidp__sgemm_scratch_floats(const hidp__sgemm_kernel *kern, int64_t k, int64_t n)
{
    const int64_t kc = k < SGEMM_KC ? k : SGEMM_KC;
    const int64_t nc = round_up(n < SGEMM_NC ? n : SGEMM_NC, kern->nr);
    /* + the tile buffer (an edge tile, or two transposed tiles), + slack to align the block to
     * 64 bytes */
    return (size_t)kc * (size_t)nc + hidp__sgemm_tile_floats(kern) + 16;
}

/* What the tile kernel does to the finished tile in registers: clamp to [lo, hi] (ReLU, Clip),
 * then fn (Sigmoid, SiLU). Other activations (fused == 0) are applied to each finished tile. */
typedef struct tile_act {
    float lo, hi;
    int fn, fused;
} tile_act;

static tile_act act_in_tile(const hidp__act *act)
{
    tile_act t = {-INFINITY, INFINITY, HIDP__ACT_NONE, 1};
    const int kind = act ? act->kind : HIDP__ACT_NONE;
    if (kind == HIDP__ACT_RELU) {
        t.lo = 0.0f;
    } else if (kind == HIDP__ACT_CLIP) {
        t.lo = act->alpha;
        t.hi = act->beta;
    } else if (kind == HIDP__ACT_SIGMOID || kind == HIDP__ACT_SILU) {
        t.fn = kind;
    } else if (kind != HIDP__ACT_NONE) {
        t.fused = 0;
    }
    return t;
}

/* Rows [r0, r1) and columns [0, cols) of one tile of C whose kernel result is in buf (row stride
 * nr): the edge path. On the first KC block the kernel overwrites; later blocks accumulate onto
 * what the earlier ones wrote, so that part of C is copied in first. */
static void edge_tile(const hidp__sgemm_kernel *kern, int64_t kc, const float *ap, const float *bp,
                      int64_t ldb, float *c, int64_t ldc, int r0, int r1, int cols, int accumulate,
                      int last, const float *bias, const tile_act *ta, float *buf,
                      const float *res)
{
    const int mr = kern->mr, nr = kern->nr;
    float bias_tile[SGEMM_MAX_MR] = {0};
    if (bias)
        for (int i = r0; i < r1; i++)
            bias_tile[i] = bias[i];
    if (accumulate || res) {
        /* what the product adds to: C's partial sums, or on the first block the residual */
        const float *from = accumulate ? c : res;
        memset(buf, 0, (size_t)mr * (size_t)nr * sizeof *buf);
        for (int i = r0; i < r1; i++)
            memcpy(buf + i * nr, from + i * ldc, (size_t)cols * sizeof *buf);
        accumulate = 1;
    }
    kern->tile(kc, ap, bp, ldb, buf, nr, accumulate, last, bias ? bias_tile : NULL, ta->lo, ta->hi,
               ta->fn);
    for (int i = r0; i < r1; i++)
        memcpy(c + i * ldc, buf + i * nr, (size_t)cols * sizeof *buf);
}

/* Whether prefetch_range asks for anything, decided once: measured on two VMs. On an AMD EPYC it
 * took ResNet-50 on one core from 41.5 to 40.3 ms and ResNet-18 from 17.2 to 16.3. On an Intel
 * Xeon (family 6, model 207) it made ResNet-50 4.4%, ResNet-18 3.5% and MobileNet-V2 3.5% slower
 * (67.8 -> 64.8 ms without it, three runs each, alternating): there the L2 streamer follows the
 * packed weights' sequential stream by itself, and the prefetches' bursts stalled the core
 * (perf put 85% of the driver's samples on them). So off on Intel's x86 and on elsewhere, and
 * HIDP_WEIGHT_PREFETCH=0 or 1 decides. (Every worker asks; two first callers find the same.) */
static int weight_prefetch(void)
{
    static atomic_int decided = -1;
    int on = atomic_load_explicit(&decided, memory_order_relaxed);
    if (on < 0) {
        const char *v = getenv("HIDP_WEIGHT_PREFETCH");
        if (v && *v)
            on = atoi(v) != 0;
        else
#if defined(__x86_64__) || defined(__i386__)
            on = !__builtin_cpu_is("intel");
#else
            on = 1;
#endif
        atomic_store_explicit(&decided, on, memory_order_relaxed);
    }
    return on;
}

/* Asks for n floats at p to be brought towards L2 (a cache line every 16 floats), where
 * weight_prefetch says so. The next panel of A is prefetched while the current one runs: late
 * layers stream megabytes of packed weights from memory once per inference, in streams too short
 * for some cores' hardware prefetcher to ramp up (on the AMD VM, ResNet-50's layers ran 0.2-0.3
 * ms slower in sequence than alone). */
static void prefetch_range(const float *p, int64_t n)
{
    if (!weight_prefetch())
        return;
    for (int64_t i = 0; i < n; i += 16)
        __builtin_prefetch(p + i, 0, 2);
}

/* Copies columns [0, cols) of rows [r0, r1) of a finished tile (buf, row stride nr) to C, whose
 * column q0 the tile's column 0 is; with c_wide, only the columns that are real outputs. With
 * load set, copies the other way, from C's layout (at c_rows) into the tile. */
static void move_tile(const hidp__sgemm_call *call, float *buf, int nr, float *c_rows, int64_t q0,
                      int cols, int r0, int r1, int load)
{
    for (int i = r0; i < r1; i++) {
        float *t = buf + i * nr, *cr = c_rows + i * call->ldc;
        if (call->c_wide <= 0) {
            if (load)
                memcpy(t, cr + q0, (size_t)cols * sizeof *t);
            else
                memcpy(cr + q0, t, (size_t)cols * sizeof *t);
            continue;
        }
        for (int j = 0; j < cols;) {
            const int64_t q = q0 + j, row = q / call->c_wide, col = q % call->c_wide;
            int run = (int)(call->c_wide - col);
            if (run > cols - j)
                run = cols - j;
            if (col < call->c_cols) {
                const int64_t keep = call->c_cols - col < run ? call->c_cols - col : run;
                float *at = cr + row * call->c_cols + col;
                if (load)
                    memcpy(t + j, at, (size_t)keep * sizeof *t);
                else
                    memcpy(at, t + j, (size_t)keep * sizeof *t);
            }
            j += run;
        }
    }
}

/* B at shifted rows (hidp__sgemm_rows): nothing to pack. Column panel by column panel, K in
 * blocks of SGEMM_KC, and within a block every row panel of A against the same KC x nr rows of
 * B, which stay in L1 while the panels of A (mr x KC each) stream from L2; the partial sums wait
 * in the tile buffer (a tile per row panel), which also takes care of partial tiles and wide
 * columns when they are stored. (Row panels outside with K unblocked streamed the band from L2
 * for every tile: ResNet-50's 3x3/2 conv on 56x56, K = 1152, ran at 95 GFLOP/s on one core.) */
static void sgemm_rows(const hidp__sgemm_call *call, int64_t m0, int64_t m1, const tile_act *ta,
                       float *buf)
{
    const hidp__sgemm_kernel *kern = call->kern;
    const int mr = kern->mr, nr = kern->nr;
    const int64_t k = call->k, p0 = m0 / mr * mr;
    float bias_tile[SGEMM_MAX_MR];
    for (int64_t j = 0; j < call->n; j += nr) {
        const int cols = call->n - j < nr ? (int)(call->n - j) : nr;
        const float *bp = call->b_rows->base + j;
        for (int64_t k0 = 0; k0 < k; k0 += SGEMM_KC) {
            const int64_t kc = k - k0 < SGEMM_KC ? k - k0 : SGEMM_KC;
            const int first = k0 == 0, last = k0 + kc == k;
            for (int64_t p = p0; p < m1; p += mr) {
                const int r0 = p < m0 ? (int)(m0 - p) : 0;
                const int r1 = p + mr > m1 ? (int)(m1 - p) : mr;
                float *t = buf + (p - p0) * nr;
                const float *ap = call->a_packed + p * k + k0 * mr;
                if (j == 0 && p + mr < m1) /* the weights' first pass comes from memory */
                    prefetch_range(ap + mr * k, mr * kc);
                if (first && call->res) /* the residual, where the product will land */
                    move_tile(call, t, nr, (float *)(call->res + p * call->ldc), j, cols, r0, r1,
                              1);
                if (last)
                    for (int i = 0; i < mr; i++)
                        bias_tile[i] = call->bias && i >= r0 && i < r1 ? call->bias[p + i] : 0.0f;
                kern->tile_rows(kc, ap, bp, call->b_rows->off + k0, t, nr,
                                !first || call->res != NULL, last, last ? bias_tile : NULL, ta->lo,
                                ta->hi, ta->fn);
                if (!last)
                    continue;
                if (!ta->fused)
                    for (int i = r0; i < r1; i++)
                        hidp__act_apply(call->act, t + i * nr, (size_t)cols);
                move_tile(call, t, nr, call->c + p * call->ldc, j, cols, r0, r1, 0);
            }
        }
    }
}

int hidp__sgemm_t_fits(const hidp__sgemm_kernel *kern, int64_t n, int64_t c_wide, int64_t c_cols)
{
    if (!kern->tile_t || n <= 0)
        return 0;
    if (c_wide <= 0)
        return n % kern->tmr == 0;
    return c_cols % kern->tmr == 0 && n >= c_cols && (n - c_cols) % c_wide == 0;
}

/* Channels [c_lo, c_hi) of panel p of one finished transposed tile (buf: tmr rows of nr, pixel
 * by pixel), whose first output is out0: bias, residual and activation, then into C. */
static void store_t_tile(const hidp__sgemm_call *call, const float *buf, int64_t p, int64_t c_lo,
                         int64_t c_hi, int64_t out0, const tile_act *ta)
{
    const int tmr = call->kern->tmr, nr = call->kern->nr;
    if (ta->fn == HIDP__ACT_NONE && ta->fused) {
        call->kern->store_t(buf, c_lo, c_hi, call->c + p * call->ldc + out0, call->ldc,
                            call->bias ? call->bias + p : NULL,
                            call->res ? call->res + p * call->ldc + out0 : NULL, ta->lo, ta->hi);
        return;
    }
    float t[SGEMM_MAX_MR];
    for (int64_t c = c_lo; c < c_hi; c++) {
        const int64_t ch = p + c;
        const float bias = call->bias ? call->bias[ch] : 0.0f;
        const float *res = call->res ? call->res + ch * call->ldc + out0 : NULL;
        for (int i = 0; i < tmr; i++) {
            float v = buf[i * nr + c] + bias + (res ? res[i] : 0.0f);
            v = v < ta->lo ? ta->lo : v;
            t[i] = v > ta->hi ? ta->hi : v;
        }
        if (ta->fn != HIDP__ACT_NONE || !ta->fused)
            hidp__act_apply(call->act, t, (size_t)tmr);
        memcpy(call->c + ch * call->ldc + out0, t, (size_t)tmr * sizeof *t);
    }
}

/* The transposed tile over every whole run of tmr real outputs (hidp__sgemm_t_fits), channel
 * panel by channel panel, two runs at a time where the kernel can: K is not blocked (the panel
 * of packed weights, K x nr, streams from L2 while the accumulators stay in registers); bias,
 * residual and activation are applied while the tile is transposed into C. */
static void sgemm_t(const hidp__sgemm_call *call, int64_t m0, int64_t m1, const tile_act *ta,
                    float *buf)
{
    const hidp__sgemm_kernel *kern = call->kern;
    const int tmr = kern->tmr, nr = kern->nr;
    const hidp__sgemm_matrix *mat = call->b_rows ? NULL : call->b_src;
    const int wide = call->c_wide > 0;
    const int64_t cols = wide ? call->c_cols : call->n;
    const int64_t rows = wide ? (call->n - call->c_cols) / call->c_wide + 1 : 1;
    const int64_t per_row = cols / tmr, tiles = rows * per_row, panel = nr * call->k;
    const int pair = kern->tile_t2 != NULL;
    for (int64_t p = m0 / nr * nr; p < m1; p += nr) {
        const float *wt = call->a_packed + p * call->k;
        const int64_t c_lo = m0 > p ? m0 - p : 0, c_hi = m1 - p < nr ? m1 - p : nr;
        /* the next panel of weights, a share before each tile */
        const int64_t share = (panel / tiles + 15) / 16 * 16;
        int64_t ahead = p + nr < m1 ? 0 : panel;
        for (int64_t tl = 0; tl < tiles;) {
            const int two = pair && tl + 1 < tiles;
            int64_t q[2], out0[2];
            for (int h = 0; h <= two; h++) {
                const int64_t r = (tl + h) / per_row, x0 = (tl + h) % per_row * tmr;
                q[h] = (wide ? r * call->c_wide : 0) + x0;
                out0[h] = r * cols + x0;
            }
            for (int h = 0; h <= two && ahead < panel; h++) {
                prefetch_range(wt + panel + ahead, share < panel - ahead ? share : panel - ahead);
                ahead += share;
            }
            /* the tiles' outputs, claimed while they compute (ops/prefetch.h): on two cores
             * that share no cache, ResNet-50 ran 2.4% faster (in-process A/B) */
            for (int h = 0; h <= two; h++)
                for (int64_t c = c_lo; c < c_hi; c++)
                    hidp__prefetch_for_write(call->c + (p + c) * call->ldc + out0[h], tmr);
            const float *base = call->b_rows ? call->b_rows->base : mat->p;
            const int64_t *off = call->b_rows ? call->b_rows->off : NULL;
            const int64_t lda = call->b_rows ? 0 : mat->ld;
            if (two)
                kern->tile_t2(call->k, base + q[0], q[1] - q[0], off, lda, wt, buf);
            else
                kern->tile_t(call->k, base + q[0], off, lda, wt, buf, 0);
            for (int h = 0; h <= two; h++)
                store_t_tile(call, buf + h * tmr * nr, p, c_lo, c_hi, out0[h], ta);
            tl += 1 + two;
        }
    }
}

void hidp__sgemm(const hidp__sgemm_call *call, int64_t m0, int64_t m1, float *scratch)
{
    const hidp__sgemm_kernel *kern = call->kern;
    const int mr = kern->mr, nr = kern->nr;
    const int64_t k = call->k, n = call->n;
    if (m0 >= m1 || n <= 0)
        return;
    const tile_act ta = act_in_tile(call->act);
    if (call->transposed) {
        sgemm_t(call, m0, m1, &ta, (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63));
        return;
    }
    if (call->b_rows) {
        sgemm_rows(call, m0, m1, &ta,
                   (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63));
        return;
    }
    const hidp__sgemm_matrix *in_place = call->pack_b ? NULL : call->b_src;
    float *bpack = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *edge = bpack + (k < SGEMM_KC ? k : SGEMM_KC) * round_up(n < SGEMM_NC ? n : SGEMM_NC, nr);

    for (int64_t n0 = 0; n0 < n; n0 += SGEMM_NC) {
        const int64_t nc = n - n0 < SGEMM_NC ? n - n0 : SGEMM_NC;
        for (int64_t k0 = 0; k0 < k; k0 += SGEMM_KC) {
            const int64_t kc = k - k0 < SGEMM_KC ? k - k0 : SGEMM_KC;
            const int first = k0 == 0, last = k0 + kc == k;
            const int64_t tail = nc % nr; /* columns in a partial last panel */
            if (!in_place)
                call->pack_b(call->b_src, k0, kc, n0, nc, nr, bpack);
            else if (tail) /* the kernel would read past the matrix's last column */
                hidp__sgemm_pack_b_matrix(in_place, k0, kc, n0 + nc - tail, tail, nr, bpack);
            /* Row panels outside: a panel of A (mr x kc) stays in L1 while its tiles sweep the
             * packed block in L2, and A is read once per block, not once per nr columns (the
             * weights of late layers are megabytes, read from memory). */
            for (int64_t p = m0 / mr * mr; p < m1; p += mr) {
                const float *ap = call->a_packed + p * k + k0 * mr;
                if (p + mr < m1)
                    prefetch_range(ap + mr * k, mr * kc);
                const float *bias = call->bias && last ? call->bias + p : NULL;
                const int r0 = p < m0 ? (int)(m0 - p) : 0;
                const int r1 = p + mr > m1 ? (int)(m1 - p) : mr;
                for (int64_t j = 0; j < nc; j += nr) {
                    const int cols = nc - j < nr ? (int)(nc - j) : nr;
                    const float *bp = bpack + j * kc;
                    int64_t ldb = nr;
                    if (in_place && cols == nr) {
                        bp = in_place->p + k0 * in_place->ld + n0 + j;
                        ldb = in_place->ld;
                    } else if (in_place) {
                        bp = bpack;
                    }
                    float *c = call->c + p * call->ldc + n0 + j;
                    const float *res = first && call->res ? call->res + p * call->ldc + n0 + j
                                                          : NULL;
                    if (r0 == 0 && r1 == mr && cols == nr) {
                        /* the first block adds to the residual, copied where C's tile will be */
                        if (res && res != c)
                            for (int i = 0; i < mr; i++)
                                memcpy(c + i * call->ldc, res + i * call->ldc,
                                       (size_t)nr * sizeof *c);
                        kern->tile(kc, ap, bp, ldb, c, call->ldc, !first || res, last, bias, ta.lo,
                                   ta.hi, ta.fn);
                    } else {
                        edge_tile(kern, kc, ap, bp, ldb, c, call->ldc, r0, r1, cols, !first,
                                  last, bias, &ta, edge, res);
                    }
                    if (last && !ta.fused)
                        for (int i = r0; i < r1; i++)
                            hidp__act_apply(call->act, c + i * call->ldc, (size_t)cols);
                }
            }
        }
    }
}

size_t hidp__sgemm_plain_scratch_floats(const hidp__sgemm_kernel *kern, int64_t m, int64_t n,
                                        int64_t k)
{
    return hidp__sgemm_packed_a_floats(kern, m, k) + hidp__sgemm_scratch_floats(kern, k, n);
}

void hidp__sgemm_plain(const hidp__sgemm_kernel *kern, int64_t m, int64_t n, int64_t k,
                       const float *a, const float *b, float *c, float *scratch)
{
    hidp__sgemm_pack_a(kern, a, k, m, k, scratch);
    const hidp__sgemm_matrix bm = {b, n};
    const hidp__sgemm_call call = {.kern = kern, .m = m, .n = n, .k = k, .a_packed = scratch,
                                   .pack_b = hidp__sgemm_pack_b_matrix, .b_src = &bm, .c = c,
                                   .ldc = n};
    hidp__sgemm(&call, 0, m, scratch + hidp__sgemm_packed_a_floats(kern, m, k));
}
