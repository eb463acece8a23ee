/*
 * contention.h - whether a slower core's CPU is its worker's to use, or scarce: a CPU quota
 * spent (a container's cgroup, bench/little_core.sh), another process sharing the core.
 *
 * A worker of a slower kind whose CPU is scarce sleeps almost at once when it waits (at a
 * barrier, for the next layer to open, for the next run), and its shares allow for the wake-up
 * that follows: every microsecond it spins is one it cannot work (spinning 30-40 us after each
 * share did not make bench/little_core.sh's quota core faster). On a core of its own a sleep
 * costs the wake-up, and spinning costs nothing the run needs: there (bench/little_core.sh
 * -q 100, two equal cores as two kinds) spinning and no allowance made the default 1.02x faster
 * on ResNet-50 and 1.07x on MobileNet-V2 (in-process A/B).
 * The sign of a scarce CPU is time the thread could run but waits for its CPU: the kernel counts
 * it per thread (/proc/thread-self/schedstat, its second field), the time a spent quota keeps it
 * stopped included. Under bench/little_core.sh's 40% quota a busy thread waited 58% of a second;
 * one that needed less than its quota, and one on a core of its own, 0.1%. The worker samples
 * that count after its runs, once a window of at least HIDP__CONTENTION_WINDOW_NS has passed:
 * a wait of HIDP__CONTENTION_SHARE of the window or more makes its CPU scarce at once, and only
 * HIDP__CONTENTION_CLEAN windows in a row below that make it its own again. Under the quota a
 * window where the worker had little to do (the tuner's trials of the fast core alone) waited
 * 0-2%, the others 3-53%; a core of its own 0.03-1.75%. A worker starts out scarce: the engine
 * keeps its quota-safe ways until windows show otherwise, and where the count cannot be read.
 */
#ifndef HIDP_CONTENTION_H
#define HIDP_CONTENTION_H

#include <stdatomic.h>
#include <stdint.h>

#define HIDP__CONTENTION_WINDOW_NS 100000000LL
#define HIDP__CONTENTION_SHARE 0.02
#define HIDP__CONTENTION_CLEAN 10

typedef struct hidp__contention {
    int64_t window_start_ns; /* 0: no sample yet */
    int64_t window_start_wait_ns;
    int clean;         /* windows in a row below the share */
    atomic_int scarce; /* written by the worker, read by the planner */
} hidp__contention;

/* Scarce, no sample yet. */
void hidp__contention_init(hidp__contention *c);

/* Whether a sample is due at now_ns (none yet, or the window has passed). */
int hidp__contention_due(const hidp__contention *c, int64_t now_ns);

/* A sample at now_ns: the thread's time waiting for its CPU so far (wait_ns). Closes the
 * window when it is long enough; returns 1 when the verdict changed. */
int hidp__contention_feed(hidp__contention *c, int64_t now_ns, int64_t wait_ns);

/* Sets the verdict as if windows had shown it (tests): scarce at once, or its own after enough
 * clean windows. */
void hidp__contention_force(hidp__contention *c, int scarce);

static inline int hidp__contention_scarce(const hidp__contention *c)
{
    return atomic_load_explicit(&c->scarce, memory_order_relaxed);
}

#endif
