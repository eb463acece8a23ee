/*
 * test_sgemm.c - hidp__sgemm against a plain triple loop, for every micro-kernel this CPU runs:
 * shapes with edges in m, n and k (across the KC and NC blocks), row ranges that start and end
 * inside a tile, bias, and each activation (fused in the tile or applied after); B packed, read
 * in place, or read at shifted rows into a wide C.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../ops/op.h"
#include "../ops/prefetch.h"
#include "../ops/sgemm.h"

static unsigned rng = 12345;
static float frand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float act1(const hidp__act *a, float v)
{
    float one = v;
    hidp__act_apply(a, &one, 1);
    return one;
}

/* One case: returns the max |diff| of rows [m0, m1) and checks the rows outside are untouched. */
static double run_case(const hidp__sgemm_kernel *kern, int64_t m, int64_t n, int64_t k,
                       int64_t m0, int64_t m1, int with_bias, const hidp__act *act, int in_place,
                       int with_res, int *clobbered)
{
    const int64_t ldc = n + 3; /* C wider than n: the kernel must respect ldc */
    float *a = malloc((size_t)(m * k) * sizeof *a), *b = malloc((size_t)(k * n) * sizeof *b);
    float *c = malloc((size_t)(m * ldc) * sizeof *c), *bias = malloc((size_t)m * sizeof *bias);
    float *ap = malloc(hidp__sgemm_packed_a_floats(kern, m, k) * sizeof *ap);
    float *scratch = malloc(hidp__sgemm_scratch_floats(kern, k, n) * sizeof *scratch);
    float *res = malloc((size_t)(m * ldc) * sizeof *res);
    for (int64_t i = 0; i < m * ldc; i++)
        res[i] = frand();
    for (int64_t i = 0; i < m * k; i++)
        a[i] = frand();
    for (int64_t i = 0; i < k * n; i++)
        b[i] = frand();
    for (int64_t i = 0; i < m; i++)
        bias[i] = frand();
    for (int64_t i = 0; i < m * ldc; i++)
        c[i] = 1234.5f;
    hidp__sgemm_pack_a(kern, a, k, m, k, ap);
    const hidp__sgemm_matrix bm = {b, n};
    const hidp__sgemm_call call = {.kern = kern, .m = m, .n = n, .k = k, .a_packed = ap,
                                   .pack_b = in_place ? NULL : hidp__sgemm_pack_b_matrix,
                                   .b_src = &bm, .c = c, .ldc = ldc,
                                   .bias = with_bias ? bias : NULL, .act = act,
                                   .res = with_res ? res : NULL};
    hidp__sgemm(&call, m0, m1, scratch);
    double worst = 0;
    *clobbered = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++) {
            const float got = c[i * ldc + j];
            if (i < m0 || i >= m1 || j >= n) {
                *clobbered |= got != 1234.5f;
                continue;
            }
            double s = (with_bias ? bias[i] : 0.0) + (with_res ? res[i * ldc + j] : 0.0), mag = 1.0;
            for (int64_t kk = 0; kk < k; kk++) {
                s += (double)a[i * k + kk] * b[kk * n + j];
                mag += fabs((double)a[i * k + kk] * b[kk * n + j]);
            }
            const float want = act ? act1(act, (float)s) : (float)s;
            /* float rounding grows with the sum of |products|, not with the result */
            const double d = fabs((double)got - want) / mag;
            if (!(d <= worst))
                worst = isnan(d) ? INFINITY : d;
        }
    free(a), free(b), free(c), free(bias), free(ap), free(scratch), free(res);
    return worst;
}

/* B at shifted rows (row kk at base + off[kk], offsets in random order) with wide C: column q
 * kept only when q % wide < cols, at (q / wide) * cols + q % wide. */
