/*
 * activation.c - element-wise activations: the fused epilogue every producer uses
 * (hidp__act_apply) and the standalone ops Relu, Clip, Sigmoid, HardSigmoid, HardSwish and
 * LeakyRelu, which all store a hidp__act in node->params and run the same math.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

/* The activations run once per element of nearly every layer's output, so they must not branch
 * on the data (a ReLU on random signs mispredicts half the time) and should use SIMD even at
 * -O2, where GCC vectorises almost nothing. With GCC or Clang we write them on 4-float generic
 * vectors (SSE on x86, NEON on ARM) with mask selects; other compilers get the plain loops. */
#if defined(__GNUC__) && (defined(__clang__) || __GNUC__ >= 9)
#define ACT_SIMD 1
typedef float vf __attribute__((vector_size(16)));
typedef int32_t vi __attribute__((vector_size(16)));

static inline vf vsplat(float x)
{
    return (vf){x, x, x, x};
}
static inline vf vsel(vi m, vf a, vf b) /* m ? a : b, lane by lane */
{
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}
static inline vf vclamp(vf v, vf lo, vf hi)
{
    v = vsel(v < lo, lo, v);
    return vsel(v > hi, hi, v);
}

/* exp(x) to about 2e-7 relative: x = k ln2 + r with |r| <= ln2 / 2, a degree-6 polynomial for
 * exp(r) (Cephes' expf coefficients), 2^k built in the exponent bits. */
static inline vf vexp(vf x)
{
    x = vclamp(x, vsplat(-87.0f), vsplat(88.0f));
    vf fn = x * vsplat(1.44269504f);
    fn += vsel(fn >= vsplat(0.0f), vsplat(0.5f), vsplat(-0.5f));
    vi k = __builtin_convertvector(fn, vi); /* truncates: fn was offset to round */
    vf fk = __builtin_convertvector(k, vf);
    vf r = x - fk * vsplat(0.693359375f) + fk * vsplat(2.12194440e-4f);
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + vsplat(1.3981999507e-3f);
    p = p * r + vsplat(8.3334519073e-3f);
    p = p * r + vsplat(4.1665795894e-2f);
    p = p * r + vsplat(1.6666665459e-1f);
    p = p * r + vsplat(5.0000001201e-1f);
    p = p * r * r + r + vsplat(1.0f);
    return p * (vf)((k + 127) << 23);
}

/* Vector body over groups of 4, then the scalar tail; v / s name the element. */
#define ACT_LOOP(VEXPR, SEXPR)                                                                     \
    do {                                                                                           \
        size_t i = 0;                                                                              \
        for (; i + 4 <= n; i += 4) {                                                               \
            vf v;                                                                                  \
            memcpy(&v, src + i, sizeof v);                                                         \
            v = (VEXPR);                                                                           \
            memcpy(dst + i, &v, sizeof v);                                                         \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            float s = src[i];                                                                      \
            dst[i] = (SEXPR);                                                                      \
        }                                                                                          \
    } while (0)
#else
#define ACT_LOOP(VEXPR, SEXPR)                                                                     \
    do {                                                                                           \
        for (size_t i = 0; i < n; i++) {                                                           \
            float s = src[i];                                                                      \
            dst[i] = (SEXPR);                                                                      \
        }                                                                                          \
    } while (0)
#endif

