/*
 * model_run.c - running a prepared model: hidp_model_run, and the first runs that tune its local
 * plan (sched/tune.h) by timing every layer split and solo, then the slower cores' trim.
 *
 * A trial is an ordinary run under a trial plan with per-slice timestamps on; its outputs are as
 * right as any other run's, but it is left out of the profile (profile.c). When the tuner is
 * done, its plan is installed, the timestamps go off (unless profiling) and the tuner is freed;
 * its finalists stay under watch (model_watch.c), fed every run's wall time from then on.
 */
#include <stdlib.h>
#include <time.h>

#include "exec.h"
#include "model.h"
#include "../sched/tune.h"

/* A block of whole runs (sched/tune.h) lasts at least this long: 5 periods of a 10 ms CPU
 * quota, so a throttled core (bench/little_core.sh) shows its steady state on a 3 ms model. */
#define TUNE_BLOCK_MIN_S 0.05

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void hidp__model_tune_stop(hidp_model *m)
{
    hidp__err err = {0, ""};
    if (m->tuner && m->exec) /* the timestamps stay on if the user profiles */
        hidp__exec_profile(m->exec, m->prof ? HIDP__PROFILE_AS_RUN : HIDP__PROFILE_OFF,
                           hidp__model_probe(m), &err);
    hidp__tuner_destroy(m->tuner);
    m->tuner = NULL;
    free(m->tune_mode);
    free(m->tune_s);
    m->tune_mode = NULL;
    m->tune_s = NULL;
    m->tune_solo_set = 0;
}

int hidp__model_tune_start(hidp_model *m, hidp__err *err)
{
    const int n = m->g.n_nodes;
    if (hidp__exec_threads(m->exec) < 2 || n < 1)
        return 0;
    char *splittable = malloc((size_t)n);
    m->tune_mode = malloc((size_t)n);
    m->tune_s = malloc((size_t)n * sizeof *m->tune_s);
    if (!splittable || !m->tune_mode || !m->tune_s) {
        free(splittable);
        hidp__model_tune_stop(m);
        return hidp__fail(err, HIDP_ENOMEM, "out of memory for the plan tuner");
    }
    for (int i = 0; i < n; i++)
        splittable[i] = (char)hidp__exec_splittable(m->exec, i);
    int rc = hidp__tuner_create(&m->tuner, n, splittable, hidp__exec_unequal(m->exec),
                                hidp__exec_stripes_in_force(m->exec, NULL, NULL) > 0,
                                TUNE_BLOCK_MIN_S, err);
    free(splittable);
    if (rc)
        hidp__model_tune_stop(m);
    return rc;
}

/* Installs the tuner's next plan. A trial (returns 1) then runs, timed per layer, and is fed
 * back; when tuning is over (returns 0) the final plan stays and nothing runs. Failing to set a
 * plan (out of memory) ends tuning with the prepared plan. */
