/*
 * median.h - the median of a few timings, and how far behind the best a candidate may fall
 * before it is dropped, as the tuner (tune.c) and the watch (watch.c) take them.
 */
#ifndef HIDP_MEDIAN_H
#define HIDP_MEDIAN_H

/* The median of v[0], v[stride], ... (count of them), sorted in tmp, which has room for count;
 * the mean of the two middle ones for an even count, INFINITY for none. */
double hidp__median(const double *v, int count, int stride, double *tmp);

/* After a round of candidates (live[0..n_live), n_kept[c] runs counted of candidate c): the
 * factor on the best median beyond which a candidate is dropped. INFINITY (none is) while any
 * has fewer than 2 runs counted: one run is not enough to drop on (in a noisy phase of the dev
 * VM, ResNet-50's first round under bench/little_core.sh ran one candidate in 59 ms and the 15
 * others in 68-95, all of them dropped, and the plan kept ran 82% of the ideal where the one
 * estimated at prepare ran 86%). Then 1.10 the first time (*pruned, 0 at a phase's start,
 * counts the times), a candidate that far behind costs its runs and cannot win, and 1.05 after,
 * with more runs behind each median. */
double hidp__drop_margin(const int *n_kept, const int *live, int n_live, int *pruned);

#endif