static inline float clampf(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* One activation from src to dst (which may be the same buffer). */
static void act_map(const hidp__act *a, const float *src, float *dst, size_t n)
{
    float al = a->alpha, be = a->beta;
#ifdef ACT_SIMD
    vf zero = vsplat(0.0f), one = vsplat(1.0f), valpha = vsplat(al), vbeta = vsplat(be);
    vf sixth = vsplat(1.0f / 6.0f), half = vsplat(0.5f);
#endif
    switch (a->kind) {
    case HIDP__ACT_RELU:
        ACT_LOOP(vsel(v > zero, v, zero), s > 0.0f ? s : 0.0f);
        break;
    case HIDP__ACT_CLIP:
        ACT_LOOP(vclamp(v, valpha, vbeta), clampf(s, al, be));
        break;
    case HIDP__ACT_LEAKY_RELU:
        ACT_LOOP(vsel(v >= zero, v, v * valpha), s >= 0.0f ? s : s * al);
        break;
    case HIDP__ACT_SIGMOID:
        ACT_LOOP(one / (one + vexp(-v)), 1.0f / (1.0f + expf(-s)));
        break;
    case HIDP__ACT_HARD_SIGMOID:
        ACT_LOOP(vclamp(valpha * v + vbeta, zero, one), clampf(al * s + be, 0.0f, 1.0f));
        break;
    case HIDP__ACT_HARD_SWISH:
        ACT_LOOP(v * vclamp(v * sixth + half, zero, one),
                 s * clampf(s * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f));
        break;
    case HIDP__ACT_SILU:
        ACT_LOOP(v / (one + vexp(-v)), s / (1.0f + expf(-s)));
        break;
    default:
        if (dst != src)
            memmove(dst, src, n * sizeof(float));
        break;
    }
}

void hidp__act_apply(const hidp__act *a, float *x, size_t n)
{
    if (a->kind != HIDP__ACT_NONE)
        act_map(a, x, x, n);
}

void hidp__act_apply_slice(const hidp__graph *g, const hidp__node *n, hidp__slice s)
{
    if (n->act.kind == HIDP__ACT_NONE)
        return;
    const hidp__value *y = hidp__out(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&y->shape);
    float *out = y->data;
    int64_t len = hidp__slice_run(v, s);
    for (int64_t ni = 0; ni < v.n; ni++)
        for (int64_t ci = s.c0; ci < s.c1; ci++) {
            float *p = out + hidp__plane_off(v, s, ni, ci);
            act_map(&n->act, p, p, (size_t)len);
        }
}

/* ---- standalone activation nodes ---- */

static int act_params(hidp__node *n, int kind, float alpha, float beta, hidp__err *err)
{
    hidp__act *a = malloc(sizeof *a);
    if (!a)
        return hidp__fail(err, HIDP_ENOMEM, "%s '%s': out of memory", n->op_type, n->name);
    a->kind = kind;
    a->alpha = alpha;
    a->beta = beta;
    free(n->params);
    n->params = a;
    return 0;
}

static int parse_relu(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    return act_params(n, HIDP__ACT_RELU, 0.0f, 0.0f, err);
}

static int parse_sigmoid(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    return act_params(n, HIDP__ACT_SIGMOID, 0.0f, 0.0f, err);
}

static int parse_hard_sigmoid(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    return act_params(n, HIDP__ACT_HARD_SIGMOID, hidp__attr_float(n, "alpha", 0.2f),
                      hidp__attr_float(n, "beta", 0.5f), err);
}

static int parse_hard_swish(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    return act_params(n, HIDP__ACT_HARD_SWISH, 0.0f, 0.0f, err);
}

static int parse_leaky_relu(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)g;
    return act_params(n, HIDP__ACT_LEAKY_RELU, hidp__attr_float(n, "alpha", 0.01f), 0.0f, err);
}

/* Clip before opset 11 has min/max attributes; from 11 they are optional inputs 1 and 2, which
 * reshape reads (they must be constants). */
static int parse_clip(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    float lo = -INFINITY, hi = INFINITY;
    if (hidp__opset(g) < 11) {
        lo = hidp__attr_float(n, "min", lo);
        hi = hidp__attr_float(n, "max", hi);
    }
    return act_params(n, HIDP__ACT_CLIP, lo, hi, err);
}

