/*
 * zoo_layers.c - the layer helpers the zoo builders use: each adds one node (and its weights)
 * to the graph, computes the output shape the way PyTorch does, and counts parameters and
 * multiply-adds. A failure is sticky (b->rc): later helpers return at once, so a builder reads as
 * a plain list of layers and checks b->rc once at the end.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo.h"

static const hidp__zt BAD = {-1, 0, 0, 0};

void hidp__zb_scope(hidp__zb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->scope, sizeof b->scope, fmt, ap);
    va_end(ap);
}

static int oom(hidp__zb *b)
{
    if (!b->rc)
        b->rc = hidp__fail(b->err, HIDP_ENOMEM, "%s: out of memory building the model", b->model);
    return b->rc;
}

/* "<scope>.<name>" (or name alone without a scope), made unique with a "_2", "_3"... suffix:
 * torchvision reuses one module ("layer1.0.relu") several times in a block. */
static void full_name(const hidp__zb *b, const char *name, char *buf, size_t len)
{
    if (b->scope[0])
        snprintf(buf, len, "%s.%s", b->scope, name);
    else
        snprintf(buf, len, "%s", name);
    if (hidp__graph_find(b->g, buf) < 0)
        return;
    char base[224];
    snprintf(base, sizeof base, "%s", buf);
    for (int k = 2;; k++) {
        snprintf(buf, len, "%s_%d", base, k);
        if (hidp__graph_find(b->g, buf) < 0)
            return;
    }
}

/* A float constant named "<scope>.<name>.<suffix>" of shape dims: normal(0, scale) for
 * HIDP__ZINIT_HE, uniform(-scale, scale) for HIDP__ZINIT_LINEAR, plus `offset`. Without data in a
 * dry build. Returns the value index or -1. */
static int weight(hidp__zb *b, const char *name, const char *suffix, int ndim,
                  const int64_t *dims, int init, double scale, double offset)
{
    char local[192], full[256];
    snprintf(local, sizeof local, "%s.%s", name, suffix);
    full_name(b, local, full, sizeof full);
    int v = hidp__graph_value(b->g, full);
    if (v < 0)
        return oom(b), -1;
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t count = hidp__shape_count(&s);
    float *d = NULL;
    if (!b->dry) {
        d = malloc((size_t)(count ? count : 1) * sizeof *d);
        if (!d)
            return oom(b), -1;
        for (int64_t i = 0; i < count; i++) {
            if (scale == 0) {
                d[i] = (float)offset;
                continue;
            }
            double r = init == HIDP__ZINIT_HE
                           ? hidp__zoo_normal(&b->rng, &b->spare, &b->has_spare)
                           : (double)(hidp__zoo_next(&b->rng) >> 11) * 0x1p-52 - 1.0;
            d[i] = (float)(offset + scale * r);
        }
    }
    hidp__graph_set_const(b->g, v, HIDP__DT_F32, &s, d);
    return v;
}

/* Adds node `op` called "<scope>.<name>" reading ins, writing a new value of that name with
 * shape `shape`. Returns the node or NULL (b->rc set). */
static hidp__node *add(hidp__zb *b, const char *op, const char *name, const int *ins, int n_in,
                       hidp__zt *shape)
{
    char full[256];
    full_name(b, name, full, sizeof full);
    int y = hidp__graph_value(b->g, full);
    if (y < 0)
        return oom(b), NULL;
    int k = hidp__graph_add_node(b->g, full, op, "", ins, n_in, &y, 1);
    if (k < 0)
        return oom(b), NULL;
    if (k >= b->cap_normalize) {
        int cap = b->cap_normalize ? 2 * b->cap_normalize : 256;
        char *p = realloc(b->normalize, (size_t)cap);
        if (!p)
            return oom(b), NULL;
        memset(p + b->cap_normalize, 0, (size_t)(cap - b->cap_normalize));
        b->normalize = p;
        b->cap_normalize = cap;
    }
    shape->v = y;
    return &b->g->nodes[k];
}

/* Sets ints attribute name to {v, v} (pairs) or {v, v, v, v} (pads), turning an allocation
 * failure into b->rc. */
static void set_ints(hidp__zb *b, hidp__node *n, const char *name, int64_t v)
{
    const int64_t vals[4] = {v, v, v, v};
    if (!b->rc && hidp__node_set_ints(n, name, vals, strcmp(name, "pads") == 0 ? 4 : 2) != 0)
        oom(b);
}

static void set_int(hidp__zb *b, hidp__node *n, const char *name, int64_t v)
{
    if (!b->rc && hidp__node_set_int(n, name, v) != 0)
        oom(b);
}

/* Output size of a window of k with stride s and pad p over in, PyTorch's rule (in ceil mode a
 * window starting in the right padding is dropped); -1 if the padded input is smaller than k. */
