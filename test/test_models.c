/*
 * test_models.c - whole models against ONNX Runtime's outputs: the shared torchvision fixtures
 * ($HIDP_FIXTURES: opzoo, squeezenet1_1, mobilenet_v2, resnet18) and every in-repo model
 * test/data/NAME.onnx that has NAME.input.npy and NAME.ort.npy beside it.
 *
 * Each model runs with the optimized kernels on 1 and 2 threads and with the reference kernels,
 * and must match within 1e-4 x max(1, max |reference|). Missing files are skipped with a reason.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../engine/model.h"
#include "tap.h"

static hidp_context *CTX;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Max |a - b| and max |b| over n floats (NaN counts as infinitely wrong). */
static double max_diff(const float *a, const float *b, size_t n, double *ref_max)
{
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > md || d != d)
            md = d != d ? INFINITY : d;
        if (fabs((double)b[i]) > mr)
            mr = fabs((double)b[i]);
    }
    *ref_max = mr;
    return md;
}

/* Prepares m for the input's shape with `threads` workers (reference: the naive kernels), runs it
 * and compares output 0 with ref. Returns the seconds the run took, or < 0 on failure. */
static double run_case(hidp_model *m, const hidp_array *in, const hidp_array *ref, int threads,
                       int reference, const char *name)
{
    const char *mode = reference ? "reference kernels" : threads == 1 ? "1 thread" : "2 threads";
    const float *out = NULL;
    size_t count = 0, in_count = 1, ref_count = 1;
    for (int i = 0; i < in->ndim; i++)
        in_count *= (size_t)in->dims[i];
    for (int i = 0; i < ref->ndim; i++)
        ref_count *= (size_t)ref->dims[i];
    hidp_context_set_threads(CTX, threads);
    hidp__model_set_reference(m, reference);
    int rc = hidp_model_set_input_shape(m, 0, in->dims, in->ndim);
    if (rc == 0)
        rc = hidp_model_prepare(m);
    if (rc == 0)
        rc = hidp_model_set_input(m, 0, in->data, in_count);
    double t0 = now();
    if (rc == 0)
        rc = hidp_model_run(m);
    double secs = now() - t0;
    if (rc == 0)
        rc = hidp_model_output(m, 0, &out, &count);
    if (!tap_ok(rc == 0 && count == ref_count, "%s, %s: runs (%zu outputs, want %zu)", name,
                mode, count, ref_count)) {
        tap_diag("  %s", hidp_context_last_error(CTX));
        return -1;
    }
    double rmax, d = max_diff(out, ref->data, count, &rmax);
    double lim = 1e-4 * (rmax > 1 ? rmax : 1);
    tap_ok(d <= lim, "%s, %s: matches ONNX Runtime", name, mode);
    tap_diag("  %s, %s: max |diff| %.3g (limit %.3g), run %.1f ms", name, mode, d, lim,
             secs * 1e3);
    return d <= lim ? secs : -1;
}

/* Seconds the last reference-kernel run took (to guess whether a bigger model's is affordable). */
static double last_reference_secs = -1;

/* The whole check for dir/NAME.{onnx,input.npy,ort.npy}; with_reference adds a run of the naive
 * reference kernels (slow: a plain-loop conv). */
