/*
 * model_watch.c - the tuned plan under watch (sched/watch.h): the tuner's finalists kept, every
 * run after tuning fed to the watch, and the finalist it picks installed in the executor.
 *
 * Off with --fixed-plan (HIDP_TUNE_FIXED: the tuned plan stays, as the user asked), while the
 * model is profiled (a profile sums one plan's layers), and with the environment variable
 * HIDP_NO_WATCH set (an A/B: bench/little_core.sh -e HIDP_NO_WATCH=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "model.h"
#include "../sched/tune.h"

void hidp__model_watch_stop(hidp_model *m)
{
    for (int k = 0; k < HIDP__WATCH_PLANS; k++) {
        free(m->finalist[k].mode);
        m->finalist[k].mode = NULL;
    }
    m->watching = 0;
}

void hidp__model_watch_start(hidp_model *m, const hidp__tuner *t)
{
    hidp__model_watch_stop(m);
    int n = hidp__tuner_finalists(t);
    n = n < HIDP__WATCH_PLANS ? n : HIDP__WATCH_PLANS;
    if (n < 2 || m->ctx->fixed_plan || getenv("HIDP_NO_WATCH"))
        return;
    double chosen_s = 0;
    for (int k = 0; k < n; k++) {
        if (!(m->finalist[k].mode = malloc((size_t)m->g.n_nodes))) {
            hidp__log(m->ctx, HIDP_LOG_WARN, "plan left unwatched: out of memory");
            hidp__model_watch_stop(m);
            return;
        }
        const double s = hidp__tuner_finalist(t, k, m->finalist[k].mode, &m->finalist[k].trim,
                                              &m->finalist[k].stripes);
        chosen_s = k == 0 ? s : chosen_s;
    }
    hidp__watch_init(&m->watch, n, chosen_s, hidp__tuner_block(t));
    m->watch_plan = 0; /* the tuner's verdict, installed as it ended */
    m->watching = 1;
}

/* Finalist k for the log: "13 of 55 layers split, x1.2" (", no stripes" when it turns them
 * off), or the estimate, or every layer alone. */
static void describe(const hidp_model *m, int k, char *buf, size_t len)
{
    int split = 0, automatic = 0;
    for (int i = 0; i < m->g.n_nodes; i++) {
        split += m->finalist[k].mode[i] == HIDP__PLAN_SPLIT;
        automatic += m->finalist[k].mode[i] == HIDP__PLAN_AUTO;
    }
    if (automatic == m->g.n_nodes)
        snprintf(buf, len, "the plan estimated at prepare");
    else if (split == 0)
        snprintf(buf, len, "every layer on the fastest core alone");
    else
        snprintf(buf, len, "%d of %d layers split, x%.2g%s", split, m->g.n_nodes,
                 m->finalist[k].trim, m->finalist[k].stripes == 0 ? ", no stripes" : "");
}

/* What a check found, for the log: why it ran, each finalist's median, the verdict. */
static void log_check(hidp_model *m, int before)
{
    const hidp__watch *w = &m->watch;
    char line[768], plan[96], why[80];
    if (w->drift > 0)
        snprintf(why, sizeof why, "runs at %.2fx the median it was chosen on", w->drift);
    else
        snprintf(why, sizeof why, "%.0f s of runs since the last check", HIDP__WATCH_RECHECK_S);
    int used = snprintf(line, sizeof line, "plan checked again (%s):", why);
    for (int k = 0; k < w->n && used < (int)sizeof line - 160; k++) {
        describe(m, k, plan, sizeof plan);
        used += snprintf(line + used, sizeof line - (size_t)used, "%s %s %.2f ms", k ? ";" : "",
                         plan, w->median_s[k] * 1e3);
    }
    describe(m, w->cur, plan, sizeof plan);
    hidp__log(m->ctx, w->cur != before ? HIDP_LOG_INFO : HIDP_LOG_DEBUG, "%s; %s %s", line,
              w->cur != before ? "now" : "still", plan);
}

void hidp__model_watch_feed(hidp_model *m, double run_s)
{
    const int before = m->watch.cur;
    if (hidp__watch_feed(&m->watch, run_s))
        log_check(m, before);
    const int k = hidp__watch_plan(&m->watch);
    if (k == m->watch_plan)
        return;
    hidp__err err = {0, ""};
    if (m->finalist[k].stripes >= 0)
        hidp__exec_use_stripes(m->exec, m->finalist[k].stripes);
    if (hidp__exec_plan(m->exec, m->finalist[k].mode, m->finalist[k].trim, &err) != 0) {
        hidp__log(m->ctx, HIDP_LOG_WARN, "plan left unwatched: %s", err.msg);
        hidp__model_watch_stop(m);
        return;
    }
    m->watch_plan = k;
    m->backoff = 1.0; /* a new plan starts from its own shares */
}