static double rows_case(const hidp__sgemm_kernel *kern, int64_t m, int64_t k, int64_t wide,
                        int64_t cols, int64_t out_rows, int *clobbered)
{
    const int64_t n = (out_rows - 1) * wide + cols, span = n + kern->nr, ohw = out_rows * cols;
    float *base = malloc((size_t)(k * span) * sizeof *base), *a = malloc((size_t)(m * k) * 4);
    float *c = malloc((size_t)(m * (ohw + 1)) * sizeof *c), *bias = malloc((size_t)m * 4);
    float *ap = malloc(hidp__sgemm_packed_a_floats(kern, m, k) * sizeof *ap);
    float *tile = malloc(hidp__sgemm_rows_floats(kern, m) * sizeof *tile);
    int64_t *off = malloc((size_t)k * sizeof *off);
    for (int64_t i = 0; i < k * span; i++)
        base[i] = frand();
    for (int64_t i = 0; i < m * k; i++)
        a[i] = frand();
    for (int64_t i = 0; i < m; i++)
        bias[i] = frand();
    for (int64_t i = 0; i < k; i++)
        off[i] = ((i * 7) % k) * span; /* a permutation of the row starts */
    for (int64_t i = 0; i < m * (ohw + 1); i++)
        c[i] = 1234.5f;
    hidp__sgemm_pack_a(kern, a, k, m, k, ap);
    const hidp__sgemm_rows b = {base, off};
    const hidp__act relu = {HIDP__ACT_RELU, 0, 0};
    float *res = malloc((size_t)(m * (ohw + 1)) * sizeof *res);
    for (int64_t i = 0; i < m * (ohw + 1); i++)
        res[i] = frand();
    const hidp__sgemm_call call = {.kern = kern, .m = m, .n = n, .k = k, .a_packed = ap,
                                   .b_rows = &b, .c = c, .ldc = ohw + 1, .c_wide = wide,
                                   .c_cols = cols, .bias = bias, .act = &relu, .res = res};
    hidp__sgemm(&call, 0, m, tile);
    double worst = 0;
    *clobbered = 0;
    for (int64_t i = 0; i < m; i++) {
        *clobbered |= c[i * (ohw + 1) + ohw] != 1234.5f;
        for (int64_t q = 0; q < n; q++) {
            if (q % wide >= cols)
                continue;
            double sum = bias[i] + res[i * (ohw + 1) + q / wide * cols + q % wide], mag = 1.0;
            for (int64_t kk = 0; kk < k; kk++) {
                sum += (double)a[i * k + kk] * base[off[kk] + q];
                mag += fabs((double)a[i * k + kk] * base[off[kk] + q]);
            }
            const double want = sum > 0 ? sum : 0;
            const double d = fabs(c[i * (ohw + 1) + q / wide * cols + q % wide] - want) / mag;
            if (!(d <= worst))
                worst = isnan(d) ? INFINITY : d;
        }
    }
    free(base), free(a), free(c), free(bias), free(ap), free(tile), free(off), free(res);
    return worst;
}

/* The transposed tile: weights packed channel-major, B at shifted rows into a wide C (wide > 0)
 * or a plain matrix read in place (wide == 0), rows [m0, m1), with act (SiLU: the driver applies
 * it; ReLU: the kernel's store clamps) after bias and residual when extras, else nothing added. */