static int64_t window_out(int64_t in, int64_t k, int64_t s, int64_t p, int ceil_mode)
{
    int64_t span = in + 2 * p - k;
    if (span < 0)
        return -1;
    int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p)
        out--;
    return out;
}

static int too_small(hidp__zb *b, const char *what, const char *name, hidp__zt x, int64_t k)
{
    char full[256];
    full_name(b, name, full, sizeof full);
    b->too_small = 1;
    b->rc = hidp__fail(b->err, HIDP_EINVAL,
                       "%s: image_size %lld is too small: %s '%s' would get a %lldx%lld feature "
                       "map, smaller than its %lldx%lld window", b->model, (long long)b->size,
                       what, full, (long long)x.h, (long long)x.w, (long long)k, (long long)k);
    return b->rc;
}

hidp__zt hidp__zb_conv(hidp__zb *b, hidp__zt x, const char *name, int64_t out_c, int64_t k,
                       int64_t stride, int64_t pad, int64_t groups, int bias)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = {-1, out_c, window_out(x.h, k, stride, pad, 0), window_out(x.w, k, stride, pad, 0)};
    if (y.h < 1 || y.w < 1)
        return too_small(b, "Conv", name, x, k), BAD;
    int64_t cg = x.c / groups, fan_in = cg * k * k;
    int64_t wd[4] = {out_c, cg, k, k};
    int in[3] = {x.v, weight(b, name, "weight", 4, wd, HIDP__ZINIT_HE, sqrt(2.0 / fan_in), 0), -1};
    if (bias)
        in[2] = weight(b, name, "bias", 1, &out_c, HIDP__ZINIT_HE, 0.1, 0);
    if (b->rc)
        return BAD;
    hidp__node *n = add(b, "Conv", name, in, bias ? 3 : 2, &y);
    if (!n)
        return BAD;
    set_ints(b, n, "kernel_shape", k);
    set_ints(b, n, "strides", stride);
    set_ints(b, n, "pads", pad);
    set_ints(b, n, "dilations", 1);
    set_int(b, n, "group", groups);
    b->params += out_c * fan_in + (bias ? out_c : 0);
    b->macs += (double)out_c * (double)(y.h * y.w) * (double)fan_in;
    return b->rc ? BAD : y;
}

hidp__zt hidp__zb_bn(hidp__zb *b, hidp__zt x, const char *name, float eps, double gamma)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = x;
    int in[5] = {x.v, weight(b, name, "weight", 1, &x.c, HIDP__ZINIT_HE, 0.1 * gamma, gamma),
                 weight(b, name, "bias", 1, &x.c, HIDP__ZINIT_HE, 0.1, 0),
                 weight(b, name, "running_mean", 1, &x.c, HIDP__ZINIT_HE, 0, 0),
                 weight(b, name, "running_var", 1, &x.c, HIDP__ZINIT_HE, 0, 1.0)};
    if (b->rc)
        return BAD;
    hidp__node *n = add(b, "BatchNormalization", name, in, 5, &y);
    if (n && hidp__node_set_float(n, "epsilon", eps) != 0)
        oom(b);
    b->params += 2 * x.c;
    return b->rc ? BAD : y;
}

static hidp__zt unary(hidp__zb *b, hidp__zt x, const char *op, const char *name)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = x;
    return add(b, op, name, &x.v, 1, &y) ? y : BAD;
}

hidp__zt hidp__zb_relu(hidp__zb *b, hidp__zt x, const char *name)
{
    return unary(b, x, "Relu", name);
}

hidp__zt hidp__zb_sigmoid(hidp__zb *b, hidp__zt x, const char *name)
{
    return unary(b, x, "Sigmoid", name);
}

/* A float scalar constant (Clip's bounds). */
static int scalar(hidp__zb *b, const char *name, float value)
{
    int v = hidp__graph_value(b->g, name);
    float *d = malloc(sizeof *d);
    if (v < 0 || !d) {
        free(d);
        return oom(b), -1;
    }
    *d = value;
    hidp__shape s = hidp__shape_make(0, NULL);
    hidp__graph_set_const(b->g, v, HIDP__DT_F32, &s, d);
    return v;
}

/* Clip(x, 0, 6) with its bounds as inputs (opset 11 and later), as PyTorch exports ReLU6. */
hidp__zt hidp__zb_relu6(hidp__zb *b, hidp__zt x, const char *name)
{
    if (b->rc || x.v < 0)
        return BAD;
    if (b->clip_lo < 0) {
        b->clip_lo = scalar(b, "relu6.min", 0.0f);
        b->clip_hi = scalar(b, "relu6.max", 6.0f);
        if (b->rc)
            return BAD;
    }
    hidp__zt y = x;
    int in[3] = {x.v, b->clip_lo, b->clip_hi};
    return add(b, "Clip", name, in, 3, &y) ? y : BAD;
}

hidp__zt hidp__zb_silu(hidp__zb *b, hidp__zt x, const char *name)
{
    char sig[160];
    snprintf(sig, sizeof sig, "%s.sigmoid", name);
    hidp__zt s = unary(b, x, "Sigmoid", sig);
    return hidp__zb_mul(b, x, s, name);
}

