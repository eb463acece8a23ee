/*
 * transpose.c - Transpose: permutes the dims (perm, default reversed).
 *
 * Output dim k is input dim perm[k]. The kernel walks the output rows of its slice (the last
 * dim) and reads each row with the input stride of that dim: a plain copy when the last dim
 * stays last (channel shuffles), a strided gather otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

typedef struct transpose_params {
    int perm[HIDP_MAX_DIMS];
} transpose_params;

static int transpose_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    transpose_params *p = hidp__params_new(n, sizeof *p, "Transpose", err);
    if (!p)
        return HIDP_ENOMEM;
    return 0;
}

static int transpose_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    transpose_params *p = n->params;
    int rc = hidp__check_inputs(g, n, 1, 1, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    int r = x->shape.ndim, seen[HIDP_MAX_DIMS] = {0};
    const int64_t *perm;
    int cnt = hidp__attr_ints(n, "perm", &perm);
    if (cnt < 0) {
        for (int k = 0; k < r; k++)
            p->perm[k] = r - 1 - k;
    } else {
        if (cnt != r)
            return hidp__fail(err, HIDP_ESHAPE, "Transpose '%s': perm has %d entries for input %s",
                              n->name, cnt, hidp__fmt_shape(x, sx, sizeof sx));
        for (int k = 0; k < r; k++) {
            if (perm[k] < 0 || perm[k] >= r || seen[perm[k]])
                return hidp__fail(err, HIDP_EFORMAT,
                                  "Transpose '%s': perm is not a permutation of 0..%d", n->name,
                                  r - 1);
            seen[perm[k]] = 1;
            p->perm[k] = (int)perm[k];
        }
    }
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = x->shape;
    for (int k = 0; k < r; k++)
        y->shape.d[k] = x->shape.d[p->perm[k]];
    y->dtype = HIDP__DT_F32;
    n->flops = 0;
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

static void transpose_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const transpose_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0), *vy = hidp__out(g, n, 0);
    const float *x = vx->data;
    float *y = vy->data;
    int64_t xst[HIDP_MAX_DIMS], st[HIDP_MAX_DIMS], ost[HIDP_MAX_DIMS];
    int64_t lo[HIDP_MAX_DIMS], hi[HIDP_MAX_DIMS], cur[HIDP_MAX_DIMS];
    int map[HIDP_MAX_DIMS];
    hidp__shape e;

    /* Input stride of each output dim, then of each dim of the expanded output. */
    hidp__strides(&vx->shape, xst);
    hidp__expand4(&vy->shape, &e, map);
    for (int k = 0; k < e.ndim; k++)
        st[k] = map[k] < 0 ? 0 : xst[p->perm[map[k]]];
    if (!hidp__slice_box(&e, s, lo, hi))
        return;
    hidp__strides(&e, ost);
    int last = e.ndim - 1;
    int64_t row = e.d[last], rs = st[last];
    memcpy(cur, lo, sizeof cur);
    do {
        int64_t ox = 0, oy = 0;
        for (int k = 0; k < last; k++) {
            ox += cur[k] * st[k];
            oy += cur[k] * ost[k];
        }
        if (rs == 1) {
            memcpy(y + oy, x + ox, (size_t)row * sizeof(float));
        } else {
            const float *src = x + ox;
            float *dst = y + oy;
            for (int64_t i = 0; i < row; i++)
                dst[i] = src[i * rs];
        }
    } while (hidp__box_next(last, lo, hi, cur));
}

/* The reference: for each output element, input coordinate perm[k] is output coordinate k. */
static void transpose_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s,
                              float *scratch)
{
    (void)scratch;
    const transpose_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0), *vy = hidp__out(g, n, 0);
    const float *x = vx->data;
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    int r = vy->shape.ndim;
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w;
                    int64_t oc[HIDP_MAX_DIMS], ic[HIDP_MAX_DIMS], src = 0;
                    hidp__unravel(idx, &vy->shape, oc);
                    for (int k = 0; k < r; k++)
                        ic[p->perm[k]] = oc[k];
                    for (int k = 0; k < r; k++)
                        src = src * vx->shape.d[k] + ic[k];
                    y[idx] = x[src];
                }
}

const hidp__op_def hidp__op_transpose = {
    "Transpose", 0,   transpose_parse, transpose_reshape, transpose_run, transpose_run_ref,
    NULL,        NULL};
