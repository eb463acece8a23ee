/*
 * gemm.c - Gemm (Y = alpha * A' B' + beta * C) and MatMul (numpy matmul) through cblas_sgemm.
 *
 * Gemm's output is [M, N], whose 4-D view has the N columns as channels, so a channel slice is a
 * block of columns: one sgemm on B's matching columns writes it in place (ldc = N). MatMul maps
 * the slice's channel and row ranges onto whichever of batch, M or N dims they fall on and runs
 * one sgemm per batch matrix on the resulting sub-block.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "sgemm.h"
#include "op_util.h"

/* ---- Gemm ---- */

typedef struct gemm_params {
    int trans_a, trans_b;
    float alpha, beta;
    int64_t m, n, k;
    int64_t csm, csn; /* strides of C over (m, n) after broadcasting; C absent: has_c = 0 */
    int has_c;
} gemm_params;

static int gemm_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    gemm_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "Gemm '%s': out of memory", n->name);
    p->trans_a = hidp__attr_int(n, "transA", 0) != 0;
    p->trans_b = hidp__attr_int(n, "transB", 0) != 0;
    p->alpha = hidp__attr_float(n, "alpha", 1.0f);
    p->beta = hidp__attr_float(n, "beta", 1.0f);
    free(n->params);
    n->params = p;
    return 0;
}

static int gemm_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sa[96], sb[96];
    gemm_params *p = n->params;
    int rc = hidp__check_inputs(g, n, 2, 3, err);
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = hidp__check_f32(g, n, i, err);
    if (rc)
        return rc;
    const hidp__value *a = hidp__in(g, n, 0), *b = hidp__in(g, n, 1), *c = hidp__in(g, n, 2);
    if (a->shape.ndim != 2 || b->shape.ndim != 2)
        return hidp__fail(err, HIDP_ESHAPE, "Gemm '%s': inputs A %s and B %s must both be 2-D",
                          n->name, hidp__fmt_shape(a, sa, sizeof sa),
                          hidp__fmt_shape(b, sb, sizeof sb));
    p->m = a->shape.d[p->trans_a ? 1 : 0];
    p->k = a->shape.d[p->trans_a ? 0 : 1];
    p->n = b->shape.d[p->trans_b ? 0 : 1];
    if (b->shape.d[p->trans_b ? 1 : 0] != p->k)
        return hidp__fail(err, HIDP_ESHAPE,
                          "Gemm '%s': A %s (transA=%d) and B %s (transB=%d) do not agree on K",
                          n->name, hidp__fmt_shape(a, sa, sizeof sa), p->trans_a,
                          hidp__fmt_shape(b, sb, sizeof sb), p->trans_b);
    int64_t mn[2] = {p->m, p->n};
    hidp__shape out = hidp__shape_make(2, mn), bc;
    p->has_c = c != NULL && p->beta != 0.0f;
    if (c) {
        int64_t st[HIDP_MAX_DIMS];
        if (c->shape.ndim > 2 || hidp__bcast_shape(&c->shape, &out, &bc) != 0 ||
            !hidp__shape_equal(&bc, &out))
            return hidp__fail(err, HIDP_ESHAPE, "Gemm '%s': C %s does not broadcast to %lldx%lld",
                              n->name, hidp__fmt_shape(c, sa, sizeof sa), (long long)p->m,
                              (long long)p->n);
        hidp__bcast_strides(&c->shape, &out, st);
        p->csm = st[0];
        p->csn = st[1];
    }
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = 2.0 * (double)p->m * (double)p->n * (double)p->k;
    n->weights = (b->flags & HIDP__VAL_CONST) ? hidp__shape_count(&b->shape) : 0;
    if (c && (c->flags & HIDP__VAL_CONST))
        n->weights += hidp__shape_count(&c->shape);
    n->scratch = 0;
    return 0;
}