static double transposed_case(const hidp__sgemm_kernel *kern, int64_t m, int64_t k, int64_t wide,
                              int64_t cols, int64_t out_rows, int64_t m0, int64_t m1, int act,
                              int extras, int *clobbered)
{
    const int64_t n = wide ? (out_rows - 1) * wide + cols : cols * out_rows;
    const int64_t span = n + kern->nr, ohw = out_rows * cols, ldc = ohw + 1;
    float *base = malloc((size_t)(k * span) * sizeof *base), *a = malloc((size_t)(m * k) * 4);
    float *c = malloc((size_t)(m * ldc) * sizeof *c), *bias = malloc((size_t)m * 4);
    float *res = malloc((size_t)(m * ldc) * sizeof *res);
    float *wt = malloc(hidp__sgemm_packed_wt_floats(kern, m, k) * sizeof *wt);
    float *tile = malloc((size_t)(kern->nr * 32 + 16) * sizeof *tile);
    int64_t *off = malloc((size_t)k * sizeof *off);
    for (int64_t i = 0; i < k * span; i++)
        base[i] = frand();
    for (int64_t i = 0; i < m * k; i++)
        a[i] = frand();
    for (int64_t i = 0; i < m; i++)
        bias[i] = frand();
    for (int64_t i = 0; i < k; i++)
        off[i] = ((i * 5) % k) * span;
    for (int64_t i = 0; i < m * ldc; i++) {
        c[i] = 1234.5f;
        res[i] = frand();
    }
    hidp__sgemm_pack_wt(kern, a, k, m, k, wt);
    const hidp__sgemm_rows b = {base, off};
    const hidp__sgemm_matrix bm = {base, span}; /* row kk at base + kk * span */
    const hidp__act activation = {act, 0, 0};
    const hidp__sgemm_call call = {.kern = kern,
                                   .m = m,
                                   .n = n,
                                   .k = k,
                                   .a_packed = wt,
                                   .b_rows = wide ? &b : NULL,
                                   .b_src = &bm,
                                   .c = c,
                                   .ldc = ldc,
                                   .c_wide = wide,
                                   .c_cols = cols,
                                   .bias = extras ? bias : NULL,
                                   .act = &activation,
                                   .res = extras ? res : NULL,
                                   .transposed = 1};
    hidp__sgemm(&call, m0, m1, tile);
    double worst = 0;
    *clobbered = 0;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t o = 0; o < ohw; o++) {
            const float got = c[i * ldc + o];
            if (i < m0 || i >= m1) {
                *clobbered |= got != 1234.5f;
                continue;
            }
            const int64_t q = wide ? o / cols * wide + o % cols : o;
            double sum = extras ? bias[i] + res[i * ldc + o] : 0.0, mag = 1.0;
            for (int64_t kk = 0; kk < k; kk++) {
                const double bv = wide ? base[off[kk] + q] : base[kk * span + q];
                sum += a[i * k + kk] * bv;
                mag += fabs(a[i * k + kk] * bv);
            }
            const double want = act == HIDP__ACT_SILU   ? sum / (1 + exp(-sum))
                                : act == HIDP__ACT_RELU ? fmax(sum, 0.0)
                                                        : sum;
            const double d = fabs(got - want) / mag;
            if (!(d <= worst))
                worst = isnan(d) ? INFINITY : d;
        }
        *clobbered |= c[i * ldc + ohw] != 1234.5f;
    }
    free(base), free(a), free(c), free(bias), free(res), free(wt), free(tile), free(off);
    return worst;
}

