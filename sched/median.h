/*
 * median.h - the median of a few timings, as the tuner (tune.c) and the watch (watch.c) take it.
 */
#ifndef HIDP_MEDIAN_H
#define HIDP_MEDIAN_H

/* The median of v[0], v[stride], ... (count of them), sorted in tmp, which has room for count;
 * the mean of the two middle ones for an even count, INFINITY for none. */
double hidp__median(const double *v, int count, int stride, double *tmp);

#endif