/* Reads Clip's optional constant scalar input i into *dst. */
static int clip_bound(const hidp__graph *g, hidp__node *n, int i, float *dst, hidp__err *err)
{
    const hidp__value *v = hidp__in(g, n, i);
    if (!v)
        return 0;
    if (!(v->flags & HIDP__VAL_CONST))
        return hidp__fail(err, HIDP_EUNSUPPORTED, "Clip '%s': input %d ('%s') must be a constant",
                          n->name, i, v->name);
    if (hidp__shape_count(&v->shape) != 1)
        return hidp__fail(err, HIDP_ESHAPE, "Clip '%s': input %d ('%s') must be a scalar", n->name,
                          i, v->name);
    *dst = v->dtype == HIDP__DT_I64 ? (float)*(const int64_t *)v->data : *(const float *)v->data;
    return 0;
}

static int act_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    int max_in = strcmp(n->op_type, "Clip") == 0 ? 3 : 1;
    int rc = hidp__check_inputs(g, n, 1, max_in, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    hidp__act *a = n->params;
    if (a->kind == HIDP__ACT_CLIP && hidp__opset(g) >= 11) {
        a->alpha = -INFINITY;
        a->beta = INFINITY;
        if ((rc = clip_bound(g, n, 1, &a->alpha, err)) || (rc = clip_bound(g, n, 2, &a->beta, err)))
            return rc;
    }
    hidp__value *x = hidp__in(g, n, 0), *y = hidp__out(g, n, 0);
    y->shape = x->shape;
    y->dtype = HIDP__DT_F32;
    n->flops = (double)hidp__shape_count(&x->shape) * (a->kind == HIDP__ACT_SIGMOID ? 4 : 1);
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

static void act_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const hidp__act *a = n->params;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    if (s.c0 == 0 && s.c1 == v.c && s.h0 == 0 && s.h1 == v.h) {
        act_map(a, x, y, (size_t)(v.n * v.c * v.h * v.w));
        return;
    }
    int64_t len = hidp__slice_run(v, s);
    for (int64_t ni = 0; ni < v.n; ni++)
        for (int64_t ci = s.c0; ci < s.c1; ci++) {
            int64_t off = hidp__plane_off(v, s, ni, ci);
            act_map(a, x + off, y + off, (size_t)len);
        }
}

/* The reference: one element at a time, straight from the ONNX definitions, in double. */
static float act_one(const hidp__act *a, float xf)
{
    double x = xf;
    switch (a->kind) {
    case HIDP__ACT_RELU:
        return (float)(x > 0 ? x : 0);
    case HIDP__ACT_CLIP:
        return (float)fmin(fmax(x, a->alpha), a->beta);
    case HIDP__ACT_LEAKY_RELU:
        return (float)(x < 0 ? a->alpha * x : x);
    case HIDP__ACT_SIGMOID:
        return (float)(1 / (1 + exp(-x)));
    case HIDP__ACT_HARD_SIGMOID:
        return (float)fmax(0, fmin(1, a->alpha * x + a->beta));
    case HIDP__ACT_HARD_SWISH:
        return (float)(x * fmax(0, fmin(1, x / 6 + 0.5)));
    case HIDP__ACT_SILU:
        return (float)(x / (1 + exp(-x)));
    }
    return xf;
}

static void act_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t i = ((in * v.c + c) * v.h + h) * v.w + w;
                    y[i] = act_one(n->params, x[i]);
                }
}

#define ACT_OP(sym, onnx, parser)                                                                  \
    const hidp__op_def sym = {onnx, 0, parser, act_reshape, act_run, act_run_ref, NULL, NULL}

ACT_OP(hidp__op_relu, "Relu", parse_relu);
ACT_OP(hidp__op_clip, "Clip", parse_clip);
ACT_OP(hidp__op_sigmoid, "Sigmoid", parse_sigmoid);
ACT_OP(hidp__op_hard_sigmoid, "HardSigmoid", parse_hard_sigmoid);
ACT_OP(hidp__op_hard_swish, "HardSwish", parse_hard_swish);
ACT_OP(hidp__op_leaky_relu, "LeakyRelu", parse_leaky_relu);
