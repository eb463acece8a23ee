/*
 * ab_env.c - an A/B of one environment variable read at prepare (HIDP_NO_WINOGRAD,
 * HIDP_NO_TRANSPOSED, or a knob of an experimental build), inside one process: the model is
 * loaded and prepared twice, A with the variable unset and B with it set, then ROUNDS rounds
 * give each a block of RUNS runs in turn (the order alternating), and the ratio of the two
 * blocks' medians is taken round by round. On a shared VM whose speed jumps for seconds at a
 * time, two builds timed one after the other differed by up to 20%; two copies of one model
 * timed this way came out within 1% (0.993, 1.007 on ResNet-50, two threads).
 *
 * usage: bench/ab_env [-t THREADS] [-r ROUNDS] [-n RUNS] [--tune] [--layers]
 *                     MODEL|ZOO-NAME NAME=VALUE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../engine/hidp.h"
#include "input.h"
#include "stats.h"

enum { MAX_ROUNDS = 200, MAX_RUNS = 1000 };

static const char usage[] =
    "usage: bench/ab_env [-t THREADS] [-r ROUNDS] [-n RUNS] [--tune] [--layers]\n"
    "                    MODEL|ZOO-NAME NAME=VALUE\n"
    "\n"
    "Loads and prepares MODEL (an ONNX file, or a zoo model's name) twice: A with the\n"
    "environment variable NAME unset, B with NAME=VALUE while it loads, prepares and\n"
    "tunes. Then ROUNDS rounds give each a block of RUNS timed runs (after one not\n"
    "counted), in alternating order, and it prints each one's median of the rounds'\n"
    "medians and the paired ratio A/B: the median over rounds of each round's ratio\n"
    "(above 1: B is faster), with the rounds B won.\n"
    "\n"
    "  -t THREADS  workers (default 2)\n"
    "  -r ROUNDS   rounds (default 20, at most 200)\n"
    "  -n RUNS     timed runs per block (default 5, at most 1000)\n"
    "  --tune      tune each plan first (default: the plan as prepared, so that the two\n"
    "              differ only in what NAME changes, not in the tuner's verdicts)\n"
    "  --layers    then profile 20 runs of each, in turn, and print each layer's\n"
    "              wall time in A and in B\n";

typedef struct side {
    hidp_context *ctx;
    hidp_model *m;
    double round_med[MAX_ROUNDS];
} side;

/* Loads (from the file, or the zoo's ONNX bytes), prepares, feeds a fixed input and warms up
 * one side; 0, or 1 after saying why. */
static int set_up(side *s, const char *model, const void *onnx, size_t size, int threads, int tune)
{
    hidp_context_create(&s->ctx, 0);
    hidp_context_set_threads(s->ctx, threads);
    hidp_context_set_tuning(s->ctx, tune ? HIDP_TUNE_ON : HIDP_TUNE_OFF);
    int rc = onnx ? hidp_model_load_memory(s->ctx, onnx, size, &s->m)
                  : hidp_model_load(s->ctx, model, &s->m);
    if (rc == 0)
        rc = hidp_model_prepare(s->m);
    size_t n = 0;
    float *in = rc == 0 ? bench_model_input(s->m, &n) : NULL;
    if (rc == 0 && !in)
        rc = HIDP_ENOMEM;
    if (rc == 0)
        rc = hidp_model_set_input(s->m, 0, in, n);
    free(in);
    if (rc == 0)
        rc = hidp_model_run(s->m);
    if (rc == 0 && tune)
        rc = hidp_model_tune(s->m) < 0;
    if (rc != 0) {
        fprintf(stderr, "ab_env: %s: %s\n", model, hidp_context_last_error(s->ctx));
        return 1;
    }
    return 0;
}

/* One block: a run not counted, then `runs` timed ones; their median. */
static double block(hidp_model *m, int runs, double *t)
{
    hidp_model_run(m);
    for (int k = 0; k < runs; k++) {
        const double t0 = bench_now_ms();
        hidp_model_run(m);
        t[k] = bench_now_ms() - t0;
    }
    return bench_median(t, runs);
}

