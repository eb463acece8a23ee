/*
 * test_profile.c - per-layer profiling (hidp_model_profile): layer wall times that add up to
 * the runs', worker times inside them, software event counts per layer, hardware events that
 * SKIP where the machine has none, and the errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "hidp.h"

enum { IMG = 3 * 64 * 64 };

/* The model every case profiles, at 64x64: SqueezeNet 1.1 (5 MB of weights) rather than
 * ResNet-18 (47 MB), whose seeded build alone took 35 s under CI's qemu-aarch64 and whose 200
 * runs on 3 workers took minutes there. */
#define ZOO_MODEL "squeezenet1_1"

static int load_prepared(hidp_context *ctx, int threads, hidp_model **m)
{
    static float in[IMG];
    void *onnx = NULL;
    size_t size = 0;
    for (int i = 0; i < IMG; i++)
        in[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
    hidp_context_set_threads(ctx, threads);
    hidp_context_set_split(ctx, HIDP_SPLIT_EQUAL);
    hidp_context_set_tuning(ctx, 0);
    int rc = hidp_zoo_build(ctx, ZOO_MODEL, 1, 64, &onnx, &size);
    if (rc == 0)
        rc = hidp_model_load_memory(ctx, onnx, size, m);
    hidp_free(onnx);
    if (rc == 0)
        rc = hidp_model_prepare(*m);
    if (rc == 0)
        rc = hidp_model_set_input(*m, 0, in, IMG);
    return rc;
}

static void check_errors(hidp_context *ctx)
{
    hidp_model *m = NULL;
    void *onnx = NULL;
    size_t size = 0;
    hidp_layer_profile lp;
    int rc = hidp_zoo_build(ctx, ZOO_MODEL, 1, 64, &onnx, &size);
    if (rc == 0)
        rc = hidp_model_load_memory(ctx, onnx, size, &m);
    hidp_free(onnx);
    if (!tap_ok(rc == 0, "errors: load (%s)", hidp_context_last_error(ctx)))
        return;
    rc = hidp_model_profile(m, 1, NULL);
    tap_ok(rc == HIDP_ESTATE, "profiling before prepare is HIDP_ESTATE (%d: %s)", rc,
           hidp_context_last_error(ctx));
    hidp_context_set_tuning(ctx, 0);
    if (hidp_model_prepare(m) == 0) {
        rc = hidp_model_profile_layer(m, 0, &lp);
        tap_ok(rc == HIDP_ESTATE, "a profile while profiling is off is HIDP_ESTATE (%d)", rc);
        rc = hidp_model_profile(m, 1, "task-clock,,page-faults");
        tap_ok(rc == HIDP_EINVAL && strstr(hidp_context_last_error(ctx), "empty"),
               "an empty event name is refused (%s)", hidp_context_last_error(ctx));
        rc = hidp_model_profile(m, 1, "a,b,c,d,e,f,g,h,i");
        tap_ok(rc == HIDP_EINVAL && strstr(hidp_context_last_error(ctx), "at most"),
               "nine events are refused (%s)", hidp_context_last_error(ctx));
        rc = hidp_model_profile(m, 1, "no-such-event");
        tap_ok(rc == 0 && hidp_model_profile_num_events(m) == 0 &&
                   strstr(hidp_model_profile_missing(m), "no-such-event"),
               "an unknown event is left out and named (%s)", hidp_model_profile_missing(m));
        rc = hidp_model_profile_layer(m, 9999, &lp);
        tap_ok(rc == HIDP_EINVAL, "layer out of range is HIDP_EINVAL (%d)", rc);
        hidp_model_prepare(m);
        rc = hidp_model_profile_layer(m, 0, &lp);
        tap_ok(rc == HIDP_ESTATE, "a prepare stops profiling (%d)", rc);
    } else {
        tap_skip("prepare failed", "profiling errors after prepare");
    }
    hidp_model_destroy(m);
}

/* Profiles `runs` runs on `threads` workers with events; checks the sums. */
static void check_profile(hidp_context *ctx, int threads, int runs)
{
    hidp_model *m = NULL;
    if (!tap_ok(load_prepared(ctx, threads, &m) == 0, "%d workers: prepared (%s)", threads,
                hidp_context_last_error(ctx))) {
        hidp_model_destroy(m);
        return;
    }
    hidp_model_run(m); /* warm; not profiled */
    int rc = hidp_model_profile(m, 1, "task-clock,context-switches");
    tap_ok(rc == 0, "%d workers: profiling on with task-clock (%s)", threads,
           hidp_context_last_error(ctx));
    const int ne = hidp_model_profile_num_events(m);
    for (int r = 0; r < runs; r++)
        hidp_model_run(m);
    int32_t got_runs = 0;
    const double total = hidp_model_profile_total_ms(m, &got_runs);
    tap_ok(got_runs == runs && total > 0, "%d workers: %d runs summed (%d), total %.3f ms",
           threads, runs, got_runs, total);
    double wall = 0;
    int busy_ok = 1, inside = 1, clock_ok = 1, split = 0, layers = hidp_model_num_layers(m);
    for (int i = 0; i < layers; i++) {
        hidp_layer_profile lp;
        hidp_layer_info li;
        if (hidp_model_profile_layer(m, i, &lp) != 0 || hidp_model_layer_info(m, i, &li) != 0) {
            busy_ok = 0;
            continue;
        }
        wall += lp.wall_ms;
        split += lp.workers > 1;
        busy_ok &= lp.runs == runs && lp.workers >= 1 && lp.busy_ms > 0;
        /* a worker's slice lies inside the run: 0 <= start <= end */
        for (int w = 0; w < hidp_model_num_workers(m); w++) {
            hidp_worker_profile wp;
            hidp_model_profile_worker(m, i, w, &wp);
            inside &= wp.start_us >= 0 && wp.end_us >= wp.start_us;
        }
        /* the task clock (nanoseconds, read exactly) sees every layer a worker ran */
        if (ne > 0 && lp.counts[0] <= 0) {
            clock_ok = 0;
            tap_diag("  layer %d (%s): task-clock %lld", i, li.name, (long long)lp.counts[0]);
        }
    }
    tap_ok(fabs(wall - total) <= 1e-6 * total + 1e-6, "%d workers: layer wall times add up to "
           "the runs' (%.6f vs %.6f ms)", threads, wall, total);
    tap_ok(busy_ok, "%d workers: every layer has runs, workers and busy time", threads);
    tap_ok(inside, "%d workers: every slice starts and ends inside its run", threads);
    if (threads > 1)
        tap_ok(split > 0, "%d workers: some layers are shared (%d of %d)", threads, split, layers);
    if (ne > 0)
        tap_ok(clock_ok && !strcmp(hidp_model_profile_event(m, 0), "task-clock"),
               "%d workers: task-clock counts in every layer", threads);
    else
        tap_skip(hidp_model_profile_missing(m), "%d workers: task-clock per layer", threads);

    /* starting again resets the sums */
    hidp_model_profile(m, 1, NULL);
    hidp_model_run(m);
    hidp_model_profile_total_ms(m, &got_runs);
    tap_ok(got_runs == 1 && hidp_model_profile_num_events(m) == 0,
           "%d workers: profiling again starts from zero, without events (%d run)", threads,
           got_runs);
    hidp_model_profile(m, 0, NULL);
    hidp_model_destroy(m);
}

/* Profiling switched off right after each run frees the records at once. With more workers
 * than cores a worker is often preempted just as the run's last barrier lets it go: it must
 * not write its record after that (the sanitizer build catches a write to freed memory). */
static void check_stop_after_run(hidp_context *ctx)
{
    enum { WORKERS = 3, ROUNDS = 200 };
    hidp_model *m = NULL;
    if (!tap_ok(load_prepared(ctx, WORKERS, &m) == 0, "stop after run: prepared (%s)",
                hidp_context_last_error(ctx))) {
        hidp_model_destroy(m);
        return;
    }
    int bad = 0;
    for (int r = 0; r < ROUNDS && !bad; r++) {
        int32_t runs = 0;
        bad = hidp_model_profile(m, 1, NULL) != 0 || hidp_model_run(m) != 0;
        hidp_model_profile_total_ms(m, &runs);
        bad |= runs != 1 || hidp_model_profile(m, 0, NULL) != 0;
    }
    tap_ok(!bad, "stop after run: %d rounds of profile on, run, profile off on %d workers",
           ROUNDS, WORKERS);
    hidp_model_destroy(m);
}

/* Cycles: counted where the board has counters, else SKIP with the reason. */
static void check_hardware(hidp_context *ctx)
{
    hidp_model *m = NULL;
    if (load_prepared(ctx, 1, &m) != 0) {
        tap_skip("the model did not prepare", "hardware counters");
        hidp_model_destroy(m);
        return;
    }
    hidp_model_profile(m, 1, "PAPI_TOT_CYC,PAPI_TOT_INS");
    if (hidp_model_profile_num_events(m) < 2) {
        tap_skip(hidp_model_profile_missing(m), "cycles and instructions per layer");
    } else {
        hidp_model_run(m);
        hidp_layer_profile lp;
        hidp_model_profile_layer(m, 0, &lp);
        tap_ok(lp.counts[0] > 0 && lp.counts[1] > 0, "cycles %lld and instructions %lld in "
               "layer 0", (long long)lp.counts[0], (long long)lp.counts[1]);
    }
    hidp_model_destroy(m);
}

int main(void)
{
    hidp_context *ctx = NULL;
    if (hidp_context_create(&ctx, 0) != 0) {
        tap_skip("no context", "profiling");
        return tap_done();
    }
    check_errors(ctx);
    check_profile(ctx, 1, 3);
    check_profile(ctx, 2, 3);
    check_stop_after_run(ctx);
    check_hardware(ctx);
    hidp_context_destroy(ctx);
    return tap_done();
}
