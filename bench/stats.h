/*
 * stats.h - what the benchmarks report of a set of timings.
 */
#ifndef HIDP_BENCH_STATS_H
#define HIDP_BENCH_STATS_H

/* The median of v[0..n) (n >= 1; the mean of the two middle ones when n is even), sorting v in
 * place. */
double bench_median(double *v, int n);

/* Now on CLOCK_MONOTONIC, in milliseconds (for differences only). */
double bench_now_ms(void);

#endif
