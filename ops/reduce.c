/*
 * reduce.c - ReduceMean over a set of axes (attribute `axes` up to opset 17, or a constant
 * input 1 as in opset 18; absent: all axes), keepdims default 1.
 *
 * Each output element averages a box of the input: the reduced dims at full range, the kept
 * dims fixed. When the reduced dims are the trailing ones (the global-pooling ReduceMean over
 * H and W) that box is one contiguous run.
 */
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

typedef struct reduce_params {
    int reduced[HIDP_MAX_DIMS]; /* per input dim, set by reshape */
    int tail;                   /* reduced dims are exactly the last ones: contiguous groups */
    int64_t group;              /* input elements per output element */
} reduce_params;

static int reduce_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    reduce_params *p = hidp__params_new(n, sizeof *p, "ReduceMean", err);
    if (!p)
        return HIDP_ENOMEM;
    return 0;
}

static int reduce_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    reduce_params *p = n->params;
    int64_t axes[HIDP_MAX_DIMS];
    int cnt, rc = hidp__check_inputs(g, n, 1, 2, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    int r = x->shape.ndim;
    if (hidp__in(g, n, 1)) {
        cnt = hidp__const_ints(g, n, 1, axes, HIDP_MAX_DIMS, err);
        if (cnt < 0)
            return cnt;
    } else {
        const int64_t *a;
        cnt = hidp__attr_ints(n, "axes", &a);
        if (cnt > HIDP_MAX_DIMS)
            return hidp__fail(err, HIDP_ESHAPE, "ReduceMean '%s': %d axes for input %s", n->name,
                              cnt, hidp__fmt_shape(x, sx, sizeof sx));
        if (cnt > 0)
            memcpy(axes, a, (size_t)cnt * sizeof *a);
    }
    memset(p->reduced, 0, sizeof p->reduced);
    for (int i = 0; i < cnt; i++) {
        int a = hidp__norm_axis(axes[i], r);
        if (a < 0)
            return hidp__fail(err, HIDP_ESHAPE,
                              "ReduceMean '%s': axis %lld is out of range for input %s", n->name,
                              (long long)axes[i], hidp__fmt_shape(x, sx, sizeof sx));
        p->reduced[a] = 1;
    }
    if (cnt <= 0)
        for (int k = 0; k < r; k++)
            p->reduced[k] = 1;
    int keep = hidp__attr_int(n, "keepdims", 1) != 0;
    hidp__shape out;
    memset(&out, 0, sizeof out);
    p->group = 1;
    p->tail = 1;
    for (int k = 0; k < r; k++) {
        if (p->reduced[k]) {
            p->group *= x->shape.d[k];
            if (keep)
                out.d[out.ndim++] = 1;
        } else {
            out.d[out.ndim++] = x->shape.d[k];
            for (int j = 0; j < k; j++)
                if (p->reduced[j])
                    p->tail = 0;
        }
    }
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = (double)hidp__shape_count(&x->shape);
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

/* The mean that output element i (flat index) stands for. */
static float reduce_one(const reduce_params *p, const hidp__shape *xs, const float *x, int64_t i)
{
    float acc = 0.0f;
    if (p->group == 0)
        return 0.0f;
    if (p->tail) {
        /* The reduced dims are the last ones: input elements [i * group, (i + 1) * group). */
        const float *src = x + i * p->group;
        for (int64_t j = 0; j < p->group; j++)
            acc += src[j];
        return acc / (float)p->group;
    }
    /* The kept dims, unravelled from i, give the base offset; the reduced dims are walked. */
    int64_t xst[HIDP_MAX_DIMS], lo[HIDP_MAX_DIMS] = {0}, hi[HIDP_MAX_DIMS], cur[HIDP_MAX_DIMS];
    int64_t rem = i, base = 0;
    int red[HIDP_MAX_DIMS], nr = 0;
    hidp__strides(xs, xst);
    for (int k = xs->ndim - 1; k >= 0; k--) {
        if (p->reduced[k])
            continue;
        base += (rem % xs->d[k]) * xst[k];
        rem /= xs->d[k];
    }
    for (int k = 0; k < xs->ndim; k++)
        if (p->reduced[k]) {
            hi[nr] = xs->d[k];
            cur[nr] = 0;
            red[nr++] = k;
        }
    do {
        int64_t o = base;
        for (int k = 0; k < nr; k++)
            o += cur[k] * xst[red[k]];
        acc += x[o];
    } while (hidp__box_next(nr, lo, hi, cur));
    return acc / (float)p->group;
}

static void reduce_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const hidp__value *vx = hidp__in(g, n, 0), *vy = hidp__out(g, n, 0);
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    int64_t len = hidp__slice_run(v, s);
    for (int64_t ni = 0; ni < v.n; ni++)
        for (int64_t ci = s.c0; ci < s.c1; ci++) {
            int64_t off = hidp__plane_off(v, s, ni, ci);
            for (int64_t i = off; i < off + len; i++)
                y[i] = reduce_one(n->params, &vx->shape, vx->data, i);
        }
}

/* The reference: for each output element, the mean of every input element whose kept
 * coordinates match it (a scan of the whole input, in double). */
static void reduce_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const reduce_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0), *vy = hidp__out(g, n, 0);
    const float *x = vx->data;
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    int r = vx->shape.ndim, keep = vy->shape.ndim == r;
    int64_t total = hidp__shape_count(&vx->shape);
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w;
                    int64_t oc[HIDP_MAX_DIMS], ic[HIDP_MAX_DIMS], cnt = 0;
                    double acc = 0;
                    hidp__unravel(idx, &vy->shape, oc);
                    for (int64_t j = 0; j < total; j++) {
                        int match = 1;
                        hidp__unravel(j, &vx->shape, ic);
                        for (int k = 0, o = 0; k < r; k++) {
                            if (!p->reduced[k] && ic[k] != oc[keep ? k : o])
                                match = 0;
                            if (keep || !p->reduced[k])
                                o++;
                        }
                        if (match) {
                            acc += x[j];
                            cnt++;
                        }
                    }
                    y[idx] = cnt ? (float)(acc / (double)cnt) : 0.0f;
                }
}

const hidp__op_def hidp__op_reduce_mean = {
    "ReduceMean", 0, reduce_parse, reduce_reshape, reduce_run, reduce_run_ref, NULL, NULL};