static void gemm_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const gemm_params *p = n->params;
    if (s.h0 >= s.h1 || s.c0 >= s.c1 || p->m == 0)
        return;
    const float *a = hidp__in_f32(g, n, 0), *b = hidp__in_f32(g, n, 1);
    float *y = hidp__out_f32(g, n, 0);
    int64_t cols = s.c1 - s.c0;
    float beta = 0.0f;
    if (p->has_c) {
        const float *c = hidp__in_f32(g, n, 2);
        for (int64_t i = 0; i < p->m; i++) {
            float *row = y + i * p->n + s.c0;
            const float *crow = c + i * p->csm + s.c0 * p->csn;
            if (p->csn)
                memcpy(row, crow, (size_t)cols * sizeof(float));
            else
                for (int64_t j = 0; j < cols; j++)
                    row[j] = crow[0];
        }
        beta = p->beta;
    }
    if (p->k >= 64 && p->m <= 4 && !p->trans_a && p->trans_b) {
        /* A few samples through a fully connected layer: a GEMV per sample, streaming B's rows
         * (OpenBLAS's sgemm with M = 1 read VGG-16's 411 MB classifier at 11 GB/s). */
        const hidp__sgemm_kernel *kern = hidp__sgemm_best();
        float dots[256];
        for (int64_t i = 0; i < p->m; i++)
            for (int64_t j0 = s.c0; j0 < s.c1; j0 += 256) {
                const int64_t nj = s.c1 - j0 < 256 ? s.c1 - j0 : 256;
                kern->dot_rows(p->k, a + i * p->k, b + j0 * p->k, p->k, nj, dots);
                float *row = y + i * p->n + j0;
                for (int64_t j = 0; j < nj; j++)
                    row[j] = p->alpha * dots[j] + (p->has_c ? beta * row[j] : 0.0f);
            }
    } else if (p->k > 0) {
        /* B's columns c0..c1: column offset c0 in [K, N], or row offset c0 in [N, K]. */
        const float *bs = b + (p->trans_b ? s.c0 * p->k : s.c0);
        cblas_sgemm(CblasRowMajor, p->trans_a ? CblasTrans : CblasNoTrans,
                    p->trans_b ? CblasTrans : CblasNoTrans, (int)p->m, (int)cols, (int)p->k,
                    p->alpha, a, (int)(p->trans_a ? p->m : p->k), bs,
                    (int)(p->trans_b ? p->k : p->n), beta, y + s.c0, (int)p->n);
    } else if (!p->has_c) {
        for (int64_t i = 0; i < p->m; i++)
            memset(y + i * p->n + s.c0, 0, (size_t)cols * sizeof(float));
    } else if (beta != 1.0f) {
        for (int64_t i = 0; i < p->m; i++)
            for (int64_t j = 0; j < cols; j++)
                y[i * p->n + s.c0 + j] *= beta;
    }
    if (n->act.kind != HIDP__ACT_NONE)
        for (int64_t i = 0; i < p->m; i++)
            hidp__act_apply(&n->act, y + i * p->n + s.c0, (size_t)cols);
}

/* The reference: a triple loop in double, C read with broadcasting. */
static void gemm_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const gemm_params *p = n->params;
    if (s.h0 >= s.h1)
        return;
    const float *a = hidp__in_f32(g, n, 0), *b = hidp__in_f32(g, n, 1);
    const hidp__value *vc = hidp__in(g, n, 2);
    float *y = hidp__out_f32(g, n, 0);
    for (int64_t i = 0; i < p->m; i++)
        for (int64_t j = s.c0; j < s.c1; j++) {
            double acc = 0;
            for (int64_t l = 0; l < p->k; l++) {
                double av = p->trans_a ? a[l * p->m + i] : a[i * p->k + l];
                double bv = p->trans_b ? b[j * p->k + l] : b[l * p->n + j];
                acc += av * bv;
            }
            acc *= p->alpha;
            if (vc) {
                const float *c = vc->data;
                int r = vc->shape.ndim;
                int64_t ci = r == 0   ? 0
                             : r == 1 ? (vc->shape.d[0] == 1 ? 0 : j)
                                      : (vc->shape.d[0] == 1 ? 0 : i) * vc->shape.d[1] +
                                            (vc->shape.d[1] == 1 ? 0 : j);
                acc += (double)p->beta * c[ci];
            }
            y[i * p->n + j] = (float)acc;
        }
    if (n->act.kind != HIDP__ACT_NONE)
        for (int64_t i = 0; i < p->m; i++)
            hidp__act_apply(&n->act, y + i * p->n + s.c0, (size_t)(s.c1 - s.c0));
}

