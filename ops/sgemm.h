/*
 * sgemm.h - hidp's own single-precision GEMM for convolutions: C = A x B where A (the weights,
 * M x K) is packed once at prepare and B (K x N) comes one of three ways: packed block by block
 * from its source by a callback (im2col), read in place (a 1x1 conv's input), or read in place
 * at shifted rows (a padded band of the input: conv_shifted). The epilogue (bias per row of C, a
 * residual, ReLU / Clip / Sigmoid / SiLU) runs on the register tile before it is stored. A
 * transposed tile (pixels x channels) serves small maps, and dot_rows fully connected layers.
 *
 * The micro-kernel is written once with GCC vector extensions (ops/sgemm_kernel.inc) and compiled
 * for several instruction sets; the best one the CPU supports is picked at run time, or the one
 * named by the environment variable HIDP_ISA (avx512, avx2, generic).
 */
#ifndef HIDP_SGEMM_H
#define HIDP_SGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"

/* Packs rows [k0, k0 + kc) and columns [n0, n0 + nc) of B into dst as ceil(nc / nr) panels of
 * kc x nr floats, panel after panel; in a panel, row after row (nr floats each), columns past nc
 * zero. */
typedef void (*hidp__sgemm_pack_b_fn)(const void *src, int64_t k0, int64_t kc, int64_t n0,
                                      int64_t nc, int nr, float *dst);

/* One compiled micro-kernel: computes an mr x nr tile of C over kc steps of packed A and B. */
typedef struct hidp__sgemm_kernel {
    const char *isa; /* "avx512", "avx2", "generic" */
    int mr, nr;
    /* c (row stride ldc) = (accumulate ? c : 0) + a x b, b's rows ldb floats apart (nr when
     * packed); when last, adds bias[0..mr) (if not NULL), clamps to [lo, hi] and applies fn
     * (HIDP__ACT_SIGMOID or HIDP__ACT_SILU; anything else: nothing more). */
    void (*tile)(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                 int accumulate, int last, const float *bias, float lo, float hi, int fn);
    /* The same with b's row k at b + off[k]. */
    void (*tile_rows)(int64_t kc, const float *a, const float *b, const int64_t *off, float *c,
                      int64_t ldc, int accumulate, int last, const float *bias, float lo,
                      float hi, int fn);
    /* GEMV by rows: y[r] = dot(x, w + r * ldw) over k floats, r < rows (a fully connected
     * layer on one sample, bound by reading w). */
    void (*dot_rows)(int64_t k, const float *x, const float *w, int64_t ldw, int64_t rows,
                     float *y);
    /* The transposed tile (0 and NULL where the register file is too small): tmr pixels x nr
     * channels, c[i * nr + j] (+)= sum_k a_k[i] * b[k * nr + j], a_k = a + off[k] or, with off
     * NULL, a + k * lda; b packed by hidp__sgemm_pack_wt. */
    int tmr;
    void (*tile_t)(int64_t kc, const float *a, const int64_t *off, int64_t lda, const float *b,
                   float *c, int accumulate);
    /* Two transposed tiles at once, the second's pixels delta floats after the first's in every
     * row of B: c holds 2 * tmr rows of nr (NULL where the register file is too small). */
    void (*tile_t2)(int64_t kc, const float *a, int64_t delta, const int64_t *off, int64_t lda,
                    const float *b, float *c);
    /* Channels [c_lo, c_hi) of a finished transposed tile (buf: tmr rows of nr) into C: channel
     * ch's tmr outputs at c + ch * ldc, plus bias[ch] and res[ch * ldc + i] (either NULL),
     * clamped to [lo, hi]. */
    void (*store_t)(const float *buf, int64_t c_lo, int64_t c_hi, float *c, int64_t ldc,
                    const float *bias, const float *res, float lo, float hi);
} hidp__sgemm_kernel;

/* The best kernel this CPU runs (or HIDP_ISA's); never NULL. */
const hidp__sgemm_kernel *hidp__sgemm_best(void);
/* The kernel for isa if this CPU can run it, else NULL. */
const hidp__sgemm_kernel *hidp__sgemm_find(const char *isa);

/* Floats of A packed for kern: ceil(m / mr) panels of k x mr. */
size_t hidp__sgemm_packed_a_floats(const hidp__sgemm_kernel *kern, int64_t m, int64_t k);
/* Packs the m x k row-major matrix a (row stride lda) into dst (rows past m zero). */
void hidp__sgemm_pack_a(const hidp__sgemm_kernel *kern, const float *a, int64_t lda, int64_t m,
                        int64_t k, float *dst);

