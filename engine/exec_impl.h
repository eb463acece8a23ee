/*
 * exec_impl.h - the executor's private state, shared by engine/exec.c (the worker pool, the
 * barrier, the run loops), engine/exec_plan.c (the plan) and engine/exec_help.c (helping). Not
 * for other files: the executor's interface is exec.h.
 */
#ifndef HIDP_EXEC_IMPL_H
#define HIDP_EXEC_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "exec.h"
#include "../sched/backoff.h"
#include "../sched/topo.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* Pause-spins before yielding at a barrier or while lingering: some tens of microseconds, longer
 * than most layers' imbalance, short enough not to starve a thread that shares the core (the
 * scheduler may put a new worker on its caller's CPU until it balances the load). */
#define SPIN_LIMIT 1000

/* lost_ns entries a cache line apart: each is written by its own worker while the others work */
#define LOST_STRIDE 8

/* At most this many chunks of worker 1's share of a node when helping (exec_help.c): the
 * stride of the chunk tables below. */
#define HELP_MAX_CHUNKS 16

/* One barrier of a run: how many workers have arrived (reset by worker 0 as each run starts)
 * and how many sleep in the kernel on that count. A cache line each: the next barrier's count
 * is written while another worker still spins on this one. */
typedef struct meeting {
    _Alignas(64) atomic_int arrived;
    atomic_int sleepers;
} meeting;

typedef struct worker {
    struct hidp__exec *e;
    int index;
    pthread_t tid;
} worker;

struct hidp__exec {
    const hidp__graph *g;
    int threads, reference;
    hidp__slice *slices;   /* [node * threads + worker] */
    char *barrier_after;   /* [node]: workers meet after this node */
    float **scratch;       /* [worker] */
    worker *workers;       /* [1, threads) are pthreads */
    int started;           /* pthreads running */

    meeting *meet;         /* [node]: the barrier after it, when barrier_after */
    char *waits;           /* [node * threads + worker]: it waits at that barrier (else it
                            * only arrives: it has nothing to do before the next one) */
    int *producer;         /* [value] the node that writes it, -1 none (an input, a constant) */

    pthread_mutex_t mu;    /* parking between runs */
    pthread_cond_t cv;
    atomic_ullong gen;     /* incremented by each run (written under mu) */
    atomic_int quit;       /* written under mu */
    int any_split;         /* some node gives work to a worker other than 0 */

    /* placement (sched/place.h): NULL pus when the workers are not bound */
    int *pus;              /* [worker] PU, -1 none */
    double *weight;        /* [worker] share of each split layer */
    int64_t *spin_ns;      /* [worker] barrier spin before sleeping (NULL: BARRIER_SPIN_NS) */
    double wake_s;         /* calibrated wake-up of a sleeping worker, seconds (0 unknown) */
    const hidp__topo *topo;

    /* the plan in force (hidp__exec_plan) */
    signed char *mode;     /* [node] HIDP__PLAN_*, NULL: all AUTO */
    double trim;           /* factor on the shares of workers slower than the fastest */

    double *solo_s;        /* [node] measured time on the fastest worker alone, 0 unknown */

    /* backing off (sched/backoff.h, hidp__exec_adapt): the slower workers' time off their CPU
     * within slices, each written by its worker during a run and read by worker 0 after it */
    int adapt;
    hidp__backoff backoff; /* its factor multiplies trim */
    int64_t *lost_ns;      /* [worker * LOST_STRIDE] this run's */
    double last_lost;      /* the last run's loss, as a fraction of it */
    /* tests (hidp__exec_stall): this worker sleeps stall_ns per slice; atomic, as a test may
     * change them while worker 1 is still in a chunk of the last run (helping) */
    _Atomic int stall_worker;
    _Atomic int64_t stall_ns;

