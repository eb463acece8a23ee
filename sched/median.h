/*
 * median.h - the median of a few timings, and rounds of candidates judged by their medians, as
 * the tuner (tune.c) and the watch (watch.c) take them.
 */
#ifndef HIDP_MEDIAN_H
#define HIDP_MEDIAN_H

/* The median of v[0], v[stride], ... (count of them), sorted in tmp, which has room for count;
 * the mean of the two middle ones for an even count, INFINITY for none. */
double hidp__median(const double *v, int count, int stride, double *tmp);

/* Of the candidates live[0..n_live), the one whose median[] is lowest (the earlier in live on a
 * tie), that median in *best. n_live >= 1. */
int hidp__fastest_live(const int *live, int n_live, const double *median, double *best);

/* Rounds of candidates timed in turn, as the tuner's whole-run phases and the watch's checks
 * run them: at least ROUNDS_MIN, then more until each candidate left has ROUNDS_MIN_KEPT runs
 * counted, at most ROUNDS_MAX. */
#define HIDP__ROUNDS_MIN 3
#define HIDP__ROUNDS_MAX 6
#define HIDP__ROUNDS_MIN_KEPT 6

/* Ends round `round` (1 the first) of the candidates live[0..*n_live), candidate c with
 * median[c] over its n_kept[c] runs counted: drops those behind the fastest by more than a
 * margin, and returns 1 when the rounds are over (one left, ROUNDS_MAX of them, or ROUNDS_MIN
 * with every one left at ROUNDS_MIN_KEPT runs), else 0. The live keep their order. None is
 * dropped while any has fewer than 2 runs counted: one run is not enough to drop on (in a noisy
 * phase of the dev VM, ResNet-50's first round under bench/little_core.sh ran one candidate in
 * 59 ms and the 15 others in 68-95, all of them dropped, and the plan kept ran 82% of the ideal
 * where the one estimated at prepare ran 86%). Then the margin is 10% the first time (*pruned, 0
 * at a phase's start, counts the times), a candidate that far behind costs its runs and cannot
 * win, and 5% after, with more runs behind each median. */
int hidp__end_round(int *live, int *n_live, const double *median, const int *n_kept, int round,
                    int *pruned);

#endif