/* Profiles 20 runs of each side in turn and prints every layer's mean wall time. */
static void layers(side *a, side *b)
{
    hidp_model_profile(a->m, 1, NULL);
    hidp_model_profile(b->m, 1, NULL);
    for (int k = 0; k < 20; k++) {
        hidp_model_run(a->m);
        hidp_model_run(b->m);
    }
    printf("   #  layer                            A ms     B ms    A/B\n");
    for (int i = 0; i < hidp_model_num_layers(a->m) && i < hidp_model_num_layers(b->m); i++) {
        hidp_layer_info info;
        hidp_layer_profile pa, pb;
        if (hidp_model_layer_info(a->m, i, &info) != 0 ||
            hidp_model_profile_layer(a->m, i, &pa) != 0 ||
            hidp_model_profile_layer(b->m, i, &pb) != 0 || pa.runs == 0 || pb.runs == 0)
            continue;
        const double wa = pa.wall_ms / pa.runs, wb = pb.wall_ms / pb.runs;
        printf("  %2d  %-30.30s %7.3f  %7.3f  %5.2f\n", i, info.name, wa, wb,
               wb > 0 ? wa / wb : 0.0);
    }
}

/* A positive int from a flag's argument, or -1. */
static int positive(const char *s, int max)
{
    char *end;
    const long v = strtol(s, &end, 10);
    return *s && !*end && v >= 1 && v <= max ? (int)v : -1;
}

int main(int argc, char **argv)
{
    int threads = 2, rounds = 20, runs = 5, tune = 0, show_layers = 0;
    const char *model = NULL, *assign = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--tune")) {
            tune = 1;
        } else if (!strcmp(a, "--layers")) {
            show_layers = 1;
        } else if (!strcmp(a, "-t") || !strcmp(a, "-r") || !strcmp(a, "-n")) {
            const int max = a[1] == 't' ? 64 : a[1] == 'r' ? MAX_ROUNDS : MAX_RUNS;
            const int v = i + 1 < argc ? positive(argv[++i], max) : -1;
            if (v < 0) {
                fprintf(stderr, "ab_env: %s takes a number from 1 to %d\n%s", a, max, usage);
                return 2;
            }
            *(a[1] == 't' ? &threads : a[1] == 'r' ? &rounds : &runs) = v;
        } else if (a[0] == '-') {
            fprintf(stderr, "ab_env: unknown option '%s'\n%s", a, usage);
            return 2;
        } else if (!model) {
            model = a;
        } else if (!assign) {
            assign = a;
        } else {
            fprintf(stderr, "ab_env: one model and one NAME=VALUE\n%s", usage);
            return 2;
        }
    }
    const char *eq = assign ? strchr(assign, '=') : NULL;
    if (!model || !eq || eq == assign) {
        fprintf(stderr, "ab_env: need MODEL and NAME=VALUE\n%s", usage);
        return 2;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(eq - assign), assign);

    void *onnx = NULL;
    size_t size = 0;
    if (access(model, R_OK) != 0) { /* not a file: a zoo model's name */
        hidp_context *zoo;
        hidp_context_create(&zoo, 0);
        if (hidp_zoo_build(zoo, model, 0, 224, &onnx, &size) != 0) {
            fprintf(stderr, "ab_env: %s: no such file, and %s\n", model,
                    hidp_context_last_error(zoo));
            hidp_context_destroy(zoo);
            return 1;
        }
        hidp_context_destroy(zoo);
    }
    side a = {0}, b = {0};
    unsetenv(name);
    if (set_up(&a, model, onnx, size, threads, tune) != 0)
        return 1;
    setenv(name, eq + 1, 1);
    const int failed = set_up(&b, model, onnx, size, threads, tune);
    unsetenv(name);
    hidp_free(onnx);
    if (failed)
        return 1;

    double t[MAX_RUNS], ratio[MAX_ROUNDS];
    int b_won = 0;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) { /* A first in even rounds, B first in odd ones */
            side *s = (r + k) % 2 ? &b : &a;
            s->round_med[r] = block(s->m, runs, t);
        }
        ratio[r] = a.round_med[r] / b.round_med[r];
        b_won += ratio[r] > 1;
    }
    printf("model %s, %d thread%s, %d rounds of %d runs each%s\n", model, threads,
           threads == 1 ? "" : "s", rounds, runs, tune ? ", tuned" : "");
    printf("  A (%s unset): %.3f ms, B (%s): %.3f ms (medians of the rounds' medians)\n", name,
           bench_median(a.round_med, rounds), assign, bench_median(b.round_med, rounds));
    printf("  paired A/B %.3f  (B faster in %d of %d rounds; above 1: B is faster)\n",
           bench_median(ratio, rounds), b_won, rounds);
    if (show_layers)
        layers(&a, &b);
    hidp_model_destroy(a.m);
    hidp_model_destroy(b.m);
    hidp_context_destroy(a.ctx);
    hidp_context_destroy(b.ctx);
    return 0;
}
