/*
 * gen_models.c - writes the small in-repo test models (test/data/NAME.onnx) and their inputs
 * (NAME.input.npy). They cover the ops and variants the shared torchvision fixtures do not:
 * ConvTranspose, Resize, Pad modes, LeakyRelu, HardSwish, Transpose, MatMul, ReduceMean,
 * Squeeze/Unsqueeze, shape subgraphs folded at load, old opsets, a dynamic batch dim.
 *
 * Not part of `make check`: run test/gen_models.sh, which also asks ONNX Runtime for the expected
 * outputs (NAME.ort.npy) that test_models compares against.
 *
 * usage: gen_models OUTDIR
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/npy.h"
#include "../engine/onnx.h"
#include "graph_build.h"

static unsigned seed_state = 1;

static float frand(void)
{
    seed_state = seed_state * 1103515245u + 12345u;
    return (float)((seed_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* A float constant of the given dims, uniform in [-scale, scale]. */
static int weight(const char *name, float scale, int ndim, const int64_t *dims)
{
    int v = hidp__graph_value(&G, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t n = hidp__shape_count(&s);
    float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    for (int64_t i = 0; i < n; i++)
        d[i] = frand() * scale;
    hidp__graph_set_const(&G, v, HIDP__DT_F32, &s, d);
    return v;
}

/* Starts a model with one runtime input. */
static void begin_model(int64_t opset, const char *input_name, int ndim, const int64_t *decl)
{
    begin(opset);
    input(input_name, ndim, decl);
}

/* A 1-D int64 constant of count values. */
static int ivec(const char *name, int64_t count, const int64_t *vals)
{
    return iconst(name, 1, &count, vals);
}

#define I64S(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static int finish(const char *dir, const char *name, const char *output_name, int ndim,
                  const int64_t *in_dims)
{
    char path[1024];
    hidp__err err = {0};
    output(output_name);
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    int rc = hidp__onnx_write_file(&G, path, &err);
    if (rc == 0) {
        hidp__shape s = hidp__shape_make(ndim, in_dims);
        int64_t n = hidp__shape_count(&s);
        float *x = malloc((size_t)n * sizeof *x);
        for (int64_t i = 0; i < n; i++)
            x[i] = frand() * 1.5f;
        snprintf(path, sizeof path, "%s/%s.input.npy", dir, name);
        rc = hidp__npy_save(path, x, in_dims, ndim, &err);
        free(x);
    }
    if (rc)
        fprintf(stderr, "gen_models: %s: %s\n", name, err.msg);
    hidp__graph_free(&G);
    return rc;
}

/* The README's default model: conv+BN+relu, maxpool, 1x1 conv, residual add, global pool, gemm,
 * softmax, with a dynamic batch dim. */
static int tiny_cnn(const char *dir)
{
    begin_model(13, "image", 4, (int64_t[]){-1, 3, 16, 16});
    weight("c1.w", 0.3f, 4, (int64_t[]){8, 3, 3, 3});
    weight("bn.scale", 1.0f, 1, (int64_t[]){8});
    weight("bn.bias", 0.2f, 1, (int64_t[]){8});
    weight("bn.mean", 0.2f, 1, (int64_t[]){8});
    fconst("bn.var", 1, (int64_t[]){8}, (const float[]){1.5f, 0.5f, 1, 2, 0.7f, 1.1f, 0.9f, 1.3f});
    hidp__node_set_ints(NODE("Conv", "c1", "image", "c1.w"), "pads", I64S(1, 1, 1, 1));
    hidp__node_set_float(NODE("BatchNormalization", "bn", "c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"),
                         "epsilon", 1e-5f);
    NODE("Relu", "r1", "bn");
    hidp__node *mp = NODE("MaxPool", "mp", "r1");
    hidp__node_set_ints(mp, "kernel_shape", I64S(2, 2));
    hidp__node_set_ints(mp, "strides", I64S(2, 2));
    weight("c2.w", 0.3f, 4, (int64_t[]){8, 8, 1, 1});
    weight("c2.b", 0.1f, 1, (int64_t[]){8});
    NODE("Conv", "c2", "mp", "c2.w", "c2.b");
    NODE("Add", "res", "c2", "mp");
    NODE("Relu", "r2", "res");
    NODE("GlobalAveragePool", "gap", "r2");
    hidp__node_set_int(NODE("Flatten", "flat", "gap"), "axis", 1);
    weight("fc.w", 0.4f, 2, (int64_t[]){10, 8});
    weight("fc.b", 0.1f, 1, (int64_t[]){10});
    hidp__node_set_int(NODE("Gemm", "fc", "flat", "fc.w", "fc.b"), "transB", 1);
    hidp__node_set_int(NODE("Softmax", "prob", "fc"), "axis", 1);
    return finish(dir, "tiny_cnn", "prob", 4, (int64_t[]){2, 3, 16, 16});
}

