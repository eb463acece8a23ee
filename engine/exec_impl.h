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
#include "../sched/contention.h"
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

/* Worker 1's pace on one kind of its work (chunks, stripes' bands): its CPU time on what it
 * delivered, and that work's time on worker 0 as planned (pace_add; hidp__exec_help_pace). */
typedef struct pace {
    atomic_llong cpu_ns, planned_ns;
} pace;

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
    int any_split;         /* some node or stripe in force gives a worker other than 0 work */

    /* placement (sched/place.h): NULL pus when the workers are not bound */
    int *pus;              /* [worker] PU, -1 none */
    double *weight;        /* [worker] share of each split layer */
    unsigned char *slower; /* [worker] of a kind slower than the fastest (hidp__exec_slower):
                            * it spins before sleeping only while its CPU is not scarce
                            * (hidp__exec_spin_ns) */
    /* [worker] whether its CPU is scarce (sched/contention.h), fed by the worker itself after
     * its runs; NULL without a placement */
    hidp__contention *contention;
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
    _Atomic int stall_until_shared; /* hidp__exec_stall_until_shared */

    /* helping (hidp__exec_help): worker 1, the slower, takes its share of a node in chunks
     * while it can, and worker 0 takes back those it has not started or not finished in time */
    int help;
    int *help_k;         /* [node] chunks of worker 1's share, 0: worker 0 runs that share */
    hidp__slice *chunks; /* [node * HELP_MAX_CHUNKS + k] */
    int64_t *chunk_late_ns; /* [same] how long worker 1 may hold it before worker 0 takes it */
    _Atomic uint64_t *chunk_state; /* [same] (run << 3) | CHUNK_*, older runs' count as free */
    _Atomic int64_t *chunk_start;  /* [same] when worker 1 took it */
    _Atomic int *chunk_done;       /* [same] how many of its pieces (a stripe: nodes) worker 1
                                    * has finished aside (set to 0 before it takes it) */
    signed char *chunk_pieces;     /* [same] a chunk's pieces: bands of its rows */
    _Atomic uint64_t *chunk_ends;  /* [same] which of a chunk's pieces each worker may take
                                    * (pieces_word, exec_help.c) */
    float *mirror;           /* worker 1 computes a chunk here first, laid out like the output */
    uint64_t run;            /* this run's number (written by worker 0 before it starts) */
    atomic_int open_seq;   /* bumped each time worker 0 opens a node to worker 1 (a futex
                            * word; not a meeting: this struct is not allocated 64-aligned) */
    atomic_int open_sleepers; /* worker 1 sleeps on open_seq */
    _Atomic uint64_t opened; /* (run << 32) | (node + 1): the node worker 1 may help with;
                              * node n_nodes: the run is over */
    atomic_ullong done_gen;  /* the last run worker 1 is done with (re-planning waits for it) */
    atomic_llong helped, taken_back; /* chunks worker 1 finished, and worker 0 took back */
    atomic_llong resumed; /* of those taken back, how many with pieces worker 1 had finished */
    atomic_llong shared;  /* pieces worker 0 took from the back of chunks worker 1 ran */
    pace helped_pace;     /* of the chunks worker 1 finished */
    clockid_t helper_clock;  /* worker 1's CPU-time clock, read by worker 0 while it waits */
    int helper_clock_ok;

    /* stripes (exec_stripe.c; engine/stripe.h), when helping: worker 1 takes the bottom band of
     * a stripe in force through all its nodes at once, in a copy of the arena of its own */
    int n_stripes;
    hidp__stripe *stripes;
    int *stripe_first;       /* [node] the stripe it begins, -1 none */
    char *stripe_on;         /* [stripe] in force in the plan (hidp__stripe_plan_all) */
    int stripes_off;         /* hidp__exec_use_stripes(e, 0) */
    hidp__rows *stripe_rows; /* [node * 2 + w] rows of a stripe's node worker w computes: the
                              * top band (0) or the bottom (1) */
    int64_t *stripe_planned; /* [stripe] the row of its last output where the plan starts worker
                              * 1's band */
    int64_t *stripe_shift;   /* [stripe] rows given to worker 1 beyond the plan, as runs showed:
                              * its band starts at stripe_planned - stripe_shift */
    hidp__graph shadow;      /* *g, but the values a stripe writes inside are in shadow_arena */
    hidp__value *shadow_vals;
    void *shadow_arena;
    atomic_llong stripes_helped, stripes_taken; /* by worker 1, and back by worker 0 */
    atomic_llong stripes_resumed, stripes_copied; /* of those taken back, how many worker 0
                            * went on with from the node worker 1 had reached, and how many worker
                            * 1 had finished (worker 0 copied its band in from the mirror) */
    pace stripes_pace;                            /* of the bands worker 1 delivered */
    int stall_turn;         /* worker 1's (exec_stripe.c, for tests): where it stalls next */

    /* profiling (hidp__exec_profile): NULL when off */
    hidp__exec_rec *recs;  /* [node * threads + worker] */
    int recs_fixed;        /* profiled runs run the slices fixed, with barriers (exec.h) */
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

