/*
 * test_zoo.c - the built-in model zoo: every model's layer shapes give torchvision's parameter
 * count exactly (and its multiply-adds), every model builds at a small image size, loads, and
 * runs with the optimized kernels to the same output as the reference kernels, with logits of a
 * sane scale; a seed gives the same bytes every time and another seed other bytes; bad names and
 * sizes fail with HIDP_EINVAL and a message that helps.
 *
 * Small image sizes keep the naive reference kernels affordable.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/model.h"
#include "../engine/onnx.h"
#include "../engine/zoo.h"
#include "emulated.h"
#include "tap.h"

static hidp_context *CTX;

/* Small sizes that keep each model's check meaningful and quick: vgg16 and googlenet need 32 for
 * their pools; efficientnet_b0 gets 128 because its logits' scale drifts more at small sizes on
 * inputs other than the calibration batch (see calib_batch in engine/zoo.c). heavy: the second
 * build with the same seed is skipped in a slow build (-O0, sanitizers) unless
 * HIDP_SLOW_TESTS=1; the build with another seed is done for the light models only (the
 * generator is the same code for all). */
static const struct {
    const char *name;
    int size;
    int heavy;
} cases[] = {
    {"resnet18", 64, 0},     {"resnet50", 64, 1},        {"resnet152", 32, 1},
    {"vgg16", 32, 1},        {"mobilenet_v2", 64, 0},    {"squeezenet1_1", 64, 0},
    {"efficientnet_b0", 128, 0}, {"googlenet", 32, 0},
};

/* Whether this build is too slow for the heavy rebuilds: resnet18 builds at 64x64 in about
 * 0.25 s at -O2, 0.7 s under sanitizers, 1.4 s at -O0. */
