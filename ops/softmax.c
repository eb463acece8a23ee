/*
 * softmax.c - Softmax.
 *
 * Opset < 13 coerces the input to 2-D at `axis` (default 1) and normalises over the flattened
 * trailing part; opset >= 13 normalises along the one dim `axis` (default -1). Both are the same
 * computation on the input seen as [outer, d, inner]: each (outer, inner) pair is one group of d
 * elements. A slice writes only its elements, but each needs its whole group, so a kernel walks
 * the groups its slice touches and recomputes their max and sum (once per group and slice).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

typedef struct softmax_params {
    int axis;                /* first reduced dim */
    int last;                /* last reduced dim (axis, or rank-1 before opset 13) */
    int64_t outer, d, inner; /* set by reshape */
} softmax_params;

static int softmax_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    softmax_params *p = hidp__params_new(n, sizeof *p, "Softmax", err);
    if (!p)
        return HIDP_ENOMEM;
    return 0;
}

static int softmax_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    softmax_params *p = n->params;
    int rc = hidp__check_inputs(g, n, 1, 1, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    int r = x->shape.ndim, old = hidp__opset(g) < 13;
    int64_t attr = hidp__attr_int(n, "axis", old ? 1 : -1);
    int axis = hidp__norm_axis(attr, r);
    if (axis < 0)
        return hidp__fail(err, HIDP_ESHAPE, "Softmax '%s': axis %lld is out of range for input %s",
                          n->name, (long long)attr, hidp__fmt_shape(x, sx, sizeof sx));
    p->axis = axis;
    p->last = old ? r - 1 : axis;
    p->outer = p->d = p->inner = 1;
    for (int k = 0; k < r; k++) {
        if (k < p->axis)
            p->outer *= x->shape.d[k];
        else if (k <= p->last)
            p->d *= x->shape.d[k];
        else
            p->inner *= x->shape.d[k];
    }
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = x->shape;
    y->dtype = HIDP__DT_F32;
    n->flops = 5.0 * (double)hidp__shape_count(&x->shape);
    n->weights = 0;
    /* Running max and sum for one row of the last dim when groups are strided. */
    n->scratch = p->inner > 1 ? 2 * (size_t)x->shape.d[r - 1] : 0;
    return 0;
}

static void softmax_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    const softmax_params *p = n->params;
    const hidp__shape *shape = &hidp__out(g, n, 0)->shape;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__shape e;
    int map[HIDP_MAX_DIMS], r = shape->ndim;
    int64_t elo[HIDP_MAX_DIMS], ehi[HIDP_MAX_DIMS], lo[HIDP_MAX_DIMS], hi[HIDP_MAX_DIMS];
    int64_t cur[HIDP_MAX_DIMS], st[HIDP_MAX_DIMS];

    /* The slice as a box of the real dims. */
    hidp__expand4(shape, &e, map);
    if (!hidp__slice_box(&e, s, elo, ehi))
        return;
    for (int k = 0; k < e.ndim; k++)
        if (map[k] >= 0) {
            lo[map[k]] = elo[k];
            hi[map[k]] = ehi[k];
        }
    hidp__strides(shape, st);

    if (p->inner == 1) {
        /* Each group is contiguous: for each outer index (dims before axis), one max and sum,
         * then the slice's part of the group (dims from axis on; the last dim a run). */
        memcpy(cur, lo, sizeof(int64_t) * (size_t)r);
        do {
            int64_t go = 0;
            for (int k = 0; k < p->axis; k++)
                go += cur[k] * st[k];
            const float *xg = x + go;
            float *yg = y + go;
            float mx = -INFINITY, sum = 0.0f;
            for (int64_t a = 0; a < p->d; a++)
                mx = xg[a] > mx ? xg[a] : mx;
            for (int64_t a = 0; a < p->d; a++)
                sum += expf(xg[a] - mx);
            float inv = 1.0f / sum;
            do {
                int64_t within = 0;
                for (int k = p->axis; k < r - 1; k++)
                    within += cur[k] * st[k];
                for (int64_t a = within + lo[r - 1]; a < within + hi[r - 1]; a++)
                    yg[a] = expf(xg[a] - mx) * inv;
            } while (hidp__box_next(r - 1 - p->axis, lo + p->axis, hi + p->axis, cur + p->axis));
        } while (hidp__box_next(p->axis, lo, hi, cur));
        return;
    }

    /* Strided groups: for each outer index and each row of the inner dims' last dim, keep a
     * running max and sum per column across the d reduced positions. */
    float *mx = scratch, *sm = scratch + shape->d[r - 1];
    int64_t j0 = lo[r - 1], j1 = hi[r - 1];
    memcpy(cur, lo, sizeof(int64_t) * (size_t)r);
    for (int k = p->axis; k <= p->last; k++)
        cur[k] = 0; /* the walk below skips the reduced dim */
    int64_t rlo[HIDP_MAX_DIMS], rhi[HIDP_MAX_DIMS];
    memcpy(rlo, lo, sizeof rlo);
    memcpy(rhi, hi, sizeof rhi);
    rlo[p->axis] = 0;
    rhi[p->axis] = 1;
    do {
        int64_t base = 0;
        for (int k = 0; k < r - 1; k++)
            base += cur[k] * st[k];
        const float *xb = x + base;
        float *yb = y + base;
        for (int64_t j = j0; j < j1; j++) {
            mx[j] = -INFINITY;
            sm[j] = 0.0f;
        }
        for (int64_t a = 0; a < p->d; a++) {
            const float *row = xb + a * p->inner;
            for (int64_t j = j0; j < j1; j++)
                mx[j] = row[j] > mx[j] ? row[j] : mx[j];
        }
        for (int64_t a = 0; a < p->d; a++) {
            const float *row = xb + a * p->inner;
            for (int64_t j = j0; j < j1; j++)
                sm[j] += expf(row[j] - mx[j]);
        }
        for (int64_t j = j0; j < j1; j++)
            sm[j] = 1.0f / sm[j];
        for (int64_t a = lo[p->axis]; a < hi[p->axis]; a++) {
            const float *row = xb + a * p->inner;
            float *out = yb + a * p->inner;
            for (int64_t j = j0; j < j1; j++)
                out[j] = expf(row[j] - mx[j]) * sm[j];
        }
    } while (hidp__box_next(r - 1, rlo, rhi, cur));
}

/* The reference: each element of the slice from the definition, max and sum of its group in
 * double. */
static void softmax_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s,
                            float *scratch)
{
    (void)scratch;
    const softmax_params *p = n->params;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w;
                    int64_t o = idx / (p->d * p->inner), i = idx % p->inner;
                    const float *grp = x + o * p->d * p->inner + i;
                    double mx = -INFINITY, sum = 0;
                    for (int64_t a = 0; a < p->d; a++)
                        mx = fmax(mx, grp[a * p->inner]);
                    for (int64_t a = 0; a < p->d; a++)
                        sum += exp(grp[a * p->inner] - mx);
                    y[idx] = (float)(exp(x[idx] - mx) / sum);
                }
}

const hidp__op_def hidp__op_softmax = {
    "Softmax", 0, softmax_parse, softmax_reshape, softmax_run, softmax_run_ref, NULL, NULL};
