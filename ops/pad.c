/*
 * pad.c - Pad: modes constant, reflect and edge; negative pads crop.
 *
 * Pads come from the `pads` attribute before opset 11 and from a constant int64 input after.
 * Negative pads crop first (as ONNX Runtime does), then reflect / edge padding works on the
 * cropped extent. The kernel walks the output rows of its slice: rows that fall in the padding
 * of an outer dim are filled, the others are left padding, one memcpy, right padding.
 */
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

typedef struct pad_params {
    int mode;
    float value;
    int64_t begin[HIDP_MAX_DIMS], end[HIDP_MAX_DIMS]; /* pads per dim, set by reshape */
} pad_params;

static int pad_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    const char *mode = hidp__attr_string(n, "mode");
    int m;
    if (!mode || strcmp(mode, "constant") == 0)
        m = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        m = PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        m = PAD_EDGE;
    else
        return hidp__fail(err, HIDP_EUNSUPPORTED, "Pad '%s': mode '%s' is not supported", n->name,
                          mode);
    pad_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "Pad '%s': out of memory", n->name);
    p->mode = m;
    free(n->params);
    n->params = p;
    return 0;
}

static int pad_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    pad_params *p = n->params;
    int64_t pads[2 * HIDP_MAX_DIMS];
    int cnt, rc = hidp__check_inputs(g, n, 1, 4, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    int r = x->shape.ndim;
    if (hidp__opset(g) < 11) {
        const int64_t *a;
        cnt = hidp__attr_ints(n, "pads", &a);
        if (cnt < 0)
            return hidp__fail(err, HIDP_EFORMAT, "Pad '%s': attribute 'pads' is missing", n->name);
        if (cnt == 2 * r)
            memcpy(pads, a, (size_t)cnt * sizeof *a);
        p->value = hidp__attr_float(n, "value", 0.0f);
    } else {
        if (hidp__in(g, n, 3))
            return hidp__fail(err, HIDP_EUNSUPPORTED, "Pad '%s': the axes input is not supported",
                              n->name);
        if (!hidp__in(g, n, 1))
            return hidp__fail(err, HIDP_EFORMAT, "Pad '%s': input 1 (pads) is missing", n->name);
        cnt = hidp__const_ints(g, n, 1, pads, 2 * HIDP_MAX_DIMS, err);
        if (cnt < 0)
            return cnt;
        p->value = 0.0f;
        const hidp__value *cv = hidp__in(g, n, 2);
        if (cv) {
            if (!(cv->flags & HIDP__VAL_CONST))
                return hidp__fail(err, HIDP_EUNSUPPORTED,
                                  "Pad '%s': constant_value ('%s') must be a constant", n->name,
                                  cv->name);
            if (hidp__shape_count(&cv->shape) > 1)
                return hidp__fail(err, HIDP_ESHAPE, "Pad '%s': constant_value must be a scalar",
                                  n->name);
            if (hidp__shape_count(&cv->shape) == 1)
                p->value = cv->dtype == HIDP__DT_I64 ? (float)*(const int64_t *)cv->data
                                                     : *(const float *)cv->data;
        }
    }
    if (cnt != 2 * r)
        return hidp__fail(err, HIDP_ESHAPE, "Pad '%s': %d pads for input %s, expected %d", n->name,
                          cnt, hidp__fmt_shape(x, sx, sizeof sx), 2 * r);
    hidp__shape out = x->shape;
    for (int k = 0; k < r; k++) {
        int64_t b = pads[k], e = pads[r + k], d = x->shape.d[k];
        int64_t kept = d - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
        p->begin[k] = b;
        p->end[k] = e;
        out.d[k] = d + b + e;
        if (out.d[k] < 0 || kept < 0)
            return hidp__fail(err, HIDP_ESHAPE,
                              "Pad '%s': pads %lld, %lld crop more than dim %d (%lld) of input %s",
                              n->name, (long long)b, (long long)e, k, (long long)d,
                              hidp__fmt_shape(x, sx, sizeof sx));
        if (p->mode != PAD_CONSTANT && (b > 0 || e > 0)) {
            if (kept == 0)
                return hidp__fail(
                    err, HIDP_ESHAPE, "Pad '%s': cannot %s-pad empty dim %d of input %s", n->name,
                    p->mode == PAD_EDGE ? "edge" : "reflect", k, hidp__fmt_shape(x, sx, sizeof sx));
        }
    }
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = 0;
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

/* Input index for coordinate j relative to the kept (cropped) extent [0, len), or -1 for the
 * constant value. Reflection repeats with period 2 * (len - 1) when the pad exceeds len - 1. */
static int64_t pad_map(int mode, int64_t j, int64_t len)
{
    if (j >= 0 && j < len)
        return j;
    if (mode == PAD_CONSTANT)
        return -1;
    if (mode == PAD_EDGE || len == 1)
        return j < 0 ? 0 : len - 1;
    int64_t period = 2 * (len - 1);
    j %= period;
    if (j < 0)
        j += period;
    return j < len ? j : period - j;
}

/* Per-dim geometry of the expanded output (dims inserted by hidp__expand4 have no padding). */
typedef struct pad_dim {
    int64_t in_stride, crop, len, left, out;
} pad_dim;

static void pad_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const pad_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0), *vy = hidp__out(g, n, 0);
    const float *x = vx->data;
    float *y = vy->data;
    pad_dim dim[HIDP_MAX_DIMS];
    int64_t xst[HIDP_MAX_DIMS], ost[HIDP_MAX_DIMS], lo[HIDP_MAX_DIMS], hi[HIDP_MAX_DIMS];
    int64_t cur[HIDP_MAX_DIMS];
    int map[HIDP_MAX_DIMS];
    hidp__shape e;

    hidp__strides(&vx->shape, xst);
    hidp__expand4(&vy->shape, &e, map);
    for (int k = 0; k < e.ndim; k++) {
        int a = map[k];
        int64_t b = a < 0 ? 0 : p->begin[a], en = a < 0 ? 0 : p->end[a];
        int64_t d = a < 0 ? 1 : vx->shape.d[a];
        dim[k].in_stride = a < 0 ? 0 : xst[a];
        dim[k].crop = b < 0 ? -b : 0;
        dim[k].len = d - dim[k].crop - (en < 0 ? -en : 0);
        dim[k].left = b > 0 ? b : 0;
        dim[k].out = e.d[k];
    }
    if (!hidp__slice_box(&e, s, lo, hi))
        return;
    hidp__strides(&e, ost);
    int last = e.ndim - 1;
    const pad_dim *ld = &dim[last];
    int64_t mid0 = ld->left, mid1 = ld->left + ld->len; /* output columns copied as a block */
    if (mid1 > ld->out)
        mid1 = ld->out;
    memcpy(cur, lo, sizeof cur);
    do {
        int64_t ox = 0, oy = 0, fill = 0;
        for (int k = 0; k < last; k++) {
            int64_t i = pad_map(p->mode, cur[k] - dim[k].left, dim[k].len);
            if (i < 0)
                fill = 1;
            else
                ox += (dim[k].crop + i) * dim[k].in_stride;
            oy += cur[k] * ost[k];
        }
        float *row = y + oy;
        if (fill) {
            for (int64_t j = 0; j < ld->out; j++)
                row[j] = p->value;
            continue;
        }
        const float *src = x + ox + ld->crop * ld->in_stride;
        for (int64_t j = 0; j < ld->out; j++) {
            if (j == mid0 && mid1 > mid0) {
                memcpy(row + j, src, (size_t)(mid1 - mid0) * sizeof(float));
                j = mid1 - 1;
                continue;
            }
            int64_t i = pad_map(p->mode, j - ld->left, ld->len);
            row[j] = i < 0 ? p->value : src[i * ld->in_stride];
        }
    } while (hidp__box_next(last, lo, hi, cur));
}

