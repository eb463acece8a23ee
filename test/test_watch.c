/*
 * test_watch.c - the tuned plan under watch (sched/watch.c) on made-up run times: no check while
 * the runs hold steady, a check when they drift or the clock says so, the verdict and its margin,
 * what a check costs; then on a model (engine/model_watch.c): the finalists of a tuner driven by
 * made-up times installed in turn, every run's output equal to the reference kernels'.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_check.h"
#include "tap.h"
#include "../engine/exec.h"
#include "../engine/model.h"
#include "../sched/tune.h"
#include "../sched/watch.h"
#include "hidp.h"

/* Seconds a run of plan p takes at run number i (of the feed). */
typedef double (*times_fn)(int p, int i);

static int check_runs; /* runs the last feed() made during checks */

/* Feeds w `runs` runs timed by times(plan, i), or until its checks reach stop_after (0: never
 * stop early). Returns the runs fed. */
static int feed(hidp__watch *w, int runs, times_fn times, int stop_after)
{
    int i = 0;
    check_runs = 0;
    for (; i < runs && !(stop_after && w->checks >= stop_after); i++) {
        check_runs += w->checking;
        hidp__watch_feed(w, times(hidp__watch_plan(w), i));
    }
    return i;
}

/* 10 ms, 3% either way run by run, whichever plan. */
static double steady_10ms(int p, int i)
{
    (void)p;
    return 0.010 * (1.0 + 0.03 * ((i * 7) % 3 - 1));
}

/* From run 20 on, the machine in another phase: plan 0 at 12 ms (20% slower than it was
 * chosen on), plan 1 at `other_s`. */
static double other_s = 0.0114;
static double phase_change(int p, int i)
{
    if (i < 20)
        return 0.010;
    return p == 0 ? 0.012 : other_s;
}

/* Plan 1 at 9 ms, but the first run of each of its blocks at 100 ms (a block's first run pays
 * for the run before); plan 0 at 10 ms; all 20% slower than the chosen median. */
static int last_plan = -1;
static double first_runs_slow(int p, int i)
{
    (void)i;
    const int first = p != last_plan;
    last_plan = p;
    return p == 0 ? 0.012 : first ? 0.100 : 0.0108;
}

/* Phases of 50 runs, 10 ms and 15 ms in turn, whichever plan: drift after drift. */
static double flapping(int p, int i)
{
    (void)p;
    return (i / 50) % 2 ? 0.015 : 0.010;
}

/* Plan 0 at 1 s a run, steady: only the clock starts a check. */
static double one_second(int p, int i)
{
    (void)i;
    return p == 0 ? 1.0 : 1.5;
}