/* Decoder-style ops: ConvTranspose, Resize (nearest and linear), Pad (reflect, edge), LeakyRelu,
 * HardSwish, Concat, Sigmoid, Mul, AveragePool counting pads. */
static int upsample_net(const char *dir)
{
    begin_model(14, "x", 4, (int64_t[]){1, 4, 9, 11});
    weight("ct.w", 0.3f, 4, (int64_t[]){4, 6, 3, 3});
    weight("ct.b", 0.1f, 1, (int64_t[]){6});
    hidp__node *ct = NODE("ConvTranspose", "ct", "x", "ct.w", "ct.b");
    hidp__node_set_ints(ct, "strides", I64S(2, 2));
    hidp__node_set_ints(ct, "pads", I64S(1, 0, 1, 1));
    hidp__node_set_ints(ct, "output_padding", I64S(1, 0));
    hidp__node_set_float(NODE("LeakyRelu", "lr", "ct"), "alpha", 0.1f);
    ivec("pads", 8, (int64_t[]){0, 0, 1, 2, 0, 0, 2, 1});
    hidp__node_set_string(NODE("Pad", "pad", "lr", "pads"), "mode", "reflect");
    fconst("scales", 1, (int64_t[]){4}, (const float[]){1, 1, 0.5f, 0.5f});
    hidp__node *rl = NODE("Resize", "down", "pad", "", "scales");
    hidp__node_set_string(rl, "mode", "linear");
    ivec("sizes", 4, (int64_t[]){1, 6, 14, 21});
    hidp__node *rn = NODE("Resize", "up", "down", "", "", "sizes");
    hidp__node_set_string(rn, "mode", "nearest");
    hidp__node_set_string(rn, "coordinate_transformation_mode", "asymmetric");
    hidp__node_set_string(rn, "nearest_mode", "floor");
    NODE("HardSwish", "hs", "up");
    NODE("Sigmoid", "sg", "up");
    NODE("Mul", "gate", "hs", "sg");
    ivec("pads2", 8, (int64_t[]){0, 0, 0, 1, 0, 0, 1, 0});
    hidp__node_set_string(NODE("Pad", "edge", "gate", "pads2"), "mode", "edge");
    hidp__node *ap = NODE("AveragePool", "avg", "edge");
    hidp__node_set_ints(ap, "kernel_shape", I64S(3, 3));
    hidp__node_set_ints(ap, "pads", I64S(1, 1, 1, 1));
    hidp__node_set_int(ap, "count_include_pad", 1);
    hidp__node_set_int(NODE("Concat", "cat", "avg", "edge"), "axis", 1);
    return finish(dir, "upsample_net", "cat", 4, (int64_t[]){1, 4, 9, 11});
}

/* Shape arithmetic the way exporters write it (Shape -> Gather -> Unsqueeze -> Concat ->
 * Reshape), Transpose, MatMul, ReduceMean, Squeeze/Unsqueeze, standalone BatchNormalization,
 * Softmax on the last axis, with a dynamic batch. */
static int shape_net(const char *dir)
{
    begin_model(13, "x", 4, (int64_t[]){-1, 6, 5, 8});
    weight("bn.scale", 1.0f, 1, (int64_t[]){6});
    weight("bn.bias", 0.3f, 1, (int64_t[]){6});
    weight("bn.mean", 0.3f, 1, (int64_t[]){6});
    fconst("bn.var", 1, (int64_t[]){6}, (const float[]){1, 2, 0.5f, 0.8f, 1.2f, 3});
    NODE("BatchNormalization", "bn", "x", "bn.scale", "bn.bias", "bn.mean", "bn.var");
    NODE("Shape", "shp", "bn");
    ivec("zero", 1, (int64_t[]){0});
    int zi = hidp__graph_find(&G, "zero");
    G.vals[zi].shape.ndim = 0; /* a scalar index, as PyTorch writes it */
    hidp__node_set_int(NODE("Gather", "batch", "shp", "zero"), "axis", 0);
    ivec("axes0", 1, (int64_t[]){0});
    NODE("Unsqueeze", "batch1", "batch", "axes0");
    ivec("rest", 2, (int64_t[]){6, -1});
    hidp__node_set_int(NODE("Concat", "newshape", "batch1", "rest"), "axis", 0);
    NODE("Reshape", "rows", "bn", "newshape");              /* N x 6 x 40 */
    hidp__node_set_ints(NODE("Transpose", "tr", "rows"), "perm", I64S(0, 2, 1)); /* N x 40 x 6 */
    weight("mm.w", 0.5f, 2, (int64_t[]){6, 12});
    NODE("MatMul", "mm", "tr", "mm.w");                     /* N x 40 x 12 */
    hidp__node_set_int(NODE("Softmax", "sm", "mm"), "axis", -1);
    hidp__node *rm = NODE("ReduceMean", "mean", "sm");
    hidp__node_set_ints(rm, "axes", I64S(1));
    hidp__node_set_int(rm, "keepdims", 1);                  /* N x 1 x 12 */
    ivec("axes1", 1, (int64_t[]){1});
    NODE("Squeeze", "sq", "mean", "axes1");                 /* N x 12 */
    ivec("axes2", 2, (int64_t[]){2, 3});
    NODE("Unsqueeze", "y", "sq", "axes2");                  /* N x 12 x 1 x 1 */
    return finish(dir, "shape_net", "y", 4, (int64_t[]){3, 6, 5, 8});
}

