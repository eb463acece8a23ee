/*
 * binary.c - Add, Sub, Mul and Div with numpy (multidirectional) broadcasting.
 *
 * reshape picks one of three kernels: both inputs of the output's shape (residual adds), one
 * side constant over every (n, c) plane (a scalar, or [C,1,1] / [1,C,1,1] against NCHW: scales,
 * biases), or the general case, which walks the output row by row with per-input strides.
 */
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV };
enum { PATH_SAME, PATH_PLANE_A, PATH_PLANE_B, PATH_GENERAL };

typedef struct bin_params {
    int kind; /* BIN_* */
    int path; /* PATH_*, chosen by reshape */
    /* PATH_PLANE_*: strides of the per-plane side over (n, c). PATH_GENERAL: strides of both
     * inputs over the expanded output shape (0 along broadcast dims). */
    int64_t pn, pc;
    int64_t sa[HIDP_MAX_DIMS + 3], sb[HIDP_MAX_DIMS + 3];
} bin_params;

/* y = a op b over n elements; sa / sb are 0 (a scalar repeated) or 1. The op and stride
 * switches are outside the loops so each loop vectorises. */
static void bin_run_row(int kind, const float *a, int64_t sa, const float *b, int64_t sb, float *y,
                        int64_t n)
{
#define BIN_LOOPS(EXPR)                                                                            \
    do {                                                                                           \
        if (sa && sb) {                                                                            \
            for (int64_t i = 0; i < n; i++) {                                                      \
                float x0 = a[i], x1 = b[i];                                                        \
                y[i] = EXPR;                                                                       \
            }                                                                                      \
        } else if (sa) {                                                                           \
            float x1 = b[0];                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                float x0 = a[i];                                                                   \
                y[i] = EXPR;                                                                       \
            }                                                                                      \
        } else if (sb) {                                                                           \
            float x0 = a[0];                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                float x1 = b[i];                                                                   \
                y[i] = EXPR;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            float x0 = a[0], x1 = b[0];                                                            \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = EXPR;                                                                       \
        }                                                                                          \
    } while (0)
    switch (kind) {
    case BIN_ADD:
        BIN_LOOPS(x0 + x1);
        break;
    case BIN_SUB:
        BIN_LOOPS(x0 - x1);
        break;
    case BIN_MUL:
        BIN_LOOPS(x0 * x1);
        break;
    default:
        BIN_LOOPS(x0 / x1);
        break;
    }
#undef BIN_LOOPS
}

static int bin_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    bin_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "%s '%s': out of memory", n->op_type, n->name);
    p->kind = strcmp(n->op_type, "Add") == 0   ? BIN_ADD
              : strcmp(n->op_type, "Sub") == 0 ? BIN_SUB
              : strcmp(n->op_type, "Mul") == 0 ? BIN_MUL
                                               : BIN_DIV;
    free(n->params);
    n->params = p;
    return 0;
}

/* Whether a, broadcast to out (rank >= 3), is constant over each (n, c) plane; sets its (n, c)
 * strides. */
static int plane_const(const hidp__shape *a, const hidp__shape *out, int64_t *pn, int64_t *pc)
{
    int64_t st[HIDP_MAX_DIMS];
    if (out->ndim < 3)
        return 0;
    hidp__bcast_strides(a, out, st);
    for (int k = 2; k < out->ndim; k++)
        if (st[k] != 0)
            return 0;
    *pn = st[0];
    *pc = st[1];
    return 1;
}

static int bin_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sa[96], sb[96];
    int rc = hidp__check_inputs(g, n, 2, 2, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 1, err);
    if (rc)
        return rc;
    bin_params *p = n->params;
    const hidp__value *a = hidp__in(g, n, 0), *b = hidp__in(g, n, 1);
    hidp__value *y = hidp__out(g, n, 0);
    hidp__shape out;
    if (hidp__bcast_shape(&a->shape, &b->shape, &out) != 0)
        return hidp__fail(err, HIDP_ESHAPE, "%s '%s': input shapes %s and %s do not broadcast",
                          n->op_type, n->name, hidp__fmt_shape(a, sa, sizeof sa),
                          hidp__fmt_shape(b, sb, sizeof sb));
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = (double)hidp__shape_count(&out);
    n->weights = 0;
    n->scratch = 0;

    p->pn = p->pc = 0;
    if (hidp__shape_equal(&a->shape, &out) && hidp__shape_equal(&b->shape, &out)) {
        p->path = PATH_SAME;
    } else if (hidp__shape_equal(&a->shape, &out) && plane_const(&b->shape, &out, &p->pn, &p->pc)) {
        p->path = PATH_PLANE_B;
    } else if (hidp__shape_equal(&b->shape, &out) && plane_const(&a->shape, &out, &p->pn, &p->pc)) {
        p->path = PATH_PLANE_A;
    } else {
        int64_t ta[HIDP_MAX_DIMS], tb[HIDP_MAX_DIMS];
        int map[HIDP_MAX_DIMS + 3];
        hidp__shape e;
        p->path = PATH_GENERAL;
        hidp__bcast_strides(&a->shape, &out, ta);
        hidp__bcast_strides(&b->shape, &out, tb);
        hidp__expand4(&out, &e, map);
        for (int k = 0; k < e.ndim; k++) {
            p->sa[k] = map[k] < 0 ? 0 : ta[map[k]];
            p->sb[k] = map[k] < 0 ? 0 : tb[map[k]];
        }
    }
    return 0;
}