static void gemm_describe(const hidp__graph *g, const hidp__node *n, char *buf, size_t len)
{
    (void)g;
    const gemm_params *p = n->params;
    snprintf(buf, len, "M%lld N%lld K%lld%s%s", (long long)p->m, (long long)p->n, (long long)p->k,
             p->trans_a ? " transA" : "", p->trans_b ? " transB" : "");
}

const hidp__op_def hidp__op_gemm = {"Gemm",     HIDP__OP_CAN_FUSE | HIDP__OP_FUSES_ACT,
                                    gemm_parse, gemm_reshape,
                                    gemm_run,   gemm_run_ref,
                                    NULL,       gemm_describe};

/* ---- MatMul ---- */

typedef struct matmul_params {
    int64_t m, n, k;
    int a_vec, b_vec; /* 1-D operands */
    int nb;           /* batch dims of the output */
    int64_t bdim[HIDP_MAX_DIMS];
    int64_t bsa[HIDP_MAX_DIMS], bsb[HIDP_MAX_DIMS]; /* matrix strides of A, B per batch dim */
} matmul_params;

static int matmul_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    matmul_params *p = hidp__params_new(n, sizeof *p, "MatMul", err);
    if (!p)
        return HIDP_ENOMEM;
    return 0;
}

static int matmul_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sa[96], sb[96];
    matmul_params *p = n->params;
    int rc = hidp__check_inputs(g, n, 2, 2, err);
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = hidp__check_f32(g, n, i, err);
    if (rc)
        return rc;
    const hidp__value *a = hidp__in(g, n, 0), *b = hidp__in(g, n, 1);
    int ra = a->shape.ndim, rb = b->shape.ndim;
    if (ra < 1 || rb < 1)
        return hidp__fail(err, HIDP_ESHAPE, "MatMul '%s': inputs %s and %s must have rank >= 1",
                          n->name, hidp__fmt_shape(a, sa, sizeof sa),
                          hidp__fmt_shape(b, sb, sizeof sb));
    p->a_vec = ra == 1;
    p->b_vec = rb == 1;
    p->m = p->a_vec ? 1 : a->shape.d[ra - 2];
    p->k = a->shape.d[ra - 1];
    p->n = p->b_vec ? 1 : b->shape.d[rb - 1];
    int64_t kb = p->b_vec ? b->shape.d[0] : b->shape.d[rb - 2];
    /* Batch dims: all but the matrix dims, broadcast against each other. */
    hidp__shape ba = hidp__shape_make(p->a_vec ? 0 : ra - 2, a->shape.d);
    hidp__shape bb = hidp__shape_make(p->b_vec ? 0 : rb - 2, b->shape.d), bo;
    if (kb != p->k || hidp__bcast_shape(&ba, &bb, &bo) != 0)
        return hidp__fail(err, HIDP_ESHAPE, "MatMul '%s': inputs %s and %s do not fit", n->name,
                          hidp__fmt_shape(a, sa, sizeof sa), hidp__fmt_shape(b, sb, sizeof sb));
    p->nb = bo.ndim;
    hidp__bcast_strides(&ba, &bo, p->bsa);
    hidp__bcast_strides(&bb, &bo, p->bsb);
    hidp__shape out = bo;
    for (int k = 0; k < bo.ndim; k++)
        p->bdim[k] = bo.d[k];
    if (!p->a_vec)
        out.d[out.ndim++] = p->m;
    if (!p->b_vec)
        out.d[out.ndim++] = p->n;
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = 2.0 * (double)hidp__shape_count(&out) * (double)p->k;
    n->weights = (b->flags & HIDP__VAL_CONST) ? hidp__shape_count(&b->shape) : 0;
    n->scratch = 0;
    return 0;
}

/* Ranges of the output dims a slice covers: channels on dim 1 (dim 0 for rank 1), rows on
 * dim 2; returns 0 if the slice is empty. */