static int slow_build;
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Parameters counted from the graph itself, as PyTorch counts them: every float constant except
 * BatchNorm running statistics and scalars (ReLU6's bounds). Independent of the builder's own
 * count. */
static int64_t count_params(const hidp__graph *g)
{
    int64_t total = 0;
    for (int i = 0; i < g->n_vals; i++) {
        const hidp__value *v = &g->vals[i];
        if (!(v->flags & HIDP__VAL_CONST) || v->dtype != HIDP__DT_F32 || v->shape.ndim == 0 ||
            ends_with(v->name, ".running_mean") || ends_with(v->name, ".running_var"))
            continue;
        total += hidp__shape_count(&v->shape);
    }
    return total;
}

/* The layer shapes, without weights, at 224: torchvision's figures. */
static void check_shapes(const char *name)
{
    hidp__graph g;
    hidp__err err = {0, ""};
    hidp__zoo_stats st = {0};
    hidp__zoo_ref ref = {0};
    int rc = hidp__zoo_graph(name, 0, 0, HIDP__ZOO_DRY, &g, &st, &err);
    if (!tap_ok(rc == 0 && hidp__zoo_reference(name, &ref), "%s: layers build at 224", name)) {
        tap_diag("  rc %d: %s", rc, err.msg);
        hidp__graph_free(&g);
        return;
    }
    TAP_EQ_INT(count_params(&g), ref.params, "%s: parameters in the graph = torchvision's", name);
    TAP_EQ_INT(st.params, ref.params, "%s: the builder's count agrees", name);
    double gmacs = st.macs / 1e9;
    if (!tap_ok(fabs(gmacs - ref.gmacs) <= 0.006 + 0.001 * ref.gmacs,
                "%s: %.3f GMACs, torchvision says %.2f", name, gmacs, ref.gmacs))
        tap_diag("  off by %.4f", gmacs - ref.gmacs);
    const hidp__value *out = &g.vals[g.outputs[0]];
    tap_ok(g.n_outputs == 1 && strcmp(out->name, "output") == 0 &&
               strcmp(g.vals[g.inputs[0]].name, "input") == 0,
           "%s: input 'input', output 'output'", name);
    hidp__graph_free(&g);
}

/* A normal(0,1) input from its own seed (not the calibration one). */
static float *test_input(size_t count)
{
    float *x = malloc(count * sizeof *x);
    uint64_t state = 0x1234567;
    double spare = 0;
    int has = 0;
    for (size_t i = 0; x && i < count; i++)
        x[i] = (float)hidp__zoo_normal(&state, &spare, &has);
    return x;
}

/* Runs m once (reference kernels or optimized) on x; copies the output to out (1000 floats). */
static int run(hidp_model *m, int reference, const float *x, size_t count, float *out,
               double *secs)
{
    const float *y;
    size_t n;
    hidp__model_set_reference(m, reference);
    double t0 = now();
    int rc = hidp_model_prepare(m);
    if (rc == 0)
        rc = hidp_model_set_input(m, 0, x, count);
    if (rc == 0)
        rc = hidp_model_run(m);
    if (rc == 0)
        rc = hidp_model_output(m, 0, &y, &n);
    *secs = now() - t0;
    if (rc == 0 && n != 1000)
        rc = HIDP_ESHAPE;
    if (rc == 0)
        memcpy(out, y, 1000 * sizeof *out);
    else
        tap_diag("  %s", hidp_context_last_error(CTX));
    return rc;
}

static void check_model(const char *name, int size, int heavy)
{
    void *onnx = NULL, *again = NULL, *other = NULL;
    size_t bytes = 0, again_bytes = 0, other_bytes = 0;
    hidp_model *m = NULL;
    float got[1000], want[1000], *x = NULL;
    size_t count = (size_t)3 * size * size;
    const char *force = getenv("HIDP_SLOW_TESTS");
    /* Under qemu-user (a cross build's make check) a heavy model's build and runs take a minute
     * or more each; the light ones run the same kernels there. */
    if (heavy && test_emulated() && !(force && strcmp(force, "1") == 0)) {
        tap_skip("under emulation (HIDP_SLOW_TESTS=1 runs it)", "%s: builds and runs at %dx%d",
                 name, size, size);
        return;
    }
    double t0 = now(), t_opt = 0, t_ref = 0;
    int rc = hidp_zoo_build(CTX, name, 7, size, &onnx, &bytes);
    double t_build = now() - t0;
    if (strcmp(name, "resnet18") == 0)
        slow_build = t_build > 0.5 && !(force && strcmp(force, "1") == 0);
    if (!tap_ok(rc == 0, "%s: builds at %dx%d (%.2f s, %.1f MB)", name, size, size, t_build,
                (double)bytes / 1e6)) {
        tap_diag("  rc %d: %s", rc, hidp_context_last_error(CTX));
        goto done;
    }
    rc = hidp_model_load_memory(CTX, onnx, bytes, &m);
    if (!tap_ok(rc == 0, "%s: loads", name)) {
        tap_diag("  %s", hidp_context_last_error(CTX));
        goto done;
    }
    hidp_tensor_info in, out;
    hidp_model_input_info(m, 0, &in);
    tap_ok(hidp_model_num_inputs(m) == 1 && hidp_model_num_outputs(m) == 1 && in.ndim == 4 &&
               in.dims[0] == 1 && in.dims[1] == 3 && in.dims[2] == size && in.dims[3] == size,
           "%s: one input, declared [1,3,%d,%d], and one output", name, size, size);

    x = test_input(count);
    if (!x || run(m, 0, x, count, got, &t_opt) != 0 || run(m, 1, x, count, want, &t_ref) != 0) {
        tap_ok(0, "%s: runs", name);
        goto done;
    }
    hidp_model_output_info(m, 0, &out);
    TAP_CLOSE(got, want, 1000, 1e-4, "%s: optimized = reference kernels (%.0f ms vs %.0f ms)",
              name, t_opt * 1e3, t_ref * 1e3);
    double s = 0, ss = 0;
    int finite = out.ndim == 2 && out.dims[0] == 1 && out.dims[1] == 1000;
    for (int i = 0; i < 1000; i++) {
        finite &= isfinite(got[i]) != 0;
        s += got[i];
    }
    for (int i = 0; i < 1000; i++)
        ss += (got[i] - s / 1000) * (got[i] - s / 1000);
    double sd = sqrt(ss / 1000);
    tap_ok(finite, "%s: output [1,1000], all finite", name);
    tap_ok(sd >= 0.1 && sd <= 10, "%s: logits std %.3f on a fresh input (0.1 to 10)", name, sd);

    if (heavy && slow_build) {
        tap_skip("a slow build (HIDP_SLOW_TESTS=1 runs it)", "%s: the same seed gives the same "
                 "bytes", name);
    } else {
        rc = hidp_zoo_build(CTX, name, 7, size, &again, &again_bytes);
        tap_ok(rc == 0 && again_bytes == bytes && memcmp(again, onnx, bytes) == 0,
               "%s: the same seed gives the same %zu bytes", name, bytes);
    }
    if (!heavy) {
        rc = hidp_zoo_build(CTX, name, 8, size, &other, &other_bytes);
        tap_ok(rc == 0 && (other_bytes != bytes || memcmp(other, onnx, bytes) != 0),
               "%s: another seed gives other bytes", name);
    }
done:
    free(x);
    hidp_model_destroy(m);
    hidp_free(onnx);
    hidp_free(again);
    hidp_free(other);
}

static int contains(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

static void check_errors(void)
{
    void *onnx = (void *)1;
    size_t bytes = 1;
    int rc = hidp_zoo_build(CTX, "resnet51", 0, 0, &onnx, &bytes);
    const char *msg = hidp_context_last_error(CTX);
    TAP_EQ_INT(rc, HIDP_EINVAL, "unknown name: HIDP_EINVAL");
    tap_ok(onnx == NULL && bytes == 0, "unknown name: no output");
    int all = contains(msg, "resnet51");
    for (int i = 0; i < hidp_zoo_count(); i++)
        all &= contains(msg, hidp_zoo_name(i));
    if (!tap_ok(all, "unknown name: the message names it and lists the zoo"))
        tap_diag("  message: %s", msg);
    TAP_EQ_INT(hidp_zoo_build(CTX, NULL, 0, 0, &onnx, &bytes), HIDP_EINVAL, "NULL name");
    TAP_EQ_INT(hidp_zoo_build(CTX, "resnet18", 0, 0, NULL, &bytes), HIDP_EINVAL, "NULL onnx");
    TAP_EQ_INT(hidp_zoo_build(NULL, "nope", 0, 0, &onnx, &bytes), HIDP_EINVAL,
               "a NULL context is allowed (no message kept)");

    rc = hidp_zoo_build(CTX, "vgg16", 0, 16, &onnx, &bytes);
    msg = hidp_context_last_error(CTX);
    TAP_EQ_INT(rc, HIDP_EINVAL, "vgg16 at 16x16: HIDP_EINVAL");
    if (!tap_ok(contains(msg, "too small") && contains(msg, "'features.") &&
                    contains(msg, "smallest size vgg16 builds at is 32"),
                "vgg16 at 16x16: the message names the layer and the smallest size"))
        tap_diag("  message: %s", msg);
    rc = hidp_zoo_build(CTX, "googlenet", 0, 30, &onnx, &bytes);
    msg = hidp_context_last_error(CTX);
    if (!tap_ok(rc == HIDP_EINVAL && contains(msg, "is 31"), "googlenet at 30x30 is too small, "
                "31 works"))
        tap_diag("  rc %d, message: %s", rc, msg);
    TAP_EQ_INT(hidp_zoo_build(CTX, "resnet18", 0, -3, &onnx, &bytes), HIDP_EINVAL,
               "negative image size");
    TAP_EQ_INT(hidp_zoo_build(CTX, "resnet18", 0, HIDP__ZOO_MAX_SIZE + 1, &onnx, &bytes),
               HIDP_EINVAL, "image size above the maximum");
    tap_ok(contains(hidp_context_last_error(CTX), "out of range"), "... says it is out of range");
}

static void check_registry(void)
{
    int ok = hidp_zoo_count() == 8;
    hidp__zoo_ref ref;
    for (int i = 0; ok && i < hidp_zoo_count(); i++)
        ok = hidp_zoo_name(i) && hidp__zoo_reference(hidp_zoo_name(i), &ref);
    tap_ok(ok, "8 models, each with torchvision's figures");
    tap_ok(!hidp_zoo_name(-1) && !hidp_zoo_name(hidp_zoo_count()), "names out of range are NULL");
    for (int i = 0; i < N_CASES; i++) {
        int found = 0;
        for (int k = 0; k < hidp_zoo_count(); k++)
            found |= strcmp(hidp_zoo_name(k), cases[i].name) == 0;
        tap_ok(found, "the zoo has %s", cases[i].name);
    }
}

/* vgg16's adaptive pool: exact at multiples of 7 (448: a 2x2 average pool), left out elsewhere
 * (256: an 8x8 map feeds the first linear layer). */
static void check_vgg_sizes(void)
{
    hidp__graph g;
    hidp__err err = {0, ""};
    hidp__zoo_stats st;
    int rc = hidp__zoo_graph("vgg16", 0, 448, HIDP__ZOO_DRY, &g, &st, &err);
    tap_ok(rc == 0 && st.params == 138357544, "vgg16 at 448: torchvision's parameters (%lld)",
           (long long)st.params);
    hidp__graph_free(&g);
    rc = hidp__zoo_graph("vgg16", 0, 256, HIDP__ZOO_DRY, &g, &st, &err);
    int w = rc == 0 ? hidp__graph_find(&g, "classifier.0.weight") : -1;
    tap_ok(w >= 0 && g.vals[w].shape.d[1] == 512 * 8 * 8,
           "vgg16 at 256: the first linear layer takes the 512x8x8 map");
    hidp__graph_free(&g);
    rc = hidp__zoo_graph("resnet18", 0, 0, HIDP__ZOO_DRY, &g, &st, &err);
    TAP_EQ_INT(rc == 0 ? st.image_size : -1, 224, "image size 0 means 224");
    hidp__graph_free(&g);
}

int main(void)
{
    if (hidp_context_create(&CTX, 0) != 0) {
        printf("Bail out! no context\n");
        return 1;
    }
    check_registry();
    for (int i = 0; i < N_CASES; i++)
        check_shapes(cases[i].name);
    check_vgg_sizes();
    check_errors();
    for (int i = 0; i < N_CASES; i++)
        check_model(cases[i].name, cases[i].size, cases[i].heavy);
    hidp_context_destroy(CTX);
    return tap_done();
}
