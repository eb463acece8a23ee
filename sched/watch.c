/*
 * watch.c - checking the tuned plan again when its runs drift (watch.h).
 */
#include <math.h>
#include <string.h>

#include "median.h"
#include "watch.h"

static double median(const double *v, int count)
{
    double tmp[HIDP__WATCH_MAX_ROUNDS * HIDP__WATCH_MAX_BLOCK];
    return hidp__median(v, count, 1, tmp);
}

/* Between checks: the window starts empty, and the next check waits for cool runs. */
static void steady(hidp__watch *w, int cool)
{
    w->checking = 0;
    w->runs_since = 0;
    w->seconds_since = 0;
    w->cool_runs = cool;
}

void hidp__watch_init(hidp__watch *w, int n, double chosen_s, int block)
{
    memset(w, 0, sizeof *w);
    w->n = n < 1 ? 1 : n > HIDP__WATCH_PLANS ? HIDP__WATCH_PLANS : n;
    w->block = block < 2 ? 2 : block > HIDP__WATCH_MAX_BLOCK ? HIDP__WATCH_MAX_BLOCK : block;
    w->chosen_s = chosen_s;
    for (int k = 0; k < w->n; k++)
        w->median_s[k] = k == 0 ? chosen_s : NAN;
    steady(w, HIDP__WATCH_WINDOW);
}

/* The finalist of the check's current slot: each round visits the live ones in a turned order
 * (round r starts r places on), so that none always runs after the same one. */
static int check_plan(const hidp__watch *w)
{
    return w->live[(w->slot / w->block + w->round) % w->n_live];
}

int hidp__watch_plan(const hidp__watch *w)
{
    return w->checking ? check_plan(w) : w->cur;
}

static void start_check(hidp__watch *w, double drift)
{
    w->checking = 1;
    w->round = w->slot = w->check_runs = w->pruned = 0;
    w->drift = drift;
    w->n_live = w->n;
    for (int k = 0; k < w->n; k++) {
        w->live[k] = k;
        w->n_kept[k] = 0;
    }
}

/* The live finalists' medians so far, in medians[plan]. */
static void live_medians(const hidp__watch *w, double *medians)
{
    for (int k = 0; k < w->n_live; k++)
        medians[w->live[k]] = median(w->kept[w->live[k]], w->n_kept[w->live[k]]);
}

/* Ends a check: the plan in use stays unless another beat it by the switch margin (or it
 * dropped out, beaten by more than the prune margin). */
static void end_check(hidp__watch *w)
{
    for (int k = 0; k < w->n; k++)
        w->median_s[k] = median(w->kept[k], w->n_kept[k]);
    double best;
    const int fastest = hidp__fastest_live(w->live, w->n_live, w->median_s, &best);
    int cur_live = 0;
    for (int k = 0; k < w->n_live; k++)
        cur_live |= w->live[k] == w->cur;
    const double cur_s = w->median_s[w->cur];
    if (fastest != w->cur && (!cur_live || best < cur_s * (1.0 - HIDP__WATCH_SWITCH))) {
        w->cur = fastest;
        w->switches++;
    }
    w->chosen_s = w->median_s[w->cur];
    w->checks++;
    steady(w, HIDP__WATCH_COOL * w->check_runs);
}

static int feed_check(hidp__watch *w, double run_s)
{
    const int plan = check_plan(w);
    w->check_runs++;
    if (w->slot % w->block > 0)
        w->kept[plan][w->n_kept[plan]++] = run_s;
    if (++w->slot < w->n_live * w->block)
        return 0;
    w->slot = 0;
    double medians[HIDP__WATCH_PLANS];
    live_medians(w, medians);
    if (!hidp__end_round(w->live, &w->n_live, medians, w->n_kept, ++w->round, &w->pruned))
        return 0;
    end_check(w);
    return 1;
}

int hidp__watch_feed(hidp__watch *w, double run_s)
{
    if (w->n < 2 || !(run_s > 0))
        return 0;
    if (w->checking)
        return feed_check(w, run_s);
    w->recent[w->runs_since++ % HIDP__WATCH_WINDOW] = run_s;
    w->seconds_since += run_s;
    if (w->runs_since < w->cool_runs || w->runs_since < HIDP__WATCH_WINDOW)
        return 0;
    const double now = median(w->recent, HIDP__WATCH_WINDOW);
    const double drift = now / w->chosen_s;
    if (fabs(drift - 1.0) > HIDP__WATCH_DRIFT)
        start_check(w, drift);
    else if (w->seconds_since >= HIDP__WATCH_RECHECK_S)
        start_check(w, 0);
    return 0;
}
