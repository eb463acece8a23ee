/*
 * peak.h - the measured floating-point peak of one core: a loop of independent vector FMAs, with
 * enough accumulators to cover the FMA latency times the number of FMA pipes, for each
 * instruction set this CPU runs. The benchmarks divide by it to say how close a kernel gets.
 */
#ifndef HIDP_BENCH_PEAK_H
#define HIDP_BENCH_PEAK_H

/* One instruction set's measured peak. */
typedef struct kb_peak {
    const char *isa;   /* "avx512", "avx2", "neon", "generic" */
    int lanes;         /* fp32 lanes of one vector */
    double gflops;     /* single-precision GFLOP/s on the calling thread (an FMA counts 2) */
} kb_peak;

/* Measures every ISA this CPU supports, widest first, into out[0..max); returns the count.
 * Each takes about budget_s seconds (best of a few timed rounds). */
int kb_peak_measure_all(kb_peak *out, int max, double budget_s);

/* The highest of the measured peaks (what a kernel on this core could reach at best). */
kb_peak kb_peak_best(double budget_s);

#endif