/* The transposed layout (tile_t): W (m x k, row stride ldw) as ceil(m / nr) panels of k x nr,
 * channels past m zero. hidp__sgemm_packed_wt_floats gives its size. */
size_t hidp__sgemm_packed_wt_floats(const hidp__sgemm_kernel *kern, int64_t m, int64_t k);
void hidp__sgemm_pack_wt(const hidp__sgemm_kernel *kern, const float *w, int64_t ldw, int64_t m,
                         int64_t k, float *dst);

/* Packs a plain row-major B: src is a hidp__sgemm_matrix. */
typedef struct hidp__sgemm_matrix {
    const float *p;
    int64_t ld;
} hidp__sgemm_matrix;
void hidp__sgemm_pack_b_matrix(const void *src, int64_t k0, int64_t kc, int64_t n0, int64_t nc,
                               int nr, float *dst);

/* B read in place at shifted rows: row k of B is base + off[k] (k = 0..K-1), column j at + j.
 * A stride-1 convolution over a zero-padded input is then a GEMM with no im2col at all: row
 * (c, kh, kw) of its patch matrix is the padded input shifted by c * plane + kh * Wp + kw, where
 * columns are "wide" positions oh * Wp + ow (see hidp__sgemm_call.c_wide). */
typedef struct hidp__sgemm_rows {
    const float *base;
    const int64_t *off;
} hidp__sgemm_rows;

/* One product. */
typedef struct hidp__sgemm_call {
    const hidp__sgemm_kernel *kern;
    int64_t m, n, k;
    const float *a_packed;          /* hidp__sgemm_pack_a of all m rows, same kern */
    hidp__sgemm_pack_b_fn pack_b;   /* NULL: b_src is a hidp__sgemm_matrix the kernel reads in
                                       place (only partial panels are packed) */
    const void *b_src;
    const hidp__sgemm_rows *b_rows; /* not NULL: B is read this way instead (pack_b unused); the
                                       kernel may read up to nr - 1 floats past a row's column
                                       n - 1, which the caller must keep readable */
    float *c;                       /* row i of C at c + i * ldc */
    int64_t ldc;
    int64_t c_wide, c_cols;         /* c_wide > 0: column q of C is kept only when q % c_wide <
                                       c_cols, at c + (q / c_wide) * c_cols + q % c_wide (the
                                       padded positions of a wide-row GEMM are dropped) */
    const float *res;               /* NULL, or a matrix laid out like C (same ldc, c_wide)
                                       added to the product before the bias and activation: a
                                       residual Add fused into its conv; may be C itself */
    const float *bias;              /* m values or NULL */
    const hidp__act *act;           /* NULL or an activation; ReLU, Clip, Sigmoid and SiLU are
                                       applied in the tile's registers, others to each finished
                                       tile */
    int transposed;                 /* a_packed is hidp__sgemm_pack_wt's layout and the
                                       transposed tile runs (hidp__sgemm_t_fits must hold) */
} hidp__sgemm_call;

/* Floats of the tile buffer hidp__sgemm uses for edges and transposed tiles (two at once). */
size_t hidp__sgemm_tile_floats(const hidp__sgemm_kernel *kern);
/* Floats of scratch hidp__sgemm needs for a call with b_rows (any k and n) on m rows: a tile
 * buffer per row panel (one more when rows [m0, m1) start inside a panel). */
size_t hidp__sgemm_rows_floats(const hidp__sgemm_kernel *kern, int64_t m);
/* Floats of scratch hidp__sgemm needs for any call with this k and n. */
size_t hidp__sgemm_scratch_floats(const hidp__sgemm_kernel *kern, int64_t k, int64_t n);
/* Computes rows [m0, m1) of C (any m0, m1; multiples of kern->mr run fastest). */
void hidp__sgemm(const hidp__sgemm_call *call, int64_t m0, int64_t m1, float *scratch);

/* Whether a call of n columns (c_wide, c_cols as in the call) can run transposed: the kernel has
 * the tile and the columns split into whole tiles of tmr real outputs. */
int hidp__sgemm_t_fits(const hidp__sgemm_kernel *kern, int64_t n, int64_t c_wide, int64_t c_cols);

/* Convenience for tests and benchmarks: C = A x B for row-major A (m x k), B (k x n), C (m x n),
 * packing A into scratch first. scratch: hidp__sgemm_plain_scratch_floats floats. */
size_t hidp__sgemm_plain_scratch_floats(const hidp__sgemm_kernel *kern, int64_t m, int64_t n,
                                        int64_t k);
void hidp__sgemm_plain(const hidp__sgemm_kernel *kern, int64_t m, int64_t n, int64_t k,
                       const float *a, const float *b, float *c, float *scratch);

#endif