static void check_model(const char *dir, const char *name, int with_reference)
{
    char onnx[1024], inp[1024], outp[1024];
    snprintf(onnx, sizeof onnx, "%s/%s.onnx", dir, name);
    snprintf(inp, sizeof inp, "%s/%s.input.npy", dir, name);
    snprintf(outp, sizeof outp, "%s/%s.ort.npy", dir, name);
    if (!exists(onnx) || !exists(inp) || !exists(outp)) {
        tap_skip("files missing", "%s: %s, .input.npy and .ort.npy", name, onnx);
        return;
    }
    hidp_array in = {0}, ref = {0};
    hidp_model *m = NULL;
    double t0 = now();
    int rc = hidp_npy_load(CTX, inp, &in);
    if (rc == 0)
        rc = hidp_npy_load(CTX, outp, &ref);
    if (rc == 0)
        rc = hidp_model_load(CTX, onnx, &m);
    if (!tap_ok(rc == 0, "%s: loads (%.0f ms)", name, (now() - t0) * 1e3)) {
        tap_diag("  %s", hidp_context_last_error(CTX));
        goto done;
    }
    if (!tap_ok(hidp_model_num_inputs(m) == 1 && hidp_model_num_outputs(m) >= 1,
                "%s: one input, %d outputs", name, hidp_model_num_outputs(m)))
        goto done;
    double t1 = run_case(m, &in, &ref, 1, 0, name);
    double t2 = run_case(m, &in, &ref, 2, 0, name);
    if (t1 >= 0 && t2 >= 0)
        tap_diag("  %s: %d layers, arena %.2f MB (%.2f MB without reuse), 1 thread %.1f ms, "
                 "2 threads %.1f ms", name, hidp_model_num_layers(m),
                 hidp__model_arena_bytes(m) / 1048576.0, hidp__model_values_bytes(m) / 1048576.0,
                 t1 * 1e3, t2 * 1e3);
    if (with_reference) {
        double tr = run_case(m, &in, &ref, 1, 1, name);
        if (tr >= 0)
            tap_diag("  %s: the reference kernels took %.2f s", name, tr);
        last_reference_secs = tr;
    } else {
        tap_skip("the naive kernels would take too long in this build (HIDP_SLOW_TESTS=1 runs "
                 "them)", "%s, reference kernels", name);
    }
done:
    hidp_model_destroy(m);
    hidp_array_free(&in);
    hidp_array_free(&ref);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.onnx in dir with its .input.npy and .ort.npy, in name order. */
static void check_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char *names[256];
    int n = 0;
    if (!d) {
        tap_skip("directory not found", "in-repo models in %s", dir);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL && n < 256;) {
        size_t len = strlen(e->d_name);
        char path[1400], base[256];
        if (len <= 5 || len - 5 >= sizeof base || strcmp(e->d_name + len - 5, ".onnx") != 0)
            continue;
        memcpy(base, e->d_name, len - 5);
        base[len - 5] = '\0';
        snprintf(path, sizeof path, "%s/%s.ort.npy", dir, base);
        if (!exists(path))
            continue;
        if ((names[n] = strdup(base)) != NULL)
            n++;
    }
    closedir(d);
    if (n == 0)
        tap_skip("no NAME.onnx with NAME.ort.npy", "in-repo models in %s", dir);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        check_model(dir, names[i], 1);
        free(names[i]);
    }
}

int main(void)
{
    /* The naive reference kernels run resnet18 in about 2 s at -O2 but 10 s at -O0 and longer
     * under the sanitizers, 3 to 5 times what they take on mobilenet_v2: resnet18 gets its
     * reference run only when mobilenet_v2's took under 1.5 s (or HIDP_SLOW_TESTS=1). */
    static const struct {
        const char *name;
        int reference; /* 1 always, 0 only in a fast build */
    } fixtures[] = {{"opzoo", 1}, {"squeezenet1_1", 1}, {"mobilenet_v2", 1}, {"resnet18", 0}};
    const char *fx = getenv("HIDP_FIXTURES"), *src = getenv("HIDP_SRCDIR");
    const char *slow = getenv("HIDP_SLOW_TESTS");
    char dir[1024];
    if (hidp_context_create(&CTX, 0) != 0) {
        tap_ok(0, "context");
        return tap_done();
    }
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.onnx", fx ? fx : "", fixtures[i].name);
        if (!fx || !exists(path))
            tap_skip("fixtures not found", "%s: fixtures not found at %s", fixtures[i].name,
                     fx ? fx : "(HIDP_FIXTURES unset)");
        else
            check_model(fx, fixtures[i].name,
                        fixtures[i].reference || (slow && !strcmp(slow, "1")) ||
                            (last_reference_secs >= 0 && last_reference_secs < 1.5));
    }
    snprintf(dir, sizeof dir, "%s/test/data", src ? src : ".");
    check_dir(dir);
    hidp_context_destroy(CTX);
    return tap_done();
}