static void check_watch(void)
{
    hidp__watch w;

    hidp__watch_init(&w, 2, 0.010, 2);
    int fed = feed(&w, 300, steady_10ms, 0);
    tap_ok(fed == 300 && w.checks == 0 && hidp__watch_plan(&w) == 0 && check_runs == 0,
           "watch: 300 steady runs within 3%% of the chosen median start no check (%d)", w.checks);

    /* the phase changes at run 20: the window fills with the new times, then a check of 3
     * rounds of 2 blocks of 2 runs: none dropped after the first (one run counted each), both
     * within 10% of each other after the second, the slower 5.3% behind after the third, where
     * the margin is 5% */
    hidp__watch_init(&w, 2, 0.010, 2);
    fed = feed(&w, 200, phase_change, 1);
    const int check_len = 3 * 2 * 2;
    tap_ok(w.checks == 1 && check_runs == check_len && fed <= 20 + HIDP__WATCH_WINDOW + check_len,
           "watch: runs that drift start a check within a window (%d runs in all, %d in the "
           "check, want %d)",
           fed, check_runs, check_len);
    tap_ok(w.switches == 1 && hidp__watch_plan(&w) == 1 && fabs(w.chosen_s - 0.0114) < 1e-12 &&
               fabs(w.median_s[0] - 0.012) < 1e-12 && fabs(w.drift - 1.2) < 1e-9,
           "watch: the check keeps the plan now 5%% faster (plan %d, chosen on %.4f s, drift "
           "%.2f)",
           hidp__watch_plan(&w), w.chosen_s, w.drift);
    feed(&w, 400, phase_change, 0);
    tap_ok(w.checks == 1 && hidp__watch_plan(&w) == 1,
           "watch: steady again, no further check for 400 runs (%d)", w.checks);

    /* 1% faster is within the margin: the plan in use stays. The two stay close, so the
     * rounds go on until each has HIDP__WATCH_MIN_KEPT runs counted (one a round here) */
    other_s = 0.01188;
    hidp__watch_init(&w, 2, 0.010, 2);
    feed(&w, 200, phase_change, 1);
    const int close_rounds = HIDP__WATCH_MIN_KEPT < HIDP__WATCH_ROUNDS ? HIDP__WATCH_ROUNDS
                             : HIDP__WATCH_MIN_KEPT > HIDP__WATCH_MAX_ROUNDS
                                 ? HIDP__WATCH_MAX_ROUNDS
                                 : HIDP__WATCH_MIN_KEPT;
    tap_ok(w.checks == 1 && w.switches == 0 && hidp__watch_plan(&w) == 0,
           "watch: a plan faster by 1%% does not replace the one in use (switches %d)", w.switches);
    tap_ok(check_runs == close_rounds * 2 * 2 && w.n_kept[0] == close_rounds,
           "watch: close plans run %d rounds (%d runs of checking, %d counted of the first)",
           close_rounds, check_runs, w.n_kept[0]);

    /* far behind once each has two runs counted: dropped, the check ends with the one left */
    other_s = 0.024;
    hidp__watch_init(&w, 2, 0.010, 2);
    feed(&w, 200, phase_change, 1);
    tap_ok(w.checks == 1 && w.switches == 0 && check_runs == 2 * 2 * 2,
           "watch: a plan 2x slower drops out after two rounds (%d runs of checking)", check_runs);
    other_s = 0.0114;

    /* a block's first run is not counted */
    hidp__watch_init(&w, 2, 0.010, 2);
    last_plan = -1;
    feed(&w, 200, first_runs_slow, 1);
    tap_ok(w.checks == 1 && hidp__watch_plan(&w) == 1,
           "watch: the first run of each block does not count (plan %d, medians %.4f and %.4f)",
           hidp__watch_plan(&w), w.median_s[0], w.median_s[1]);

    /* drift after drift: checks take at most a fifth of the runs, plus the one under way */
    hidp__watch_init(&w, 3, 0.010, 2);
    feed(&w, 2000, flapping, 0);
    const int per_check = HIDP__WATCH_MAX_ROUNDS * 3 * 2;
    tap_ok(w.checks >= 5 && check_runs <= 2000 / (HIDP__WATCH_COOL + 1) + per_check,
           "watch: phases every 50 runs: %d checks, %d of 2000 runs checking (at most %d)",
           w.checks, check_runs, 2000 / (HIDP__WATCH_COOL + 1) + per_check);

    /* steady runs of 1 s: the clock starts a check after HIDP__WATCH_RECHECK_S */
    hidp__watch_init(&w, 2, 1.0, 2);
    fed = feed(&w, 200, one_second, 1);
    tap_ok(w.checks == 1 && w.drift == 0 && hidp__watch_plan(&w) == 0 &&
               fed >= (int)HIDP__WATCH_RECHECK_S && fed <= (int)HIDP__WATCH_RECHECK_S + 2 * 2 * 2,
           "watch: %.0f s of steady runs start a check (after %d runs)", HIDP__WATCH_RECHECK_S,
           fed);

    /* one plan: nothing to check */
    hidp__watch_init(&w, 1, 0.010, 2);
    feed(&w, 100, phase_change, 0);
    tap_ok(w.checks == 0 && hidp__watch_plan(&w) == 0, "watch: one plan, no check");
}

enum { IMG = PLAN_CHECK_IMG, SCORES = PLAN_CHECK_SCORES };
static float in[IMG];

/* The scores of one run of m, compared with ref: the largest |diff|, INFINITY if it failed. */
static double run_diff(hidp_model *m, const float *ref)
{
    const float *out = NULL;
    size_t count = 0;
    if (hidp_model_run(m) != 0 || hidp_model_output(m, 0, &out, &count) != 0 || count != SCORES)
        return INFINITY;
    return plan_check_max_diff(out, ref, SCORES);
}

/* ResNet-18 at 64 run once with the reference kernels into ref, then prepared on 2 workers with
 * equal shares and tuning off (the test's own tuner gives the finalists). 0, or the failing
 * call's code. */
static int two_workers(hidp_context *ctx, float *ref, hidp_model **m)
{
    int rc = plan_check_reference(ctx, "resnet18", in, ref, m);
    hidp_context_set_threads(ctx, 2);
    hidp_context_set_split(ctx, HIDP_SPLIT_EQUAL);
    hidp_context_set_tuning(ctx, HIDP_TUNE_OFF);
    if (rc == 0)
        rc = hidp_model_prepare(*m);
    return rc == 0 ? hidp_model_set_input(*m, 0, in, IMG) : rc;
}

/* A tuner over m's nodes driven to the end on made-up times: every split layer twice as fast as
 * solo, and every whole run 1 s, so that its three candidates (the measured modes, the plan
 * estimated at prepare, every layer alone) all stay finalists. The caller destroys it. */