static void bin_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const bin_params *p = n->params;
    const float *a = hidp__in_f32(g, n, 0), *b = hidp__in_f32(g, n, 1);
    float *y = hidp__out_f32(g, n, 0);
    const hidp__shape *out = &hidp__out(g, n, 0)->shape;
    hidp__view4 v = hidp__shape_view4(out);

    if (p->path != PATH_GENERAL) {
        int64_t len = hidp__slice_run(v, s);
        for (int64_t ni = 0; ni < v.n; ni++)
            for (int64_t ci = s.c0; ci < s.c1; ci++) {
                int64_t off = hidp__plane_off(v, s, ni, ci), at = ni * p->pn + ci * p->pc;
                if (p->path == PATH_SAME)
                    bin_run_row(p->kind, a + off, 1, b + off, 1, y + off, len);
                else if (p->path == PATH_PLANE_B)
                    bin_run_row(p->kind, a + off, 1, b + at, 0, y + off, len);
                else
                    bin_run_row(p->kind, a + at, 0, b + off, 1, y + off, len);
            }
        return;
    }

    /* General: one run per row of the last dim, walking the other dims of the slice's box. */
    hidp__shape e;
    int map[HIDP_MAX_DIMS + 3];
    int64_t lo[HIDP_MAX_DIMS + 3], hi[HIDP_MAX_DIMS + 3], cur[HIDP_MAX_DIMS + 3];
    int64_t ost[HIDP_MAX_DIMS + 3];
    hidp__expand4(out, &e, map);
    if (!hidp__slice_box(&e, s, lo, hi))
        return;
    hidp__strides(&e, ost);
    int last = e.ndim - 1, flat = 1;
    for (int k = 2; k <= last; k++)
        flat &= e.d[k] == 1;
    if (flat) {
        /* [N, C] and smaller (bias adds after a Gemm): one run along the channels. */
        for (int64_t ni = 0; ni < e.d[0]; ni++)
            bin_run_row(p->kind, a + ni * p->sa[0] + s.c0 * p->sa[1], p->sa[1],
                        b + ni * p->sb[0] + s.c0 * p->sb[1], p->sb[1], y + ni * ost[0] + s.c0,
                        s.c1 - s.c0);
        return;
    }
    int64_t row = e.d[last];
    memcpy(cur, lo, sizeof cur);
    do {
        int64_t oa = 0, ob = 0, oy = 0;
        for (int k = 0; k < last; k++) {
            oa += cur[k] * p->sa[k];
            ob += cur[k] * p->sb[k];
            oy += cur[k] * ost[k];
        }
        bin_run_row(p->kind, a + oa, p->sa[last], b + ob, p->sb[last], y + oy, row);
    } while (hidp__box_next(last, lo, hi, cur));
}

/* The reference: every output element of the slice from its coordinates, reading each input at
 * the same coordinates aligned to the right, with 0 along its dims of size 1. */
static void bin_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const bin_params *p = n->params;
    const hidp__value *va = hidp__in(g, n, 0), *vb = hidp__in(g, n, 1), *vy = hidp__out(g, n, 0);
    const float *a = va->data, *b = vb->data;
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    int r = vy->shape.ndim;
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w, coord[HIDP_MAX_DIMS];
                    int64_t ia = 0, ib = 0;
                    hidp__unravel(idx, &vy->shape, coord);
                    for (int k = 0; k < va->shape.ndim; k++) {
                        int64_t d = va->shape.d[k];
                        ia = ia * d + (d == 1 ? 0 : coord[k + r - va->shape.ndim]);
                    }
                    for (int k = 0; k < vb->shape.ndim; k++) {
                        int64_t d = vb->shape.d[k];
                        ib = ib * d + (d == 1 ? 0 : coord[k + r - vb->shape.ndim]);
                    }
                    double x0 = a[ia], x1 = b[ib], res;
                    switch (p->kind) {
                    case BIN_ADD:
                        res = x0 + x1;
                        break;
                    case BIN_SUB:
                        res = x0 - x1;
                        break;
                    case BIN_MUL:
                        res = x0 * x1;
                        break;
                    default:
                        res = x0 / x1;
                        break;
                    }
                    y[idx] = (float)res;
                }
}

#define BIN_OP(sym, onnx)                                                                          \
    const hidp__op_def sym = {onnx,    HIDP__OP_CAN_FUSE, bin_parse, bin_reshape,                  \
                              bin_run, bin_run_ref,       NULL,      NULL}

BIN_OP(hidp__op_add, "Add");
BIN_OP(hidp__op_sub, "Sub");
BIN_OP(hidp__op_mul, "Mul");
BIN_OP(hidp__op_div, "Div");