static int out_ranges(const hidp__shape *out, hidp__slice s, int64_t *lo, int64_t *hi)
{
    for (int k = 0; k < out->ndim; k++) {
        lo[k] = 0;
        hi[k] = out->d[k];
    }
    int cd = out->ndim == 1 ? 0 : 1;
    if (out->ndim >= 1) {
        lo[cd] = s.c0;
        hi[cd] = s.c1;
    } else if (s.c0 >= s.c1) {
        return 0;
    }
    if (out->ndim >= 3) {
        lo[2] = s.h0;
        hi[2] = s.h1;
    } else if (s.h0 >= s.h1) {
        return 0;
    }
    for (int k = 0; k < out->ndim; k++)
        if (lo[k] >= hi[k])
            return 0;
    return 1;
}

static void matmul_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const matmul_params *p = n->params;
    const hidp__shape *out = &hidp__out(g, n, 0)->shape;
    const float *a = hidp__in_f32(g, n, 0), *b = hidp__in_f32(g, n, 1);
    float *y = hidp__out_f32(g, n, 0);
    int64_t lo[HIDP_MAX_DIMS], hi[HIDP_MAX_DIMS], cur[HIDP_MAX_DIMS];
    if (!out_ranges(out, s, lo, hi))
        return;
    /* The M and N ranges are those of the output's last dims, where present. */
    int64_t m0 = 0, m1 = p->m, n0 = 0, n1 = p->n;
    if (!p->b_vec) {
        n0 = lo[out->ndim - 1];
        n1 = hi[out->ndim - 1];
    }
    if (!p->a_vec) {
        int md = out->ndim - 1 - !p->b_vec;
        m0 = lo[md];
        m1 = hi[md];
    }
    int64_t ms = p->m * p->k, bs = p->k * p->n, ys = p->m * p->n;
    memcpy(cur, lo, sizeof cur);
    do {
        int64_t oa = 0, ob = 0, oy = 0;
        for (int k = 0; k < p->nb; k++) {
            oa += cur[k] * p->bsa[k];
            ob += cur[k] * p->bsb[k];
            oy = oy * p->bdim[k] + cur[k];
        }
        float *yb = y + oy * ys + m0 * p->n + n0;
        if (p->k == 0) {
            for (int64_t i = m0; i < m1; i++)
                memset(yb + (i - m0) * p->n, 0, (size_t)(n1 - n0) * sizeof(float));
            continue;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), (int)(n1 - n0),
                    (int)p->k, 1.0f, a + oa * ms + m0 * p->k, (int)p->k, b + ob * bs + n0,
                    (int)p->n, 0.0f, yb, (int)p->n);
    } while (hidp__box_next(p->nb, lo, hi, cur));
}

/* The reference: every output element of the slice as a dot product in double, batch
 * coordinates mapped to each input with broadcasting. */
static void matmul_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const matmul_params *p = n->params;
    const hidp__value *va = hidp__in(g, n, 0), *vb = hidp__in(g, n, 1), *vy = hidp__out(g, n, 0);
    const float *a = va->data, *b = vb->data;
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    int ra = va->shape.ndim, rb = vb->shape.ndim;
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w, oc[HIDP_MAX_DIMS];
                    hidp__unravel(idx, &vy->shape, oc);
                    int r = vy->shape.ndim;
                    int64_t j = p->b_vec ? 0 : oc[r - 1];
                    int64_t i = p->a_vec ? 0 : oc[r - 1 - !p->b_vec];
                    /* Offsets of A's and B's matrices: their batch dims, right-aligned. */
                    int64_t abase = 0, bbase = 0;
                    for (int k = 0; k < ra - 2; k++) {
                        int64_t d = va->shape.d[k];
                        abase = abase * d + (d == 1 ? 0 : oc[p->nb - (ra - 2) + k]);
                    }
                    for (int k = 0; k < rb - 2; k++) {
                        int64_t d = vb->shape.d[k];
                        bbase = bbase * d + (d == 1 ? 0 : oc[p->nb - (rb - 2) + k]);
                    }
                    double acc = 0;
                    for (int64_t l = 0; l < p->k; l++)
                        acc += (double)a[(abase * p->m + i) * p->k + l] *
                               b[(bbase * p->k + l) * p->n + j];
                    y[idx] = (float)acc;
                }
}

const hidp__op_def hidp__op_matmul = {"MatMul",   HIDP__OP_CAN_FUSE, matmul_parse, matmul_reshape,
                                      matmul_run, matmul_run_ref,    NULL,         NULL};
