/*
 * zoo.c - the model zoo's registry, its random generator and the public hidp_zoo_* API.
 *
 * Weights come from splitmix64 (one 64-bit state, a good generator for its size, trivially
 * seeded) through Box-Muller, drawn in the order the builder creates them, so a seed gives the
 * same bytes on every run. Building vgg16 draws 138 million normals; that, not the calibration
 * pass, is most of its build time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "onnx.h"
#include "zoo.h"

uint64_t hidp__zoo_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Box-Muller in Marsaglia's polar form: a point uniform in the unit disc gives two normals
 * with one log and no trigonometry (twice as fast as the basic form, which matters for vgg16's
 * 138 million weights). */
double hidp__zoo_normal(uint64_t *state, double *spare, int *has_spare)
{
    if (*has_spare) {
        *has_spare = 0;
        return *spare;
    }
    double u, v, s;
    do {
        u = (double)(hidp__zoo_next(state) >> 11) * 0x1p-52 - 1.0;
        v = (double)(hidp__zoo_next(state) >> 11) * 0x1p-52 - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    *spare = v * f;
    *has_spare = 1;
    return u * f;
}

static hidp__zt build_resnet18(hidp__zb *b, hidp__zt x) { return hidp__zoo_resnet(b, x, 18); }
static hidp__zt build_resnet50(hidp__zb *b, hidp__zt x) { return hidp__zoo_resnet(b, x, 50); }
static hidp__zt build_resnet152(hidp__zb *b, hidp__zt x) { return hidp__zoo_resnet(b, x, 152); }

static const struct zoo_model {
    const char *name;
    hidp__zt (*build)(hidp__zb *b, hidp__zt x);
} models[] = {
    {"resnet18", build_resnet18},
    {"resnet50", build_resnet50},
    {"resnet152", build_resnet152},
    {"vgg16", hidp__zoo_vgg16},
    {"mobilenet_v2", hidp__zoo_mobilenet_v2},
    {"squeezenet1_1", hidp__zoo_squeezenet1_1},
    {"efficientnet_b0", hidp__zoo_efficientnet_b0},
    {"googlenet", hidp__zoo_googlenet},
};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

int hidp_zoo_count(void)
{
    return N_MODELS;
}

const char *hidp_zoo_name(int index)
{
    return index >= 0 && index < N_MODELS ? models[index].name : NULL;
}

/* Images in the calibration batch. One image's statistics are not the population's: a channel
 * that varies little inside one image but a lot between images (squeeze-excitation gates, the
 * last small maps) gets too small a variance and blows up on the next image. The batch holds
 * about four 224x224 images' worth of pixels, so the pass costs about the same at any size up to
 * 224, from 1 to 16 images: past that, small maps make every image re-read all the weights for
 * little work (resnet152 at 32x32 took 4 s with 196 images). Measured on efficientnet_b0, the
 * most sensitive (SiLU and its gates are not scale-equivariant, so a fresh image's small
 * deviation from the calibration grows block after block; ReLU networks keep it as it is):
 * logits std on a fresh input 8.9 after calibrating on one 224x224 image, 1.6 after four, 2.0
 * at 128x128 (12 images), but 16 at 64x64 (16 images): tiny efficientnets drift. */
static int64_t calib_batch(int64_t size)
{
    int64_t n = 4 * 224 * 224 / (size * size);
    return n < 1 ? 1 : n > 16 ? 16 : n;
}

/* Builds model m into g (initialised here): input "input" [1,3,size,size], output "output".
 * dry: shapes and counts only (no weights, no calibration). */
static int build(const struct zoo_model *m, uint64_t seed, int64_t size, int dry, hidp__graph *g,
                 hidp__zoo_stats *st, hidp__err *err)
{
    hidp__zb b;
    memset(&b, 0, sizeof b);
    b.g = g;
    b.model = m->name;
    b.rng = seed;
    b.dry = dry;
    b.size = size;
    b.clip_lo = b.clip_hi = -1;
    b.err = err;
    hidp__graph_init(g);
    g->opset = 13;
    int x = hidp__graph_value(g, "input");
    g->inputs = malloc(sizeof *g->inputs);
    g->outputs = malloc(sizeof *g->outputs);
    if (x < 0 || !g->inputs || !g->outputs) {
        free(b.normalize);
        return hidp__fail(err, HIDP_ENOMEM, "%s: out of memory building the model", m->name);
    }
    g->vals[x].flags = HIDP__VAL_INPUT;
    g->vals[x].decl = hidp__shape_make(4, (const int64_t[]){1, 3, size, size});
    g->inputs[0] = x;
    g->n_inputs = 1;
    hidp__zt in = {x, 3, size, size};
    hidp__zt y = m->build(&b, in);
    int rc = b.rc;
    if (rc == 0 && (y.v < 0 || y.c != 1000 || y.h != 0))
        rc = hidp__fail(err, HIDP_EINVAL, "%s: the builder's output is not [1, 1000]", m->name);
    if (rc == 0 && strcmp(g->nodes[g->vals[y.v].producer].op_type, "Gemm") == 0) {
        /* PyTorch's default Linear init leaves the logits at 0.1 to 0.6 of unit scale depending
         * on the features' scale; rescaling the last layer puts every model's at unit RMS, so
         * comparisons with other engines are against outputs of one scale. */
        hidp__zb_normalize(&b, y);
    }
    if (rc == 0) {
        /* The logits are called "output", as torch.onnx.export(output_names=["output"]). */
        char *name = strdup("output");
        if (!name) {
            rc = hidp__fail(err, HIDP_ENOMEM, "%s: out of memory", m->name);
        } else {
            free(g->vals[y.v].name);
            g->vals[y.v].name = name;
            g->vals[y.v].flags |= HIDP__VAL_OUTPUT;
            g->outputs[0] = y.v;
            g->n_outputs = 1;
        }
    }
    double out_std = 0;
    if (rc == 0 && !dry)
        rc = hidp__zoo_calibrate(g, b.normalize, seed, calib_batch(size), &out_std, err);
    if (rc == 0 && st) {
        st->params = b.params;
        st->macs = b.macs;
        st->image_size = size;
        st->out_std = out_std;
    }
    free(b.normalize);
    return b.too_small ? 1 : rc;
}

/* The smallest image size in (lo, HIDP__ZOO_MAX_SIZE] that m builds at, or -1. Feature maps
 * only grow with the input, so the sizes that work form one range up to the maximum. */
static int64_t smallest_size(const struct zoo_model *m, int64_t lo)
{
    hidp__graph g;
    hidp__err e = {0, ""};
    int64_t hi = HIDP__ZOO_MAX_SIZE;
    int rc = build(m, 0, hi, 1, &g, NULL, &e);
    hidp__graph_free(&g);
    if (rc != 0)
        return -1;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        rc = build(m, 0, mid, 1, &g, NULL, &e);
        hidp__graph_free(&g);
        if (rc == 0)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

int hidp__zoo_graph(const char *name, uint64_t seed, int64_t image_size, int flags,
                    hidp__graph *g, hidp__zoo_stats *stats, hidp__err *err)
{
    const struct zoo_model *m = NULL;
    for (int i = 0; i < N_MODELS && name; i++)
        if (strcmp(models[i].name, name) == 0)
            m = &models[i];
    if (!m) {
        char list[256] = "";
        for (int i = 0; i < N_MODELS; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     models[i].name);
        hidp__graph_init(g);
        return hidp__fail(err, HIDP_EINVAL, "unknown zoo model '%s' (the zoo has: %s)",
                          name ? name : "(null)", list);
    }
    if (image_size == 0)
        image_size = 224;
    if (image_size < 1 || image_size > HIDP__ZOO_MAX_SIZE) {
        hidp__graph_init(g);
        return hidp__fail(err, HIDP_EINVAL, "%s: image_size %lld is out of range (1 to %d)",
                          name, (long long)image_size, HIDP__ZOO_MAX_SIZE);
    }
    int rc = build(m, seed, image_size, (flags & HIDP__ZOO_DRY) != 0, g, stats, err);
    if (rc == 1) {
        /* Name the size that works, after the message saying which layer collapsed. */
        int64_t min = smallest_size(m, image_size);
        size_t len = strlen(err->msg);
        if (min > 0 && len < sizeof err->msg)
            snprintf(err->msg + len, sizeof err->msg - len, " (the smallest size %s builds at "
                     "is %lld)", name, (long long)min);
        rc = HIDP_EINVAL;
    }
    return rc;
}

int hidp_zoo_build(hidp_context *ctx, const char *name, uint64_t seed, int32_t image_size,
                   void **onnx, size_t *size)
{
    hidp__err err = {0, ""};
    hidp__graph g;
    if (onnx)
        *onnx = NULL;
    if (size)
        *size = 0;
    if (!onnx || !size)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_zoo_build: onnx and size must not be NULL");
    int rc = hidp__zoo_graph(name, seed, image_size, 0, &g, NULL, &err);
    if (rc == 0)
        rc = hidp__onnx_write(&g, onnx, size, &err);
    hidp__graph_free(&g);
    return rc ? hidp__ctx_error(ctx, rc, &err) : 0;
}

void hidp_free(void *p)
{
    free(p);
}
