/*
 * concat.c - Concat: joins its inputs along one axis.
 *
 * The output is [outer, total, inner] around the axis, and every (n, c) plane of a slice is one
 * flat range of it; the kernel copies each range as the few contiguous runs it is made of
 * (one memcpy per plane for the usual channel concat of NCHW tensors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

typedef struct concat_params {
    int64_t axis_attr; /* as written, may be negative */
    int axis;          /* normalised by reshape */
    int64_t inner;     /* elements after the axis */
    int64_t total;     /* output extent along the axis */
} concat_params;

static int concat_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    if (!hidp__node_attr(n, "axis"))
        return hidp__fail(err, HIDP_EFORMAT, "Concat '%s': attribute 'axis' is missing", n->name);
    concat_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "Concat '%s': out of memory", n->name);
    p->axis_attr = hidp__attr_int(n, "axis", 0);
    free(n->params);
    n->params = p;
    return 0;
}

static int concat_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sa[96], sb[96];
    concat_params *p = n->params;
    if (n->n_in < 1 || n->n_out < 1 || n->out[0] < 0)
        return hidp__fail(err, HIDP_EFORMAT, "Concat '%s': needs inputs and an output", n->name);
    const hidp__value *x0 = hidp__in(g, n, 0);
    if (!x0)
        return hidp__fail(err, HIDP_EFORMAT, "Concat '%s': input 0 is missing", n->name);
    int r = x0->shape.ndim;
    int axis = hidp__norm_axis(p->axis_attr, r);
    if (axis < 0)
        return hidp__fail(err, HIDP_ESHAPE, "Concat '%s': axis %lld is out of range for rank %d",
                          n->name, (long long)p->axis_attr, r);
    hidp__shape out = x0->shape;
    out.d[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        const hidp__value *x = hidp__in(g, n, i);
        int rc;
        if (!x)
            return hidp__fail(err, HIDP_EFORMAT, "Concat '%s': input %d is missing", n->name, i);
        if ((rc = hidp__check_f32(g, n, i, err)))
            return rc;
        if (x->shape.ndim != r)
            return hidp__fail(err, HIDP_ESHAPE,
                              "Concat '%s': input %d has shape %s, expected rank %d", n->name, i,
                              hidp__fmt_shape(x, sa, sizeof sa), r);
        for (int k = 0; k < r; k++)
            if (k != axis && x->shape.d[k] != x0->shape.d[k])
                return hidp__fail(err, HIDP_ESHAPE,
                                  "Concat '%s': input %d has shape %s, which differs from input "
                                  "0's %s outside axis %d",
                                  n->name, i, hidp__fmt_shape(x, sa, sizeof sa),
                                  hidp__fmt_shape(x0, sb, sizeof sb), axis);
        out.d[axis] += x->shape.d[axis];
    }
    p->axis = axis;
    p->total = out.d[axis];
    p->inner = 1;
    for (int k = axis + 1; k < r; k++)
        p->inner *= out.d[k];
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = 0;
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

/* Copies the output's flat range [i0, i1) from the inputs, in maximal contiguous runs. */
static void concat_range(const hidp__graph *g, const hidp__node *n, float *y, int64_t i0,
                         int64_t i1)
{
    const concat_params *p = n->params;
    int64_t block = p->total * p->inner; /* one outer step of the output */
    while (i0 < i1) {
        int64_t o = i0 / block, rem = i0 % block, a = rem / p->inner, j = rem % p->inner;
        int64_t base = 0;
        for (int k = 0; k < n->n_in; k++) {
            const hidp__value *x = &g->vals[n->in[k]];
            int64_t dk = x->shape.d[p->axis];
            if (a < base + dk) {
                /* Elements of input k from (o, a - base, j) to the end of its block. */
                int64_t run = (base + dk - a) * p->inner - j;
                if (run > i1 - i0)
                    run = i1 - i0;
                const float *src = (const float *)x->data + (o * dk + (a - base)) * p->inner + j;
                memcpy(y + i0, src, (size_t)run * sizeof(float));
                i0 += run;
                break;
            }
            base += dk;
        }
    }
}

static void concat_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    if (s.c0 == 0 && s.c1 == v.c && s.h0 == 0 && s.h1 == v.h) {
        concat_range(g, n, y, 0, v.n * v.c * v.h * v.w);
        return;
    }
    int64_t len = hidp__slice_run(v, s);
    for (int64_t ni = 0; ni < v.n; ni++)
        for (int64_t ci = s.c0; ci < s.c1; ci++) {
            int64_t off = hidp__plane_off(v, s, ni, ci);
            concat_range(g, n, y, off, off + len);
        }
}

/* The reference: each output element from its coordinates; the input is the one whose range
 * along the axis holds the coordinate. */
static void concat_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const concat_params *p = n->params;
    const hidp__value *vy = hidp__out(g, n, 0);
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w, coord[HIDP_MAX_DIMS];
                    hidp__unravel(idx, &vy->shape, coord);
                    int k = 0;
                    while (coord[p->axis] >= g->vals[n->in[k]].shape.d[p->axis])
                        coord[p->axis] -= g->vals[n->in[k++]].shape.d[p->axis];
                    const hidp__value *x = &g->vals[n->in[k]];
                    int64_t src = 0;
                    for (int d = 0; d < x->shape.ndim; d++)
                        src = src * x->shape.d[d] + coord[d];
                    y[idx] = ((const float *)x->data)[src];
                }
}

const hidp__op_def hidp__op_concat = {
    "Concat", 0, concat_parse, concat_reshape, concat_run, concat_run_ref, NULL, NULL};
