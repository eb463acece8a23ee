/*
 * watch.h - the tuned plan kept under watch: timed again against its runners-up when the
 * machine's speed drifts.
 *
 * The tuner (tune.h) picks among whole-run candidates in a few seconds of trials. A VM's host
 * moves through phases that last seconds to minutes (doc/local-level.md: one core ran ResNet-50
 * in 71 ms for seconds at a time, then in 90-110), and a verdict measured in one phase can be
 * wrong in the next. On bench/little_core.sh's MobileNet-V2, a second layer phase that ran slow
 * settled on a plan splitting 1 of 55 layers, right for that phase; the timed rounds, in a
 * faster one, ran it level with the big core alone (74% of the ideal).
 *
 * So the tuner's last candidates, the finalists, stay known after it (at most HIDP__WATCH_PLANS,
 * the chosen one first), and every run's wall time is fed here. When the median of the last
 * HIDP__WATCH_WINDOW runs moves from the median the plan was chosen on by more than
 * HIDP__WATCH_DRIFT, or HIDP__WATCH_RECHECK_S seconds of runs have gone by, the watch checks:
 * it runs the finalists in turn, in blocks of ordinary runs (outputs as right as any; the first
 * run of a block is not counted, as in the tuner), HIDP__WATCH_ROUNDS rounds or, as in the
 * tuner, more until each finalist left has HIDP__WATCH_MIN_KEPT runs counted (at most
 * HIDP__WATCH_MAX_ROUNDS), and keeps the one with the lowest median, changing plans only for
 * one faster by HIDP__WATCH_SWITCH. A check does not start until the runs since the last one
 * number HIDP__WATCH_COOL times that check's runs, so checking takes at most a fifth of the
 * runs.
 *
 * Like the tuner it never sees the executor: a plan is an index into the caller's finalists.
 */
#ifndef HIDP_WATCH_H
#define HIDP_WATCH_H

#include "median.h"

#define HIDP__WATCH_PLANS 4
/* A check's rounds are the tuner's (sched/median.h). */
#define HIDP__WATCH_ROUNDS HIDP__ROUNDS_MIN
#define HIDP__WATCH_MAX_ROUNDS HIDP__ROUNDS_MAX
#define HIDP__WATCH_MIN_KEPT HIDP__ROUNDS_MIN_KEPT
#define HIDP__WATCH_MAX_BLOCK 32
/* Runs whose median is compared with the plan's: enough that a block's slow first run, or one
 * run a preemption stretched, cannot move it. */
#define HIDP__WATCH_WINDOW 9
#define HIDP__WATCH_DRIFT 0.10
#define HIDP__WATCH_RECHECK_S 30.0
#define HIDP__WATCH_SWITCH 0.02
#define HIDP__WATCH_COOL 4

typedef struct hidp__watch {
    int n, block;    /* finalists, and runs in a row of one during a check */
    int cur;         /* the plan in use between checks */
    double chosen_s; /* the median run cur was chosen on */
    /* between checks */
    double recent[HIDP__WATCH_WINDOW]; /* the last runs, a ring indexed by runs_since */
    int runs_since;
    double seconds_since;
    int cool_runs; /* runs_since must reach this before a check */
    /* a check */
    int checking, round, slot, live[HIDP__WATCH_PLANS], n_live;
    double kept[HIDP__WATCH_PLANS][HIDP__WATCH_MAX_ROUNDS * HIDP__WATCH_MAX_BLOCK];
    int n_kept[HIDP__WATCH_PLANS];
    int check_runs; /* runs of the check so far */
    int pruned;     /* rounds of the check that have dropped finalists (or could) */
    double drift; /* what started the check: the window's median over chosen_s, 0 the clock */
    double median_s[HIDP__WATCH_PLANS]; /* each finalist's median in the last check */
    int checks, switches;
} hidp__watch;

/* A watch over n finalists (1..HIDP__WATCH_PLANS; fewer than 2: nothing to check) of which the
 * first is in use, chosen on a median run of chosen_s seconds; block: runs of one finalist in a
 * row during a check (2..HIDP__WATCH_MAX_BLOCK; the tuner's). */
void hidp__watch_init(hidp__watch *w, int n, double chosen_s, int block);

/* The finalist the next run is to use. */
int hidp__watch_plan(const hidp__watch *w);

/* One run's wall time (seconds), under the plan hidp__watch_plan gave. Returns 1 when a check
 * just ended (hidp__watch_plan then gives the verdict), else 0. */
int hidp__watch_feed(hidp__watch *w, double run_s);

#endif