/* The reference: for each output element, each input coordinate o - begin, brought back into
 * the kept range [lo, hi) by reflecting (repeatedly) or clamping. */
static void pad_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const pad_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0), *vy = hidp__out(g, n, 0);
    const float *x = vx->data;
    float *y = vy->data;
    hidp__view4 v = hidp__shape_view4(&vy->shape);
    int r = vx->shape.ndim;
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t idx = ((in * v.c + c) * v.h + h) * v.w + w, oc[HIDP_MAX_DIMS];
                    int64_t src = 0;
                    int outside = 0;
                    hidp__unravel(idx, &vy->shape, oc);
                    for (int k = 0; k < r; k++) {
                        int64_t lo = p->begin[k] < 0 ? -p->begin[k] : 0;
                        int64_t hi = vx->shape.d[k] - (p->end[k] < 0 ? -p->end[k] : 0);
                        int64_t i = oc[k] - p->begin[k];
                        if (p->mode == PAD_CONSTANT) {
                            outside |= i < lo || i >= hi;
                        } else if (p->mode == PAD_EDGE) {
                            i = i < lo ? lo : i >= hi ? hi - 1 : i;
                        } else {
                            while (hi - lo > 1 && (i < lo || i >= hi))
                                i = i < lo ? 2 * lo - i : 2 * (hi - 1) - i;
                            if (hi - lo == 1)
                                i = lo;
                        }
                        src = src * vx->shape.d[k] + i;
                    }
                    y[idx] = outside ? p->value : x[src];
                }
}

const hidp__op_def hidp__op_pad = {"Pad",   0,           pad_parse, pad_reshape,
                                   pad_run, pad_run_ref, NULL,      NULL};