static hidp__tuner *tuned_by_hand(const hidp_model *m)
{
    const int n = m->g.n_nodes;
    char *can = malloc((size_t)n);
    signed char *mode = malloc((size_t)n);
    double *layer = malloc((size_t)n * sizeof *layer);
    hidp__tuner *t = NULL;
    hidp__err err = {0, ""};
    for (int i = 0; can && i < n; i++)
        can[i] = (char)hidp__exec_splittable(m->exec, i);
    if (can && mode && layer && hidp__tuner_create(&t, n, can, 0, 0, 0, &err) == 0) {
        double trim;
        int stripes;
        for (int k = 0; k < 1000 && hidp__tuner_next(t, mode, &trim, &stripes); k++) {
            for (int i = 0; i < n; i++)
                layer[i] = mode[i] == HIDP__PLAN_SPLIT ? 1e-3 : 2e-3;
            hidp__tuner_feed(t, layer, 1.0);
        }
    }
    free(can);
    free(mode);
    free(layer);
    return t;
}

/* Nodes worker 1 has a part of in m's executor as planned now. */
static int shared_nodes(const hidp_model *m)
{
    int count = 0;
    for (int i = 0; i < m->g.n_nodes; i++) {
        const hidp__slice s = hidp__exec_slice(m->exec, i, 1);
        count += s.c1 > s.c0 && s.h1 > s.h0;
    }
    return count;
}

/* ResNet-18 at 64 on 2 workers under a watch over three finalists (every layer split, the
 * estimate, every layer alone): a check installs each in turn, every run matches the reference
 * kernels, and the verdict is the plan installed after it. */
static void check_model(void)
{
    hidp_context *ctx = NULL;
    hidp_model *m = NULL;
    static float ref[SCORES];
    int rc = hidp_context_create(&ctx, 0);
    if (rc == 0)
        rc = two_workers(ctx, ref, &m);
    if (!tap_ok(rc == 0, "model: ResNet-18 on 2 workers (%s)",
                ctx ? hidp_context_last_error(ctx) : "no context"))
        goto done;
    hidp__tuner *t = tuned_by_hand(m);
    if (!tap_ok(t && hidp__tuner_finalists(t) == 3, "model: a tuner with 3 finalists (%d)",
                t ? hidp__tuner_finalists(t) : -1))
        goto done;

    /* the plan fixed by the user, or HIDP_NO_WATCH: no watch */
    m->ctx->fixed_plan = 1;
    hidp__model_watch_start(m, t);
    const int fixed = m->watching;
    m->ctx->fixed_plan = 0;
    setenv("HIDP_NO_WATCH", "1", 1);
    hidp__model_watch_start(m, t);
    const int unset = m->watching;
    unsetenv("HIDP_NO_WATCH");
    tap_ok(!fixed && !unset, "model: no watch with the plan fixed (%d) or HIDP_NO_WATCH (%d)",
           fixed, unset);

    /* The finalists' whole runs were "1 s": this machine's runs are far from that, so the watch
     * checks after a window of runs, installing each finalist in turn; every run matches. */
    hidp__model_watch_start(m, t);
    hidp__tuner_destroy(t);
    if (!tap_ok(m->watching && m->watch.n == 3, "model: the watch holds the 3 finalists"))
        goto done;
    const int first = m->watch_plan;
    int plans_seen = 0, mismatched = 0, runs = 0;
    double worst = 0;
    for (; runs < 400 && m->watch.checks == 0; runs++) {
        const double d = run_diff(m, ref);
        worst = d > worst ? d : worst;
        plans_seen |= 1 << m->watch_plan;
        /* the executor's plan is the finalist installed: every layer alone shares nothing */
        int alone = 1;
        for (int i = 0; i < m->g.n_nodes; i++)
            alone &= m->finalist[m->watch_plan].mode[i] == HIDP__PLAN_SOLO;
        mismatched += alone != (shared_nodes(m) == 0);
    }
    tap_ok(first == 0 && m->watch.checks == 1 && plans_seen == 7 && mismatched == 0,
           "model: a check after %d runs ran all 3 finalists (seen 0x%x), each installed as "
           "planned (%d runs not)",
           runs, (unsigned)plans_seen, mismatched);
    tap_ok(worst <= 1e-4, "model: every run under the watch matches the reference (%.3g)", worst);
    tap_ok(m->watch_plan == hidp__watch_plan(&m->watch),
           "model: the check's verdict is "
           "installed (finalist %d)",
           m->watch_plan);

    /* profiled runs are not fed to it */
    const int before = m->watch.runs_since;
    rc = hidp_model_profile(m, 1, NULL);
    for (int r = 0; rc == 0 && r < 3; r++)
        rc = hidp_model_run(m);
    hidp_model_profile(m, 0, NULL);
    tap_ok(rc == 0 && m->watch.runs_since == before,
           "model: profiled runs leave the watch alone (%d, %d runs since the check)", rc,
           m->watch.runs_since);

    /* a new prepare ends the watch */
    rc = hidp_model_prepare(m);
    tap_ok(rc == 0 && !m->watching && !m->finalist[0].mode, "model: a new prepare ends the "
                                                            "watch");
done:
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
}

int main(void)
{
    check_watch();
    check_model();
    return tap_done();
}