int main(void)
{
    static const char *const isas[] = {"avx512", "avx2", "generic"};
    static const int64_t shapes[][3] = {
        {1, 1, 1},     {8, 32, 16},   {7, 5, 3},     {64, 196, 576}, {33, 49, 300},
        {16, 290, 40}, {13, 600, 513}, {64, 3136, 27}, {5, 77, 1024},  {24, 12, 256},
    };
    const hidp__act relu = {HIDP__ACT_RELU, 0, 0}, clip = {HIDP__ACT_CLIP, -0.5f, 0.25f},
                    leaky = {HIDP__ACT_LEAKY_RELU, 0.1f, 0}, silu = {HIDP__ACT_SILU, 0, 0},
                    sigmoid = {HIDP__ACT_SIGMOID, 0, 0};
    const hidp__act *acts[] = {NULL, &relu, &clip, &leaky, &silu, &sigmoid};
    const char *act_names[] = {"none", "relu", "clip", "leaky", "silu", "sigmoid"};

    for (int ii = 0; ii < 3; ii++) {
        const hidp__sgemm_kernel *kern = hidp__sgemm_find(isas[ii]);
        if (!kern) {
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0] * 5 + 1; s++)
                tap_skip("this CPU does not run it", "%s kernel", isas[ii]);
            continue;
        }
        tap_ok(kern->mr > 0 && kern->nr > 0, "%s kernel tile %dx%d", kern->isa, kern->mr,
               kern->nr);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            for (int variant = 0; variant < 5; variant++) {
                /* whole; a range cut inside tiles; bias + an activation; B read in place;
                 * a residual added (packed B, a cut range) */
                const int64_t m0 = variant == 1 || variant == 4 ? m / 3 : 0;
                const int64_t m1 = variant == 1 || variant == 4 ? m - m / 4 : m;
                const int ai = (int)((s + (size_t)variant) % 6);
                int clobbered;
                const double d = run_case(kern, m, n, k, m0, m1, variant != 0,
                                          variant >= 2 ? acts[ai] : NULL, variant == 3,
                                          variant == 4, &clobbered);
                tap_ok(d < 1e-6 && !clobbered,
                       "%s m=%lld n=%lld k=%lld rows [%lld,%lld) bias=%d act=%s B %s: max diff / "
                       "sum|a*b| %.3g, outside rows %s",
                       kern->isa, (long long)m, (long long)n, (long long)k, (long long)m0,
                       (long long)m1, variant != 0, variant >= 2 ? act_names[ai] : "none",
                       variant == 3 ? "in place" : variant == 4 ? "packed + residual" : "packed",
                       d,
                       clobbered ? "CLOBBERED" : "untouched");
            }
        }
    }
    for (int ii = 0; ii < 3; ii++) {
        const hidp__sgemm_kernel *kern = hidp__sgemm_find(isas[ii]);
        static const int64_t rc[][5] = {
            {8, 27, 9, 7, 7}, {13, 64, 58, 56, 3}, {5, 300, 16, 14, 14}, {20, 600, 9, 7, 3}};
        for (size_t r = 0; r < sizeof rc / sizeof rc[0]; r++) {
            if (!kern) {
                tap_skip("this CPU does not run it", "%s kernel, shifted rows", isas[ii]);
                continue;
            }
            int clobbered;
            const double d = rows_case(kern, rc[r][0], rc[r][1], rc[r][2], rc[r][3], rc[r][4],
                                       &clobbered);
            tap_ok(d < 1e-6 && !clobbered,
                   "%s shifted rows m=%lld k=%lld wide %lld keep %lld x %lld rows, residual, relu: max diff "
                   "/ sum|a*b| %.3g, past the output %s", kern->isa, (long long)rc[r][0],
                   (long long)rc[r][1], (long long)rc[r][2], (long long)rc[r][3],
                   (long long)rc[r][4], d, clobbered ? "CLOBBERED" : "untouched");
        }
    }
    for (int ii = 0; ii < 3; ii++) {
        const hidp__sgemm_kernel *kern = hidp__sgemm_find(isas[ii]);
        /* m, k, wide (0: plain), cols, rows, m0, m1: 7, 6, 28 and 2 tiles of 7 pixels (tiles
         * go in pairs where the kernel has tile_t2, an odd one alone), ranges inside panels */
        static const int64_t tc[][7] = {{40, 576, 9, 7, 7, 0, 40}, {70, 300, 16, 14, 3, 5, 61},
                                        {33, 128, 0, 14, 14, 0, 33}, {64, 64, 0, 7, 2, 32, 64}};
        /* SiLU after bias and residual (the driver's store), ReLU after them and nothing
         * without them (the kernel's store_t) */
        static const struct {
            int act, extras;
            const char *what;
        } ways[] = {{HIDP__ACT_SILU, 1, "bias, residual, SiLU"},
                    {HIDP__ACT_RELU, 1, "bias, residual, ReLU"},
                    {HIDP__ACT_NONE, 0, "no bias, residual or activation"}};
        for (size_t r = 0; r < sizeof tc / sizeof tc[0]; r++)
            for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
                if (!kern || !kern->tile_t) {
                    tap_skip(kern ? "the kernel has no transposed tile"
                                  : "this CPU does not run it",
                             "%s transposed tile", isas[ii]);
                    continue;
                }
                int clobbered;
                const double d =
                    transposed_case(kern, tc[r][0], tc[r][1], tc[r][2], tc[r][3], tc[r][4],
                                    tc[r][5], tc[r][6], ways[w].act, ways[w].extras, &clobbered);
                tap_ok(d < 1e-6 && !clobbered,
                       "%s transposed tile m=%lld k=%lld %s %lld x %lld, rows [%lld,%lld), %s: "
                       "max diff / sum|a*b| %.3g, other rows %s",
                       kern->isa, (long long)tc[r][0], (long long)tc[r][1],
                       tc[r][2] ? "wide" : "plain", (long long)tc[r][4], (long long)tc[r][3],
                       (long long)tc[r][5], (long long)tc[r][6], ways[w].what, d,
                       clobbered ? "CLOBBERED" : "untouched");
            }
    }
    for (int ii = 0; ii < 3; ii++) {
        const hidp__sgemm_kernel *kern = hidp__sgemm_find(isas[ii]);
        if (!kern) {
            tap_skip("this CPU does not run it", "%s kernel, dot_rows", isas[ii]);
            continue;
        }
        enum { K = 203, ROWS = 7, LD = 211 };
        static float x[K], w[ROWS * LD], y[ROWS + 1];
        for (int i = 0; i < K; i++)
            x[i] = frand();
        for (int i = 0; i < ROWS * LD; i++)
            w[i] = frand();
        y[ROWS] = 1234.5f;
        kern->dot_rows(K, x, w, LD, ROWS, y);
        double worst = 0;
        for (int r = 0; r < ROWS; r++) {
            double sum = 0, mag = 1;
            for (int i = 0; i < K; i++) {
                sum += (double)x[i] * w[r * LD + i];
                mag += fabs((double)x[i] * w[r * LD + i]);
            }
            const double d = fabs(y[r] - sum) / mag;
            worst = d > worst ? d : worst;
        }
        tap_ok(worst < 1e-6 && y[ROWS] == 1234.5f,
               "%s dot_rows k=%d rows=%d (4 at a time + 3 alone): max diff / sum|x*w| %.3g",
               kern->isa, K, ROWS, worst);
    }
    { /* the write prefetch is a hint: it leaves memory as it was, whatever the range */
        static float buf[100];
        for (int i = 0; i < 100; i++)
            buf[i] = (float)i * 0.5f;
        static const int64_t ranges[][2] = {{0, 0}, {0, 1}, {3, 1}, {5, 77}, {0, 100}, {99, -4}};
        for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
            hidp__prefetch_for_write(buf + ranges[r][0], ranges[r][1]);
        int same = 1;
        for (int i = 0; i < 100; i++)
            same &= buf[i] == (float)i * 0.5f;
        tap_ok(same, "hidp__prefetch_for_write changes no memory (six ranges, empty and ragged)");
    }
    {
        /* the first word of each 16-float line carries its own bit: pulling [0, n) reads a word
         * every 16 floats from its start and its last, nothing at or past n (valgrind, ASan) */
        enum { LINES = 20 };
        float *buf = malloc(LINES * 16 * sizeof *buf);
        for (int i = 0; i < LINES * 16; i++) {
            const unsigned w = i % 16 ? 0u : 1u << (i / 16);
            memcpy(&buf[i], &w, sizeof w);
        }
        const unsigned all = hidp__pull_in(buf, LINES * 16);
        const unsigned three = hidp__pull_in(buf + 16, 33); /* lines 1, 2 and 3's first word */
        const unsigned none = hidp__pull_in(buf + 1, 15);   /* words 1 and 15: no bits */
        tap_ok(
            all == (1u << LINES) - 1 && three == 0xEu && none == 0 && hidp__pull_in(buf, 0) == 0,
            "hidp__pull_in reads a word every 16 floats and its last: all %#x, three %#x, none %#x",
            all, three, none);
        free(buf);
    }
    return tap_done();
}
