/*
 * cli_measure.h - what `hidp bench` measures with, kept apart from its option handling: a
 * monotonic clock, latency statistics, the process's resident memory, seeded inputs and the
 * progress line.
 */
#ifndef HIDP_CLI_MEASURE_H
#define HIDP_CLI_MEASURE_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (not affected by changes of the wall clock). */
double cli_now_ms(void);

typedef struct cli_latency {
    int runs;
    double min, median, p90, max, mean, stddev; /* ms; stddev is the sample one (n - 1) */
} cli_latency;

/* Sorts t[0..n) (n >= 1) and summarises it: the median is the middle value (the mean of the two
 * middle ones for an even n), p90 the nearest rank, the ceil(0.9 n)-th smallest. */
void cli_latency_stats(double *t, int n, cli_latency *out);

/* A kB field of /proc/self/status ("VmRSS", "VmHWM"), or -1 where there is none. */
long cli_status_kb(const char *key);

/* Resets the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux 4.0+); 0 when it worked. */
int cli_reset_peak_rss(void);

/* Fills x with normal(0,1) values from a generator seeded by *state, which advances: the same
 * seed gives the same values on every machine. */
void cli_fill_normal(float *x, size_t n, uint64_t *state);

/* A progress line on stderr, only when stderr is a terminal and the work looks longer than
 * about 2 s (elapsed plus the estimate left), redrawn in place at most ten times a second. */
typedef struct cli_progress {
    int tty, shown;
    double start, last;
} cli_progress;

void cli_progress_start(cli_progress *p);
void cli_progress_update(cli_progress *p, const char *label, const char *what, int done,
                         int total, double est_left_ms);
/* Erases the line if it was drawn (before the figures go out). */
void cli_progress_clear(cli_progress *p);

#endif