/* Opset 10: Clip and Pad with attributes (inputs from opset 11), grouped and dilated convs,
 * ceil-mode max pooling, Flatten + Gemm. */
static int opset10_net(const char *dir)
{
    begin_model(10, "x", 4, (int64_t[]){1, 6, 17, 13});
    weight("g.w", 0.4f, 4, (int64_t[]){6, 2, 3, 3});
    hidp__node *gc = NODE("Conv", "gconv", "x", "g.w");
    hidp__node_set_int(gc, "group", 3);
    hidp__node_set_ints(gc, "dilations", I64S(2, 1));
    hidp__node_set_ints(gc, "pads", I64S(2, 1, 2, 1));
    hidp__node *cl = NODE("Clip", "clip", "gconv");
    hidp__node_set_float(cl, "min", -0.5f);
    hidp__node_set_float(cl, "max", 0.8f);
    hidp__node *pd = NODE("Pad", "pad", "clip");
    hidp__node_set_ints(pd, "pads", I64S(0, 0, 1, 0, 0, 0, 0, 2));
    hidp__node_set_float(pd, "value", 0.25f);
    hidp__node *mp = NODE("MaxPool", "mp", "pad");
    hidp__node_set_ints(mp, "kernel_shape", I64S(3, 3));
    hidp__node_set_ints(mp, "strides", I64S(2, 2));
    hidp__node_set_int(mp, "ceil_mode", 1);
    weight("dw.w", 0.5f, 4, (int64_t[]){6, 1, 3, 3});
    hidp__node *dw = NODE("Conv", "dw", "mp", "dw.w");
    hidp__node_set_int(dw, "group", 6);
    hidp__node_set_string(dw, "auto_pad", "SAME_UPPER");
    hidp__node_set_ints(dw, "strides", I64S(2, 2));
    hidp__node_set_float(NODE("HardSigmoid", "hsig", "dw"), "alpha", 0.3f);
    hidp__node_set_int(NODE("Flatten", "flat", "hsig"), "axis", 1);
    weight("fc.w", 0.3f, 2, (int64_t[]){120, 5});
    weight("fc.b", 0.2f, 1, (int64_t[]){5});
    hidp__node *fc = NODE("Gemm", "fc", "flat", "fc.w", "fc.b");
    hidp__node_set_float(fc, "alpha", 0.5f);
    hidp__node_set_float(fc, "beta", 2.0f);
    hidp__node_set_int(NODE("Softmax", "prob", "fc"), "axis", 1);
    return finish(dir, "opset10_net", "prob", 4, (int64_t[]){1, 6, 17, 13});
}

/* Two ops hidp does not implement (LRN, Hardmax): load must succeed, prepare and `hidp info`
 * must name both with their nodes. Input as tiny_cnn's. */
static int unsupported_op(const char *dir)
{
    begin_model(13, "image", 4, (int64_t[]){-1, 3, 16, 16});
    weight("c.w", 0.3f, 4, (int64_t[]){4, 3, 3, 3});
    NODE("Conv", "c", "image", "c.w");
    hidp__node *lrn = NODE("LRN", "lrn1", "c");
    hidp__node_set_int(lrn, "size", 3);
    NODE("Relu", "r", "lrn1");
    NODE("Hardmax", "hm1", "r");
    return finish(dir, "unsupported_op", "hm1", 4, (int64_t[]){1, 3, 16, 16});
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_models OUTDIR\n");
        return 2;
    }
    int rc = tiny_cnn(argv[1]) | upsample_net(argv[1]) | shape_net(argv[1]) | opset10_net(argv[1]) |
             unsupported_op(argv[1]);
    return rc ? 1 : 0;
}