hidp__zt hidp__zb_maxpool(hidp__zb *b, hidp__zt x, const char *name, int64_t k, int64_t stride,
                          int64_t pad, int ceil_mode)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = {-1, x.c, window_out(x.h, k, stride, pad, ceil_mode),
                  window_out(x.w, k, stride, pad, ceil_mode)};
    if (y.h < 1 || y.w < 1)
        return too_small(b, "MaxPool", name, x, k), BAD;
    hidp__node *n = add(b, "MaxPool", name, &x.v, 1, &y);
    if (!n)
        return BAD;
    set_ints(b, n, "kernel_shape", k);
    set_ints(b, n, "strides", stride);
    set_ints(b, n, "pads", pad);
    if (ceil_mode)
        set_int(b, n, "ceil_mode", 1);
    return b->rc ? BAD : y;
}

hidp__zt hidp__zb_avgpool(hidp__zb *b, hidp__zt x, const char *name, int64_t k, int64_t stride)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = {-1, x.c, window_out(x.h, k, stride, 0, 0), window_out(x.w, k, stride, 0, 0)};
    if (y.h < 1 || y.w < 1)
        return too_small(b, "AveragePool", name, x, k), BAD;
    hidp__node *n = add(b, "AveragePool", name, &x.v, 1, &y);
    if (!n)
        return BAD;
    set_ints(b, n, "kernel_shape", k);
    set_ints(b, n, "strides", stride);
    return b->rc ? BAD : y;
}

hidp__zt hidp__zb_gap(hidp__zb *b, hidp__zt x, const char *name)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = {-1, x.c, 1, 1};
    return add(b, "GlobalAveragePool", name, &x.v, 1, &y) ? y : BAD;
}

static hidp__zt binary(hidp__zb *b, const char *op, hidp__zt x, hidp__zt y, const char *name)
{
    if (b->rc || x.v < 0 || y.v < 0)
        return BAD;
    hidp__zt z = x;
    int in[2] = {x.v, y.v};
    return add(b, op, name, in, 2, &z) ? z : BAD;
}

hidp__zt hidp__zb_add(hidp__zb *b, hidp__zt x, hidp__zt y, const char *name)
{
    return binary(b, "Add", x, y, name);
}

hidp__zt hidp__zb_mul(hidp__zb *b, hidp__zt x, hidp__zt y, const char *name)
{
    return binary(b, "Mul", x, y, name);
}

hidp__zt hidp__zb_concat(hidp__zb *b, const hidp__zt *xs, int n, const char *name)
{
    int in[8];
    if (b->rc || n < 1 || n > 8)
        return BAD;
    hidp__zt y = xs[0];
    y.c = 0;
    for (int i = 0; i < n; i++) {
        if (xs[i].v < 0)
            return BAD;
        in[i] = xs[i].v;
        y.c += xs[i].c;
    }
    hidp__node *nd = add(b, "Concat", name, in, n, &y);
    if (nd)
        set_int(b, nd, "axis", 1);
    return b->rc ? BAD : y;
}

hidp__zt hidp__zb_flatten(hidp__zb *b, hidp__zt x, const char *name)
{
    if (b->rc || x.v < 0)
        return BAD;
    hidp__zt y = {-1, x.c * (x.h ? x.h : 1) * (x.w ? x.w : 1), 0, 0};
    hidp__node *n = add(b, "Flatten", name, &x.v, 1, &y);
    if (n)
        set_int(b, n, "axis", 1);
    return b->rc ? BAD : y;
}

hidp__zt hidp__zb_linear(hidp__zb *b, hidp__zt x, const char *name, int64_t out, int init)
{
    if (b->rc || x.v < 0)
        return BAD;
    int64_t wd[2] = {out, x.c};
    double bound = 1.0 / sqrt((double)x.c);
    double ws = init == HIDP__ZINIT_HE ? sqrt(2.0 / (double)x.c) : bound;
    double bs = init == HIDP__ZINIT_HE ? 0.1 : bound;
    int in[3] = {x.v, weight(b, name, "weight", 2, wd, init, ws, 0),
                 weight(b, name, "bias", 1, &out, init, bs, 0)};
    if (b->rc)
        return BAD;
    hidp__zt y = {-1, out, 0, 0};
    hidp__node *n = add(b, "Gemm", name, in, 3, &y);
    if (n)
        set_int(b, n, "transB", 1);
    b->params += out * x.c + out;
    b->macs += (double)out * (double)x.c;
    return b->rc ? BAD : y;
}

void hidp__zb_normalize(hidp__zb *b, hidp__zt x)
{
    if (b->rc || x.v < 0)
        return;
    int p = b->g->vals[x.v].producer;
    if (p >= 0 && p < b->cap_normalize)
        b->normalize[p] = 1;
}