static inline void pace_init(pace *p)
{
    atomic_init(&p->cpu_ns, 0);
    atomic_init(&p->planned_ns, 0);
}

/* Adds work worker 1 delivered, done between its CPU clock's readings cpu0 and cpu1 (nothing
 * when the clock could not be read), planned_s seconds on worker 0. */
static inline void pace_add(pace *p, int64_t cpu0, int64_t cpu1, double planned_s)
{
    if (cpu0 < 0 || cpu1 < cpu0)
        return;
    atomic_fetch_add_explicit(&p->cpu_ns, cpu1 - cpu0, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->planned_ns, (long long)(planned_s * 1e9), memory_order_relaxed);
}

static inline void pace_read(const pace *p, double *cpu_s, double *planned_s)
{
    *cpu_s = (double)atomic_load(&p->cpu_ns) * 1e-9;
    *planned_s = (double)atomic_load(&p->planned_ns) * 1e-9;
}

/* Sleeps ns nanoseconds (test stalls, hidp__exec_stall: a second or more too). */
static inline void nap_ns(int64_t ns)
{
    const struct timespec nap = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    if (ns > 0)
        nanosleep(&nap, NULL);
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
/* How long worker w spins before it sleeps when it waits: BARRIER_SPIN_NS for the fastest
 * kind and for a slower worker whose CPU is not scarce, else 0 (a few pauses, then sleep). */
int64_t hidp__exec_spin_ns(const hidp__exec *e, int w);
/* A span of worker w's work, as a record of its own, begun and ended on that worker's thread:
 * the time, and the probe's counters across it (r->end and r->leave: its end). Both do nothing
 * when not profiling (e->recs NULL). */
void hidp__exec_span_begin(const hidp__exec *e, int w, hidp__exec_rec *r);
void hidp__exec_span_end(const hidp__exec *e, int w, hidp__exec_rec *r);

/* exec_plan.c */

/* A node's estimated work: its flops, or its output elements when those are more. */
double hidp__exec_node_work(const hidp__graph *g, const hidp__node *n);
/* Plans every node and where the workers meet (after waiting for worker 1, when helping). */
void hidp__exec_plan_all(hidp__exec *e);

/* exec_help.c */

/* A chunk's state word (chunk_state) is (run << 3) | one of these, and a word from an earlier run
 * means free: worker 1 takes a free chunk (HELPER) and copies it in (COPYING, then DONE) only if
 * it still holds it; worker 0 takes a free one, or one worker 1 has held too long (MINE). A
 * stripe (exec_stripe.c) is one such chunk, the first of its first node's. */
enum { CHUNK_HELPER = 1, CHUNK_COPYING, CHUNK_DONE, CHUNK_MINE };

static inline uint64_t chunk_word(uint64_t run, int state)
{
    return run << 3 | (uint64_t)state;
}

/* What worker 0 last saw of worker 1's CPU clock while waiting for its chunks ({-1, 0, 0} at
 * first). */
typedef struct hidp__help_watch {
    int64_t cpu_seen, cpu_seen_at, polled_at;
} hidp__help_watch;

/* Worker 0: opens node i to worker 1 (node n_nodes: the run is over). */
void hidp__help_open(hidp__exec *e, int i);
/* Worker 0: takes chunk c if worker 1 has not started it; 1 if taken (worker 0 then runs it). */
int hidp__help_take_free(hidp__exec *e, size_t c);
/* Worker 0: waits for chunk c while worker 1 runs it, gaining CPU time and within its deadline.
 * Returns 0 when worker 1 finished it (or worker 0 had taken it already); else worker 0 took
 * it and runs it: 1 when worker 1 had not started it, 2 when it was late or had stopped. */
int hidp__help_wait(hidp__exec *e, size_t c, hidp__help_watch *w);
/* Worker 1: takes chunk c for run `run` if it is free; 1 if taken (worker 1 then computes it
 * aside, into e->mirror, and calls hidp__help_deliver). */
int hidp__help_claim(hidp__exec *e, size_t c, uint64_t run);
/* Worker 1 in chunk c of run `run` (SIZE_MAX: in a stripe), for tests (hidp__exec_stall):
 * sleeps or spins as a stalled or slow core would. */
void hidp__help_stall(hidp__exec *e, size_t c, uint64_t run);
/* Copies slice s (its channels and rows, every batch item) of a value laid out as y from one
 * buffer of that layout to another. */
void hidp__copy_slice(const hidp__value *y, float *to, const float *from, hidp__slice s);
/* Copies slice s of node n's output from the mirror into the output. */
void hidp__help_copy_in(const hidp__exec *e, const hidp__node *n, hidp__slice s);
/* Worker 1, having computed chunk c aside: copies slice s of node n's output from the mirror in,
 * unless worker 0 has taken the chunk back meanwhile; 1 if it did. When profiling, spans are
 * worker 1's spans of the work, one for each of nodes first .. first + count - 1, the last still
 * open: delivering ends it after the copy and adds them to worker 1's records (NULL: none). */
int hidp__help_deliver(hidp__exec *e, size_t c, uint64_t run, const hidp__node *n, hidp__slice s,
                       hidp__exec_rec *spans, int first, int count);
/* Profiling when helping (e->recs): each worker's spans (hidp__exec_span_begin/end) of its work;
 * worker 0 writes its spans as its records, and worker 1's spans are added to its records only
 * as it delivers (hidp__help_deliver), while it holds the chunk: worker 0 cannot have gone past
 * that node yet, and returns from the run (where the records are read) with no write of worker
 * 1's to come. Adds span r to worker w's record of node i: the record starts where its first span
 * did and ends where its last did, with the spans' counts summed. */
void hidp__help_record(hidp__exec *e, int i, int w, const hidp__exec_rec *r);
/* How long slice s of node i takes on worker 0: its part of the node's time there, as measured
 * by the tuner or else estimated from the node's work at the calibrated speed. */
double hidp__help_part_seconds(const hidp__exec *e, int i, hidp__slice s);
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

/* exec_stripe.c */

/* The stripe in force that begins at node i, or -1. */
static inline int hidp__stripe_at(const hidp__exec *e, int i)
{
    const int s = e->stripe_first ? e->stripe_first[i] : -1;
    return s >= 0 && e->stripe_on[s] ? s : -1;
}

/* Plans every stripe for the plan in force (after every node's own plan). */
void hidp__stripe_plan_all(hidp__exec *e);
/* Worker 0's run of stripe s: its band, then worker 1's unless worker 1 delivered it. */
void hidp__stripe_lead(hidp__exec *e, int s, float *scratch);
/* Worker 1's run of stripe s in run `run`, if worker 0 has not taken it. */
void hidp__stripe_help(hidp__exec *e, int s, uint64_t run, float *scratch);
/* Frees what hidp__exec_stripes allocated. */
void hidp__stripe_free(hidp__exec *e);

#endif