static int tuning_step(hidp_model *m)
{
    hidp__err err = {0, ""};
    double trim = 1.0;
    int stripes = 1;
    const int trial = hidp__tuner_next(m->tuner, m->tune_mode, &trim, &stripes);
    /* once measured, each layer's solo time sizes its shares (hidp__split_allow_wake) */
    if (!m->tune_solo_set && hidp__tuner_solo_times(m->tuner, m->tune_s)) {
        m->tune_solo_set = 1;
        if (hidp__exec_set_solo_times(m->exec, m->tune_s, &err) != 0)
            hidp__log(m->ctx, HIDP_LOG_WARN, "layer times left unused: %s", err.msg);
    }
    /* A layer trial is timed per slice, which runs the shares fixed, with barriers (so that
     * each layer's time is its own: exec.h, HIDP__PROFILE_FIXED); a whole-run trial runs as the
     * plan will (taken back; per layer too when the user profiles every run), timed around.
     * Timed with fixed shares, where a throttled core stalls every barrier, the candidates
     * favoured small shares for it: on bench/little_core.sh ResNet-50's default chose x0.6 and
     * reached 84% of the ideal, 0.93x the fixed shares' own tuning; timed taken back, it chose
     * x1.0: 93%, 1.03x. */
    const int layers = trial && hidp__tuner_times_layers(m->tuner);
    const int per_layer = layers || (trial && m->prof);
    const int how = layers      ? HIDP__PROFILE_FIXED
                    : per_layer ? HIDP__PROFILE_AS_RUN
                                : HIDP__PROFILE_OFF;
    if (stripes >= 0)
        hidp__exec_use_stripes(m->exec, stripes);
    if (hidp__exec_plan(m->exec, m->tune_mode, trim, &err) != 0 ||
        (trial && hidp__exec_profile(m->exec, how, hidp__model_probe(m), &err) != 0)) {
        hidp__log(m->ctx, HIDP_LOG_WARN, "plan left untuned: %s", err.msg);
        hidp__exec_plan(m->exec, NULL, 1.0, &err);
        hidp__model_tune_stop(m);
        return 0;
    }
    if (!trial) {
        const int split = hidp__tuner_split_layers(m->tuner);
        if (split < 0)
            hidp__log(m->ctx, HIDP_LOG_INFO, "plan tuned: the plan estimated at prepare stays");
        else if (split == 0)
            hidp__log(m->ctx, HIDP_LOG_INFO, "plan tuned: every layer on the fastest core alone");
        else
            hidp__log(m->ctx, HIDP_LOG_INFO, "plan tuned: %d of %d layers split, slower cores' "
                      "shares x%.1f, %d stripes", split, m->g.n_nodes, trim,
                      hidp__exec_stripes_in_force(m->exec, NULL, NULL));
        hidp__log(m->ctx, HIDP_LOG_DEBUG, "plan tuned from: %s", hidp__tuner_medians(m->tuner));
        hidp__model_watch_start(m, m->tuner);
        hidp__model_tune_stop(m);
        /* from here on the slower cores' shares back off while their CPU is taken from them */
        hidp__exec_adapt(m->exec, !m->ctx->fixed_plan);
        m->backoff = 1.0;
        return 0;
    }
    const double t0 = seconds_now();
    hidp__exec_run(m->exec);
    const double run_s = per_layer ? hidp__exec_run_seconds(m->exec) : seconds_now() - t0;
    for (int i = 0; i < m->g.n_nodes; i++)
        m->tune_s[i] = per_layer ? hidp__exec_node_seconds(m->exec, i) : 0;
    hidp__tuner_feed(m->tuner, m->tune_s, run_s);
    return 1;
}

int hidp_model_run(hidp_model *m)
{
    if (!m)
        return HIDP_EINVAL;
    if (!m->prepared)
        return hidp__ctx_fail(m->ctx, HIDP_ESTATE, "hidp_model_run: the model is not prepared "
                              "(call hidp_model_prepare first)");
    if (m->tuner && tuning_step(m))
        return 0; /* a trial: not part of the profile */
    const int watching = m->watching && !m->prof;
    const double t0 = watching ? seconds_now() : 0;
    hidp__exec_run(m->exec);
    if (watching)
        hidp__model_watch_feed(m, seconds_now() - t0);
    if (m->prof)
        hidp__profile_add_run(m);
    double lost;
    const double factor = hidp__exec_backoff(m->exec, &lost);
    if (factor != m->backoff) {
        hidp__log(m->ctx, HIDP_LOG_DEBUG, "slower cores' shares x%.2f: they were off their CPU "
                  "%.1f%% of the last run", factor, 100.0 * lost);
        m->backoff = factor;
    }
    return 0;
}

int hidp_model_tune(hidp_model *m)
{
    if (!m)
        return HIDP_EINVAL;
    if (!m->prepared)
        return hidp__ctx_fail(m->ctx, HIDP_ESTATE, "hidp_model_tune: the model is not prepared "
                              "(call hidp_model_prepare first)");
    int runs = 0;
    while (m->tuner && tuning_step(m))
        runs++;
    return runs;
}