    /* helping (hidp__exec_help): worker 1, the slower, takes its share of a node in chunks
     * while it can, and worker 0 takes back those it has not started or not finished in time */
    int help;
    int *help_k;         /* [node] chunks of worker 1's share, 0: worker 0 runs that share */
    hidp__slice *chunks; /* [node * HELP_MAX_CHUNKS + k] */
    int64_t *chunk_late_ns; /* [same] how long worker 1 may hold it before worker 0 takes it */
    _Atomic uint64_t *chunk_state; /* [same] (run << 3) | CHUNK_*, older runs' count as free */
    _Atomic int64_t *chunk_start;  /* [same] when worker 1 took it */
    float *mirror;           /* worker 1 computes a chunk here first, laid out like the output */
    uint64_t run;            /* this run's number (written by worker 0 before it starts) */
    atomic_int open_seq;   /* bumped each time worker 0 opens a node to worker 1 (a futex
                            * word; not a meeting: this struct is not allocated 64-aligned) */
    atomic_int open_sleepers; /* worker 1 sleeps on open_seq */
    _Atomic uint64_t opened; /* (run << 32) | (node + 1): the node worker 1 may help with;
                              * node n_nodes: the run is over */
    atomic_ullong done_gen;  /* the last run worker 1 is done with (re-planning waits for it) */
    atomic_llong helped, taken_back; /* chunks worker 1 finished, and worker 0 took back */
    clockid_t helper_clock;  /* worker 1's CPU-time clock, read by worker 0 while it waits */
    int helper_clock_ok;

    /* profiling (hidp__exec_profile): NULL when off */
    hidp__exec_rec *recs;  /* [node * threads + worker] */
    const hidp__exec_probe *probe;
    int64_t run_start;
};

/* Clock c in nanoseconds, -1 when it cannot be read: CLOCK_MONOTONIC (now_ns), this thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID), worker 1's (helper_clock). */
static inline int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static inline int slice_empty(hidp__slice s)
{
    return s.c0 >= s.c1 || s.h0 >= s.h1;
}

/* s with only its rows (by_rows) or channels [lo, hi), counted from its first. */
static inline hidp__slice narrowed(hidp__slice s, int by_rows, int64_t lo, int64_t hi)
{
    if (by_rows) {
        s.h1 = s.h0 + hi;
        s.h0 += lo;
    } else {
        s.c1 = s.c0 + hi;
        s.c0 += lo;
    }
    return s;
}

/* Whether node i's output can be cut among the workers at all. */
static inline int splittable(const hidp__exec *e, int i)
{
    const hidp__slice all = hidp__slice_all(e->g, &e->g->nodes[i]);
    return e->threads > 1 && (all.c1 - all.c0 >= e->threads || all.h1 - all.h0 >= e->threads);
}

/* exec.c */

/* Waits while *word == old (a futex word), in the kernel. */
void hidp__exec_wait_while(atomic_int *word, int old);
/* Wakes every thread waiting on the futex word. */
void hidp__exec_wake_all(atomic_int *word);
/* Runs slice s of node n: its op, then its activation unless the op fuses it. */
void hidp__exec_run_slice(const hidp__exec *e, const hidp__node *n, hidp__slice s, float *scratch);

/* exec_plan.c */

/* A node's estimated work: its flops, or its output elements when those are more. */
double hidp__exec_node_work(const hidp__graph *g, const hidp__node *n);
/* Plans every node and where the workers meet (after waiting for worker 1, when helping). */
void hidp__exec_plan_all(hidp__exec *e);

/* exec_help.c */

/* Cuts worker 1's share of node i into chunks, in whole blocks of align (e->help_k[i] of them). */
void hidp__help_plan_chunks(hidp__exec *e, int i, int64_t align);
/* Worker 0's run when helping. */
void hidp__help_run_master(hidp__exec *e);
/* Worker 1's run `run` when helping. */
void hidp__help_run_helper(hidp__exec *e, uint64_t run);
/* Allocates what helping needs for nn nodes (none when no op can write aside); -1: no memory. */
int hidp__help_alloc(hidp__exec *e, size_t nn);
/* Waits until worker 1 is done with the last run, before the plan or the way of running changes. */
void hidp__help_quiesce(hidp__exec *e);

#endif
