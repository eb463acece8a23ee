/*
 * batchnorm.c - BatchNormalization in inference mode, for the ones not folded into a conv.
 *
 * y = (x - mean) / sqrt(var + epsilon) * scale + B per channel (dim 1). reshape turns the four
 * constant inputs into one multiplier and one offset per channel, so the kernel is a
 * multiply-add over each (n, c) plane.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

typedef struct bn_params {
    float epsilon;
    int64_t c;  /* channels the arrays below hold */
    float *mul; /* scale / sqrt(var + eps) */
    float *add; /* B - mean * mul */
} bn_params;

static void bn_destroy(hidp__node *n)
{
    bn_params *p = n->params;
    if (p) {
        free(p->mul);
        free(p->add);
        free(p);
    }
    n->params = NULL;
}

static int bn_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    if (hidp__attr_int(n, "training_mode", 0) != 0)
        return hidp__fail(
            err, HIDP_EUNSUPPORTED,
            "BatchNormalization '%s': training_mode=1 is not supported (inference only)", n->name);
    bn_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "BatchNormalization '%s': out of memory", n->name);
    p->epsilon = hidp__attr_float(n, "epsilon", 1e-5f);
    if (n->params)
        bn_destroy(n);
    n->params = p;
    return 0;
}

static int bn_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    static const char *names[5] = {"X", "scale", "B", "mean", "var"};
    char sx[96], sv[96];
    bn_params *p = n->params;
    int rc = hidp__check_inputs(g, n, 5, 5, err);
    for (int i = 0; i < 5 && rc == 0; i++)
        rc = hidp__check_f32(g, n, i, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    if (x->shape.ndim < 2)
        return hidp__fail(err, HIDP_ESHAPE,
                          "BatchNormalization '%s': input %s has rank %d, expected at least 2",
                          n->name, hidp__fmt_shape(x, sx, sizeof sx), x->shape.ndim);
    int64_t c = x->shape.d[1];
    for (int i = 1; i < 5; i++) {
        const hidp__value *v = hidp__in(g, n, i);
        if (!(v->flags & HIDP__VAL_CONST))
            return hidp__fail(err, HIDP_EUNSUPPORTED,
                              "BatchNormalization '%s': %s ('%s') must be a constant", n->name,
                              names[i], v->name);
        if (v->shape.ndim != 1 || v->shape.d[0] != c)
            return hidp__fail(
                err, HIDP_ESHAPE,
                "BatchNormalization '%s': %s has shape %s, expected [%lld] for input %s", n->name,
                names[i], hidp__fmt_shape(v, sv, sizeof sv), (long long)c,
                hidp__fmt_shape(x, sx, sizeof sx));
    }
    float *mul = malloc((size_t)(c ? c : 1) * sizeof(float));
    float *add = malloc((size_t)(c ? c : 1) * sizeof(float));
    if (!mul || !add) {
        free(mul);
        free(add);
        return hidp__fail(err, HIDP_ENOMEM, "BatchNormalization '%s': out of memory", n->name);
    }
    const float *scale = hidp__in_f32(g, n, 1), *bias = hidp__in_f32(g, n, 2);
    const float *mean = hidp__in_f32(g, n, 3), *var = hidp__in_f32(g, n, 4);
    for (int64_t i = 0; i < c; i++) {
        mul[i] = (float)(scale[i] / sqrt((double)var[i] + p->epsilon));
        add[i] = (float)(bias[i] - (double)mean[i] * mul[i]);
    }
    free(p->mul);
    free(p->add);
    p->mul = mul;
    p->add = add;
    p->c = c;
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = x->shape;
    y->dtype = HIDP__DT_F32;
    n->flops = 2.0 * (double)hidp__shape_count(&x->shape);
    n->weights = 4 * c;
    n->scratch = 0;
    return 0;
}

static void bn_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const bn_params *p = n->params;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    int64_t len = hidp__slice_run(v, s);
    for (int64_t ni = 0; ni < v.n; ni++)
        for (int64_t ci = s.c0; ci < s.c1; ci++) {
            int64_t off = hidp__plane_off(v, s, ni, ci);
            const float *src = x + off;
            float *dst = y + off;
            float m = p->mul[ci], a = p->add[ci];
            for (int64_t i = 0; i < len; i++)
                dst[i] = src[i] * m + a;
        }
}

/* The reference: the ONNX formula per element, from the constant inputs, in double. */
static void bn_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const bn_params *p = n->params;
    const float *x = hidp__in_f32(g, n, 0), *scale = hidp__in_f32(g, n, 1);
    const float *bias = hidp__in_f32(g, n, 2), *mean = hidp__in_f32(g, n, 3);
    const float *var = hidp__in_f32(g, n, 4);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t i = ((in * v.c + c) * v.h + h) * v.w + w;
                    y[i] = (float)(((double)x[i] - mean[c]) / sqrt((double)var[c] + p->epsilon) *
                                       scale[c] +
                                   bias[c]);
                }
}

const hidp__op_def hidp__op_batch_normalization = {
    "BatchNormalization", HIDP__OP_CAN_FUSE, bn_parse, bn_reshape, bn_run,
    bn_run_ref,           bn_destroy,        NULL};
