/*
 * handoff.h - how long a cache line takes to pass between two CPUs, for benchmarks whose
 * figures depend on it (bench/little_core.c).
 */
#ifndef HIDP_BENCH_HANDOFF_H
#define HIDP_BENCH_HANDOFF_H

/* One way of a cache line passed back and forth between the calling thread, bound to CPU a for
 * the while (its affinity is restored after), and a thread bound to CPU b, max_trips times or
 * until budget_s seconds have passed (checked every 256 trips; 0: no limit): the mean in
 * nanoseconds, or a negative value when a thread cannot be started or bound. */
double bench_handoff_ns(int a, int b, int max_trips, double budget_s);

/* Binds the calling thread to CPU cpu: 0, or pthread_setaffinity_np's error (a benchmark may
 * run on unbound). */
int bench_bind_to(int cpu);

#endif
