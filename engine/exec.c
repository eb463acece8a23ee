/*
 * exec.c - the worker pool, the per-node slice plan and the barrier.
 *
 * Slices are planned at create time and again whenever the plan changes (hidp__exec_plan,
 * between runs: the tuner's trials and its verdict). Each node's output channels are cut into
 * one contiguous range per worker (rounded to 16 channels when there are plenty, so a worker's
 * GEMM panel stays whole), or its rows when there are too few channels (or the op prefers rows),
 * or the node runs on worker 0 alone when it is too small to be worth splitting. With a
 * placement (sched/place.h) the ranges follow each worker's share, its core kind's calibrated
 * speed allowing for a slower worker's wake-up, and each worker is bound to its PU (worker 0,
 * the caller's thread, for the length of a run). The run loop is then just "my slice, barrier"
 * per node, the same on every worker (ggml's ith/nth, with the split precomputed); a barrier is
 * left out where no worker can read what another has not finished. When profiling, each slice
 * is timed (and counted by a probe) in a twin of the loop. Backing off (hidp__exec_adapt), the
 * slower workers also time how long each slice kept them off their CPU, and after each run
 * worker 0 scales their shares to match (sched/backoff.h). With two workers, the second slower,
 * worker 1's shares can instead be taken back ("Helping" below): worker 0 then runs every node,
 * meets no barrier, and waits for worker 1 only as long as its share should take.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "exec.h"
#include "../sched/backoff.h"
#include "../sched/place.h"
#include "../sched/split.h"

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
/* How long a worker of the fastest kind spins at a barrier before it sleeps. */
#define BARRIER_SPIN_NS 100000

/* lost_ns entries a cache line apart: each is written by its own worker while the others work */
#define LOST_STRIDE 8

/* After a run, workers watch for the next one this long before sleeping: waking a sleeping
 * thread costs about a millisecond on a VM whose idle vCPU was halted (50 us on bare metal),
 * and back-to-back runs (streams, benchmarks) are the common case. An idle model sleeps. */
#define LINGER_NS 1000000L

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
    int stall_worker;      /* tests (hidp__exec_stall): this worker sleeps stall_ns per slice */
    int64_t stall_ns;

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

    /* profiling (hidp__exec_profile): NULL when off */
    hidp__exec_rec *recs;  /* [node * threads + worker] */
    const hidp__exec_probe *probe;
    int64_t run_start;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits while *word == old, in the kernel (Linux futex; elsewhere a yield). */
static void wait_while(atomic_int *word, int old)
{
#ifdef SYS_futex
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
#else
    (void)word, (void)old;
    sched_yield();
#endif
}

static void wake_all(atomic_int *word)
{
#ifdef SYS_futex
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
#endif
}

/* Every worker arrives at the barrier after node i once it has finished its slices up to
 * there; the last to arrive wakes those asleep. A slower worker waits for the others only if it
 * has a slice before the next barrier (waits[]): one that has none goes on to arrive at that
 * one, so when its next share is several barriers away it sleeps once, not at each barrier
 * between (on a core with a CPU quota each sleep and wake-up costs about 10 us of the quota).
 * Skipping is safe because a worker starts a slice only after a barrier that every worker has
 * reached, and each reaches a barrier only after all its earlier slices, so everything written
 * before any earlier barrier is finished too.
 * Waiters of the fastest kind spin BARRIER_SPIN_NS first: on equal cores most waits are shorter
 * than a futex sleep and wake-up (sleeping after a few microseconds made ResNet-18 on this VM's
 * two cores 8.8 -> 10.1 ms, MobileNet-V2 2.7 -> 4.5 ms). Workers of slower kinds sleep after a
 * few microseconds: the yield loop this replaces kept a finished little core busy, which on a
 * core with a CPU quota (bench/little_core.sh) spent the quota its next layer needed (ResNet-50
 * with calibrated shares: 70 ms yielding, 36 ms sleeping) and on a real little core spends
 * energy. */
static void barrier(hidp__exec *e, int w, int i)
{
    meeting *m = &e->meet[i];
    const int all = e->threads;
    /* read before arriving: past the last barrier worker 0 may re-plan as soon as all arrive */
    const int waits = e->waits[(size_t)i * (size_t)all + (size_t)w];
    if (atomic_fetch_add(&m->arrived, 1) + 1 == all) {
        if (atomic_load(&m->sleepers) > 0)
            wake_all(&m->arrived);
        return;
    }
    if (!waits)
        return;
    const int64_t spin_ns = e->spin_ns ? e->spin_ns[w] : BARRIER_SPIN_NS;
    /* A worker that sleeps at once still pause-spins briefly (a wake-up costs tens of us), but
     * not SPIN_LIMIT times: a thousand pauses are about 50 us on this VM's Cooper Lake, and 80
     * barriers of that burnt a third of a 40% quota core's budget per ResNet-50 inference. */
    const unsigned spins = spin_ns > 0 ? SPIN_LIMIT : SPIN_LIMIT / 16;
    int64_t deadline = -1;
    int seen;
    for (unsigned k = 0; (seen = atomic_load_explicit(&m->arrived, memory_order_acquire)) != all;
         k++) {
        if (k < spins || k % 64) {
            CPU_RELAX();
            continue;
        }
        const int64_t t = now_ns();
        if (deadline < 0)
            deadline = t + spin_ns;
        if (t < deadline) {
            CPU_RELAX();
            continue;
        }
        atomic_fetch_add(&m->sleepers, 1);
        if (atomic_load(&m->arrived) == seen)
            wait_while(&m->arrived, seen);
        atomic_fetch_sub(&m->sleepers, 1);
    }
}

static int slice_empty(hidp__slice s)
{
    return s.c0 >= s.c1 || s.h0 >= s.h1;
}

static void run_slice(const hidp__exec *e, const hidp__node *n, hidp__slice s, float *scratch)
{
    (e->reference ? n->op->run_ref : n->op->run)(e->g, n, s, scratch);
    if (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT))
        hidp__act_apply_slice(e->g, n, s);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whether worker w measures its time off the CPU within slices (a slower worker, backing off). */
static int measures_loss(const hidp__exec *e, int w)
{
    return e->adapt && !e->help && hidp__exec_slower(e, w);
}

/* run_slice, adding to *lost the wall time it spent off its CPU (a spent quota, a preemption):
 * two clock reads and a system call more per slice, on slower workers only. */
static void run_slice_lossy(const hidp__exec *e, const hidp__node *n, hidp__slice s,
                            float *scratch, int w, int64_t *lost)
{
    const int64_t t0 = now_ns(), c0 = thread_cpu_ns();
    run_slice(e, n, s, scratch);
    if (e->stall_ns > 0 && w == e->stall_worker) {
        const struct timespec nap = {0, (long)e->stall_ns};
        nanosleep(&nap, NULL);
    }
    const int64_t off = (now_ns() - t0) - (thread_cpu_ns() - c0);
    *lost += off > 0 ? off : 0;
}

/* ---- Helping: the slower worker's share in chunks that worker 0 can take back ----
 * A core under a CPU quota runs at full speed until the quota is spent, then not at all for the
 * rest of the period (6 ms of every 10 on bench/little_core.sh's core); a preempted core stops
 * the same way. With fixed shares every layer then waits at its barrier for the stopped core.
 * Helping turns that around for two workers, worker 1 the slower: worker 0 runs every node and
 * its own share of it, and worker 1's share is one chunk, or several when it is long.
 * Worker 1 takes chunks from the front while it runs; worker 0, done with its share, takes from
 * the back those worker 1 has not started, and then waits for the ones it is running, but only
 * about as long as they should take: then it takes them back too and runs them itself. That is
 * safe because worker 1 computes each chunk aside, into a mirror of the output, and copies it
 * in only if it still owns the chunk (a compare-and-swap each side decides). Worker 0 never
 * waits for worker 1 to arrive anywhere: a stopped core costs it one late chunk per node, not
 * the rest of the period. Only ops that can write aside (HIDP__OP_REDIRECTS: the convolutions)
 * are chunked; worker 0 runs worker 1's share of the others itself.
 * A chunk taken back may still be running on worker 1 while worker 0 goes on and overwrites that
 * node's inputs (memory is reused): the reads race with the writes, as ThreadSanitizer reports,
 * by design. What worker 1 computes from them goes to the mirror and is dropped; it writes
 * nothing else, and the memory it reads is freed only after the workers are joined. Changing the
 * plan waits for worker 1 to be done with the last run (quiesce). */

/* A chunk is at most about this long on worker 0, so that running one again costs it at most
 * that; shorter shares stay whole. Each chunk is a call of its own, and a channel range of a
 * GEMM conv packs its input again per call: on bench/little_core.sh's quota core, chunks of 60
 * us made ResNet-50 slower than fixed shares (0.92x, 0.97x paired), whole shares were level
 * with them or ahead (1.00x on ResNet-50, 1.04x twice on MobileNet-V2). */
#define HELP_CHUNK_S 1e-3
#define HELP_MAX_CHUNKS 16
/* Worker 0 takes back a chunk worker 1 is running when it has run this many times as long as
 * its share's planned speed says, plus the grace. */
#define HELP_LATE_FACTOR 1.5
#define HELP_GRACE_NS 20000

/* A chunk's state word is (run << 3) | one of these, and a word from an earlier run means free:
 * worker 1 takes a free chunk (HELPER) and copies it in (COPYING, then DONE) only if it still
 * holds it; worker 0 takes a free one, or one worker 1 has held too long (MINE). */
enum { CHUNK_HELPER = 1, CHUNK_COPYING, CHUNK_DONE, CHUNK_MINE };

static double node_work(const hidp__graph *g, const hidp__node *n);

static uint64_t chunk_word(uint64_t run, int state)
{
    return run << 3 | (uint64_t)state;
}

/* Copies slice s of node n's output from the mirror into the output. */
static void copy_from_mirror(const hidp__exec *e, const hidp__node *n, hidp__slice s)
{
    hidp__value *y = hidp__out(e->g, n, 0);
    const hidp__view4 v = hidp__shape_view4(&y->shape);
    float *to = y->data;
    const size_t len = (size_t)((s.h1 - s.h0) * v.w) * sizeof(float);
    for (int64_t b = 0; b < v.n; b++)
        for (int64_t c = s.c0; c < s.c1; c++) {
            const size_t at = (size_t)(((b * v.c + c) * v.h + s.h0) * v.w);
            memcpy(to + at, e->mirror + at, len);
        }
}

/* s with only its rows (by_rows) or channels [lo, hi), counted from its first. */
static hidp__slice narrowed(hidp__slice s, int by_rows, int64_t lo, int64_t hi)
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

/* Slice s of node i in units of node_work. */
static double part_work(const hidp__exec *e, int i, hidp__slice s)
{
    const hidp__node *n = &e->g->nodes[i];
    const hidp__slice all = hidp__slice_all(e->g, n);
    const double whole = (double)(all.c1 - all.c0) * (double)(all.h1 - all.h0);
    return node_work(e->g, n) * (double)(s.c1 - s.c0) * (double)(s.h1 - s.h0) / whole;
}

/* The chunks of worker 1's share of node i (plan_node's row[1]): cut along the share's own
 * dimension, in whole blocks of the alignment plan_node used. Each may be held for
 * HELP_LATE_FACTOR times its work at the speed the share was planned at (worker 1's weight,
 * trimmed), plus the grace. */
static void plan_chunks(hidp__exec *e, int i, int64_t align)
{
    const hidp__node *n = &e->g->nodes[i];
    const hidp__slice s = e->slices[(size_t)i * 2 + 1];
    const hidp__value *y = hidp__out(e->g, n, 0);
    e->help_k[i] = 0;
    if (slice_empty(s) || !(n->op->flags & HIDP__OP_REDIRECTS) || !y || !y->data ||
        (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT)))
        return;
    const hidp__slice all = hidp__slice_all(e->g, n);
    const int by_rows = s.c0 == all.c0 && s.c1 == all.c1;
    const int64_t range = by_rows ? s.h1 - s.h0 : s.c1 - s.c0;
    int k = (int)ceil(part_work(e, i, s) / (e->weight[0] * 1e9 * HELP_CHUNK_S));
    const int64_t blocks = (range + align - 1) / align;
    k = k < 1 ? 1 : k > HELP_MAX_CHUNKS ? HELP_MAX_CHUNKS : k;
    k = k > blocks ? (int)blocks : k;
    const double speed = fmin(e->weight[1] * e->trim, e->weight[0]) * 1e9;
    const size_t base = (size_t)i * HELP_MAX_CHUNKS;
    for (int j = 0; j < k; j++) {
        int64_t lo, hi;
        hidp__split_even(range, k, align, j, &lo, &hi);
        e->chunks[base + j] = narrowed(s, by_rows, lo, hi);
        const double expected_s = part_work(e, i, e->chunks[base + j]) / speed;
        e->chunk_late_ns[base + j] = HELP_GRACE_NS + (int64_t)(HELP_LATE_FACTOR * expected_s * 1e9);
    }
    e->help_k[i] = k;
}

/* Worker 0, done with its own share of node i: the chunks worker 1 has not started, from the
 * back, then each one it is running once it is done, or once it is late. */
static void finish_chunks(hidp__exec *e, int i, float *scratch)
{
    const hidp__node *n = &e->g->nodes[i];
    const int k = e->help_k[i];
    const size_t base = (size_t)i * HELP_MAX_CHUNKS;
    const uint64_t run = e->run, mine = chunk_word(run, CHUNK_MINE);
    long long taken = 0;
    for (int j = k - 1; j >= 0; j--) {
        uint64_t st = atomic_load_explicit(&e->chunk_state[base + j], memory_order_acquire);
        if (st >> 3 < run && atomic_compare_exchange_strong(&e->chunk_state[base + j], &st, mine)) {
            run_slice(e, n, e->chunks[base + j], scratch);
            taken++;
        }
    }
    for (int j = 0; j < k; j++) {
        const int64_t late = e->chunk_late_ns[base + j];
        for (;;) {
            uint64_t st = atomic_load_explicit(&e->chunk_state[base + j], memory_order_acquire);
            const int state = (int)(st & 7);
            if (state == CHUNK_DONE || state == CHUNK_MINE)
                break;
            if (state == CHUNK_HELPER &&
                now_ns() - atomic_load_explicit(&e->chunk_start[base + j], memory_order_relaxed) >
                    late &&
                atomic_compare_exchange_strong(&e->chunk_state[base + j], &st, mine)) {
                run_slice(e, n, e->chunks[base + j], scratch);
                taken++;
                break;
            }
            CPU_RELAX();
        }
    }
    if (taken)
        atomic_fetch_add_explicit(&e->taken_back, taken, memory_order_relaxed);
}

/* Worker 0: node i is open to worker 1 (node n_nodes: the run is over). */
static void open_node(hidp__exec *e, int i)
{
    atomic_store_explicit(&e->opened, e->run << 32 | (uint64_t)(i + 1), memory_order_release);
    atomic_fetch_add(&e->open_seq, 1);
    if (atomic_load(&e->open_sleepers) > 0)
        wake_all(&e->open_seq);
}

/* Worker 1's chunks of node i in this run, from the front, while worker 0 has not taken them. */
static void help_node(hidp__exec *e, int i, uint64_t run, float *scratch)
{
    const hidp__node *n = &e->g->nodes[i];
    const size_t base = (size_t)i * HELP_MAX_CHUNKS;
    const uint64_t helper = chunk_word(run, CHUNK_HELPER);
    for (int j = 0; j < e->help_k[i]; j++) {
        _Atomic uint64_t *state = &e->chunk_state[base + j];
        uint64_t st = atomic_load_explicit(state, memory_order_relaxed);
        if (st >> 3 >= run)
            continue;
        /* the start first: worker 0 reads it once it sees the chunk taken */
        atomic_store_explicit(&e->chunk_start[base + j], now_ns(), memory_order_relaxed);
        if (!atomic_compare_exchange_strong(state, &st, helper))
            continue;
        hidp__slice c = e->chunks[base + j];
        c.out = e->mirror;
        run_slice(e, n, c, scratch);
        if (e->stall_ns > 0 && e->stall_worker == 1) {
            const struct timespec nap = {0, (long)e->stall_ns};
            nanosleep(&nap, NULL);
        }
        uint64_t expect = helper;
        if (atomic_compare_exchange_strong(state, &expect, chunk_word(run, CHUNK_COPYING))) {
            copy_from_mirror(e, n, c);
            atomic_store_explicit(state, chunk_word(run, CHUNK_DONE), memory_order_release);
            atomic_fetch_add_explicit(&e->helped, 1, memory_order_relaxed);
        }
    }
}

/* Worker 1's run: it helps with each node worker 0 opens, jumping to the latest, and sleeps
 * in between; the run is over for it when worker 0 says so or a newer run has begun. */
static void run_helper(hidp__exec *e, uint64_t run)
{
    float *scratch = e->scratch[1];
    int next = 0;
    for (;;) {
        const int seen = atomic_load(&e->open_seq);
        const uint64_t o = atomic_load_explicit(&e->opened, memory_order_acquire);
        const int i = (int)(o & 0xffffffffu) - 1;
        if ((o >> 32) == (run & 0xffffffffu) && i >= next) {
            if (i >= e->g->n_nodes)
                break;
            help_node(e, i, run, scratch);
            next = i + 1;
            continue;
        }
        if (atomic_load_explicit(&e->gen, memory_order_acquire) != run)
            break;
        /* nothing new: a few pauses, then sleep until worker 0 opens another node */
        for (int k = 0; k < SPIN_LIMIT / 16 && atomic_load(&e->open_seq) == seen; k++)
            CPU_RELAX();
        atomic_fetch_add(&e->open_sleepers, 1);
        if (atomic_load(&e->open_seq) == seen)
            wait_while(&e->open_seq, seen);
        atomic_fetch_sub(&e->open_sleepers, 1);
    }
}

/* Worker 0's run when helping: every node, its own share, worker 1's share of the nodes that
 * are not chunked, and what is left of the chunks. */
static void run_master(hidp__exec *e)
{
    const hidp__graph *g = e->g;
    float *scratch = e->scratch[0];
    for (int i = 0; i < g->n_nodes; i++) {
        if (e->help_k[i])
            open_node(e, i);
        const hidp__slice s = e->slices[(size_t)i * 2];
        if (!slice_empty(s))
            run_slice(e, &g->nodes[i], s, scratch);
        if (e->help_k[i])
            finish_chunks(e, i, scratch);
        else if (!slice_empty(e->slices[(size_t)i * 2 + 1]))
            run_slice(e, &g->nodes[i], e->slices[(size_t)i * 2 + 1], scratch);
    }
    open_node(e, g->n_nodes);
}

/* The run loop when profiling: the same, with a timestamp (and the probe's counters) around
 * every slice and after every barrier. Kept apart so the plain loop stays as lean as it is. */
static void run_nodes_profiled(hidp__exec *e, int w)
{
    const hidp__graph *g = e->g;
    const hidp__exec_probe *pr = e->probe;
    long long before[HIDP__EXEC_MAX_COUNTERS], after[HIDP__EXEC_MAX_COUNTERS];
    const int lossy = measures_loss(e, w);
    int64_t *lost = &e->lost_ns[(size_t)w * LOST_STRIDE];
    *lost = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const size_t at = (size_t)i * (size_t)e->threads + (size_t)w;
        hidp__exec_rec *r = &e->recs[at];
        const hidp__slice s = e->slices[at];
        memset(r->counts, 0, sizeof r->counts);
        if (pr && !slice_empty(s))
            pr->read(pr->user, w, before);
        r->start = now_ns();
        if (!slice_empty(s) && lossy)
            run_slice_lossy(e, &g->nodes[i], s, e->scratch[w], w, lost);
        else if (!slice_empty(s))
            run_slice(e, &g->nodes[i], s, e->scratch[w]);
        r->end = now_ns();
        if (pr && !slice_empty(s)) {
            pr->read(pr->user, w, after);
            for (int k = 0; k < pr->n && k < HIDP__EXEC_MAX_COUNTERS; k++)
                r->counts[k] = after[k] - before[k];
        }
        /* Past the run's last barrier worker 0 returns to the caller, who may free the
         * records or re-plan at once: the others must not touch them after it. Their leave
         * there is their arrival; worker 0's, the one read, is the barrier's exit. */
        const int wait = e->barrier_after[i], after_run = i == g->n_nodes - 1 && w > 0;
        r->leave = r->end;
        if (wait)
            barrier(e, w, i);
        if (wait && !after_run)
            r->leave = now_ns();
    }
}

static void run_nodes(hidp__exec *e, int w, uint64_t run)
{
    if (e->recs) {
        run_nodes_profiled(e, w);
        return;
    }
    if (e->help) {
        if (w == 0)
            run_master(e);
        else
            run_helper(e, run);
        return;
    }
    const hidp__graph *g = e->g;
    float *scratch = e->scratch[w];
    const int lossy = measures_loss(e, w);
    int64_t *lost = &e->lost_ns[(size_t)w * LOST_STRIDE];
    *lost = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__slice s = e->slices[(size_t)i * (size_t)e->threads + (size_t)w];
        if (!slice_empty(s) && lossy)
            run_slice_lossy(e, &g->nodes[i], s, scratch, w, lost);
        else if (!slice_empty(s))
            run_slice(e, &g->nodes[i], s, scratch);
        if (e->barrier_after[i])
            barrier(e, w, i);
    }
}


/* Whether a new run (or quit) shows up within LINGER_NS. */
static int linger(hidp__exec *e, unsigned long long seen)
{
    int64_t until = now_ns() + LINGER_NS;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&e->gen, memory_order_acquire) != seen ||
            atomic_load_explicit(&e->quit, memory_order_acquire))
            return 1;
        if (i < SPIN_LIMIT)
            CPU_RELAX();
        else
            sched_yield();
        if (i % 64 == 0 && now_ns() > until)
            return 0;
    }
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    hidp__exec *e = wk->e;
    unsigned long long seen = 0;
    if (e->pus && e->pus[wk->index] >= 0) {
        hidp__err err = {0, ""};
        hidp__topo_bind_thread(e->topo, &e->pus[wk->index], 1, &err); /* best effort */
    }
    /* A worker of a slower kind sleeps as soon as its part of a run is done: watching for the
     * next run would spend a quota core's budget (and a little core's energy) on the fast
     * worker's remaining layers. */
    const int slower = hidp__exec_slower(e, wk->index);
    for (;;) {
        if (slower || !linger(e, seen)) {
            pthread_mutex_lock(&e->mu);
            while (atomic_load(&e->gen) == seen && !atomic_load(&e->quit))
                pthread_cond_wait(&e->cv, &e->mu);
            pthread_mutex_unlock(&e->mu);
        }
        if (atomic_load(&e->quit))
            break;
        seen = atomic_load(&e->gen);
        run_nodes(e, wk->index, seen);
        atomic_store(&e->done_gen, seen);
    }
    return NULL;
}

/* Pins each worker w >= 1 to its own CPU among those the process may run on, the caller's
 * current CPU last, when there are enough of them.
 * Linux starts a new thread on its creator's CPU and moves it only at its next load balance: on
 * the 2-core VM the first ~11 runs of MobileNet-V2 on 2 threads took 7 ms instead of 2.9, both
 * threads sharing one core. The calling thread (worker 0) is left alone: it is the
 * application's. (The local level's hwloc binding, by core kind, will replace this.) */
static void spread_workers(hidp__exec *e)
{
#ifdef CPU_SETSIZE
    cpu_set_t allowed;
    if (e->threads < 2 || sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
        CPU_COUNT(&allowed) < e->threads)
        return;
    /* the caller's CPU last, so the workers start on the others */
    const int here = sched_getcpu();
    int cpus[CPU_SETSIZE], n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed) && c != here)
            cpus[n++] = c;
    if (here >= 0 && here < CPU_SETSIZE && CPU_ISSET(here, &allowed))
        cpus[n++] = here;
    for (int w = 1; w < e->threads; w++) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpus[w - 1], &one);
        pthread_setaffinity_np(e->workers[w].tid, sizeof one, &one); /* best effort */
    }
#else
    (void)e;
#endif
}

/* With cores of unequal calibrated speed (weights in GFLOP/s, worker 0 the fastest): whether
 * worker 0 alone finishes `work` sooner than all of them plus the wake-up of a worker that slept
 * at the barrier before (measured at calibration). Short layers then stay on the fast core
 * instead of waiting for a slow one to wake. */
static int solo_is_faster(const hidp__exec *e, double work)
{
    if (!e->weight || e->wake_s <= 0)
        return 0;
    double sum = 0, lo = e->weight[0], hi = e->weight[0];
    for (int w = 0; w < e->threads; w++) {
        sum += e->weight[w];
        lo = e->weight[w] < lo ? e->weight[w] : lo;
        hi = e->weight[w] > hi ? e->weight[w] : hi;
    }
    if (lo == hi || e->weight[0] < hi)
        return 0;
    return work / (sum * 1e9) + e->wake_s >= work / (e->weight[0] * 1e9);
}

/* Whether node i's output can be cut among the workers at all. */
static int splittable(const hidp__exec *e, int i)
{
    const hidp__slice all = hidp__slice_all(e->g, &e->g->nodes[i]);
    return e->threads > 1 && (all.c1 - all.c0 >= e->threads || all.h1 - all.h0 >= e->threads);
}

/* A node's estimated work: its flops, or its output elements when those are more (a copy or
 * an elementwise op costs per element). */
static double node_work(const hidp__graph *g, const hidp__node *n)
{
    const hidp__value *y = hidp__out(g, n, 0);
    const double elements = y ? (double)hidp__shape_count(&y->shape) : 0;
    return elements > n->flops ? elements : n->flops;
}

/* Before measurement says otherwise (hidp__exec_plan), whether node i is too small to split:
 * its work under HIDP__EXEC_MIN_SPLIT, or the fast core alone beats waking a slow one. */
static int small_by_estimate(const hidp__exec *e, int i)
{
    const double work = node_work(e->g, &e->g->nodes[i]);
    return work < HIDP__EXEC_MIN_SPLIT || solo_is_faster(e, work);
}

/* Decides how node i is shared among the workers. */
static void plan_node(hidp__exec *e, int i)
{
    const hidp__node *n = &e->g->nodes[i];
    int t = e->threads;
    hidp__slice all = hidp__slice_all(e->g, n), *row = &e->slices[(size_t)i * (size_t)t];
    for (int w = 0; w < t; w++)
        row[w] = (hidp__slice){0, 0, 0, 0, NULL};
    if (e->help_k)
        e->help_k[i] = 0;
    const int mode = e->mode ? e->mode[i] : HIDP__PLAN_AUTO;
    if (!splittable(e, i) || mode == HIDP__PLAN_SOLO ||
        (mode == HIDP__PLAN_AUTO && small_by_estimate(e, i))) {
        row[0] = all;
        return;
    }
    int64_t c = all.c1 - all.c0, h = all.h1 - all.h0;
    int by_rows = h >= t && (c < 2 * t || n->split_rows);
    /* Channel pieces in whole blocks of 16 when there are plenty: a multiple of every GEMM
     * micro-tile's rows (8 on AVX-512, 4 on NEON, 16 = 2x8), so no worker gets a ragged tile. */
    int64_t align = !by_rows && c >= 32 * (int64_t)t ? 16 : 1;
    if (by_rows && n->row_align > 1 && h >= n->row_align * (int64_t)t)
        align = n->row_align;
    double weight[HIDP__EXEC_MAX_WORKERS];
    if (e->weight) { /* each worker's share in proportion to its core's speed, trimmed */
        double fastest = 0;
        for (int w = 0; w < t; w++)
            fastest = e->weight[w] > fastest ? e->weight[w] : fastest;
        const double factor = e->trim * e->backoff.factor;
        for (int w = 0; w < t; w++)
            weight[w] = e->weight[w] < fastest ? fmin(e->weight[w] * factor, fastest)
                                               : e->weight[w];
        if (e->wake_s > 0 && hidp__exec_unequal(e)) {
            /* the layer alone on the fastest worker: measured, or its work at calibrated speed */
            const double t0 = e->solo_s && e->solo_s[i] > 0 ? e->solo_s[i]
                                                             : node_work(e->g, n) / (fastest * 1e9);
            hidp__split_allow_wake(t, weight, t0, e->wake_s);
        }
    }
    for (int w = 0; w < t; w++) {
        int64_t lo, hi;
        if (e->weight)
            hidp__split_weighted(by_rows ? h : c, t, weight, align, w, &lo, &hi);
        else
            hidp__split_even(by_rows ? h : c, t, align, w, &lo, &hi);
        row[w] = narrowed(all, by_rows, lo, hi);
    }
    if (e->help)
        plan_chunks(e, i, align);
}

/* Only worker 0 works on node i. */
static int solo(const hidp__exec *e, int i)
{
    for (int w = 1; w < e->threads; w++)
        if (!slice_empty(e->slices[(size_t)i * (size_t)e->threads + (size_t)w]))
            return 0;
    return 1;
}

/* Whether the bytes of values a and b overlap (the memory plan reuses dead values' bytes). */
static int overlap(const hidp__graph *g, int a, int b)
{
    const hidp__value *x = &g->vals[a], *y = &g->vals[b];
    if (!x->data || !y->data)
        return 0;
    const char *x0 = x->data, *y0 = y->data;
    const char *x1 = x0 + (size_t)hidp__shape_count(&x->shape) * sizeof(float);
    const char *y1 = y0 + (size_t)hidp__shape_count(&y->shape) * sizeof(float);
    return x0 < y1 && y0 < x1;
}

/* Sets *r to the part of input k of node n that slice s reads (channels and rows of its 4-D
 * view). Returns 0 when that is not known: then it may read all of it. */
static int read_region(const hidp__graph *g, const hidp__node *n, int k, hidp__slice s,
                       hidp__slice *r)
{
    if (slice_empty(s)) {
        *r = (hidp__slice){0, 0, 0, 0, NULL};
        return 1;
    }
    if (k == 3 && n->takes_residual) { /* laid out like the output (engine/residual.c) */
        *r = s;
        return 1;
    }
    if (k != 0 || n->rows_in_span <= 0)
        return 0;
    const hidp__view4 v = hidp__shape_view4(&g->vals[n->in[0]].shape);
    int64_t h0 = s.h0 * n->rows_in_stride - n->rows_in_pad;
    int64_t h1 = (s.h1 - 1) * n->rows_in_stride - n->rows_in_pad + n->rows_in_span;
    *r = (hidp__slice){n->channel_local ? s.c0 : 0, n->channel_local ? s.c1 : v.c, h0 > 0 ? h0 : 0,
                       h1 < v.h ? h1 : v.h, NULL};
    return 1;
}

static int contains(hidp__slice outer, hidp__slice inner)
{
    return slice_empty(inner) || (inner.c0 >= outer.c0 && inner.c1 <= outer.c1 &&
                                  inner.h0 >= outer.h0 && inner.h1 <= outer.h1);
}

/* Whether node j can follow the nodes [seg, j) with no barrier between: the nodes after the last
 * barrier, which a worker may still be running when another starts j.
 *  - Every value j reads that one of them wrote, each worker reads only where it wrote it
 *    itself: a depthwise conv after the 1x1 that expands its channels, both cut by channels (as
 *    in MobileNet's blocks); a 1x1 conv after a node cut into the same rows; anything after
 *    nodes that worker 0 ran alone, on worker 0 alone.
 *  - j writes no byte they read or write (the memory plan reuses dead values' bytes), unless
 *    worker 0 alone runs both. */
static int joins_segment(const hidp__exec *e, int seg, int j)
{
    const hidp__graph *g = e->g;
    const hidp__node *n = &g->nodes[j];
    const int t = e->threads;
    for (int k = 0; k < n->n_in; k++) {
        const int v = n->in[k];
        if (v < 0 || (g->vals[v].flags & HIDP__VAL_CONST))
            continue;
        const int p = e->producer[v];
        if (p < seg)
            continue; /* written before the barrier, or not by a node */
        if (g->nodes[p].n_out != 1) /* a slice covers output 0 only */
            return 0;
        const hidp__slice all = hidp__slice_all(g, &g->nodes[p]);
        for (int w = 0; w < t; w++) {
            hidp__slice r;
            if (!read_region(g, n, k, e->slices[(size_t)j * (size_t)t + (size_t)w], &r))
                r = all;
            if (!contains(e->slices[(size_t)p * (size_t)t + (size_t)w], r))
                return 0;
        }
    }
    const int alone = solo(e, j);
    for (int i = seg; i < j; i++) {
        const hidp__node *m = &g->nodes[i];
        if (alone && solo(e, i))
            continue;
        for (int o = 0; o < n->n_out; o++) {
            if (n->out[o] < 0)
                continue;
            for (int k = 0; k < m->n_in; k++)
                if (m->in[k] >= 0 && overlap(g, m->in[k], n->out[o]))
                    return 0;
            for (int k = 0; k < m->n_out; k++)
                if (m->out[k] >= 0 && overlap(g, m->out[k], n->out[o]))
                    return 0;
        }
    }
    return 1;
}

/* Before the plan or the way of running changes: worker 1 may still be in the last run when
 * helping (worker 0 does not wait for it), finishing a chunk worker 0 took back, or not even
 * have woken up for it; wait until it is done with it. (Without helping, the last barrier
 * already waited, unless worker 1 is helping in a run it has yet to see.) */
static void quiesce(hidp__exec *e)
{
    while (e->help_k && e->started >= 1 && atomic_load(&e->done_gen) != atomic_load(&e->gen))
        sched_yield();
}

/* Plans every node and where the workers meet. */
static void plan_all(hidp__exec *e)
{
    const hidp__graph *g = e->g;
    quiesce(e);
    for (int i = 0; i < g->n_nodes; i++)
        plan_node(e, i);
    /* Workers meet after a node unless the next can follow without (joins_segment). The last
     * node always ends with a meeting, so a run returns only when every worker is done. */
    e->any_split = 0;
    for (int i = 0; i < g->n_nodes; i++)
        e->any_split |= !solo(e, i);
    for (int i = 0, seg = 0; i < g->n_nodes; i++) {
        e->barrier_after[i] =
            e->any_split && (i == g->n_nodes - 1 || !joins_segment(e, seg, i + 1));
        if (e->barrier_after[i])
            seg = i + 1;
    }
    /* Who waits at each barrier. At the last, worker 0 alone: a run returns when every worker
     * is done, and the others have nothing after it. Elsewhere a slower worker waits only if it
     * has a slice before the next barrier; a worker of the fastest kind waits at every one, so
     * its waits stay as short as the layers between and it keeps spinning instead of sleeping
     * through a run of layers it has no part in (on this VM MobileNet-V2 on two equal cores
     * took 3.0 ms that way instead of 2.6-2.8). Walking back, busy[w] says whether worker w has
     * a slice between node i and the next barrier. */
    const int t = e->threads;
    char busy[HIDP__EXEC_MAX_WORKERS] = {0};
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        for (int w = 0; w < t; w++) {
            char *waits = &e->waits[(size_t)i * (size_t)t + (size_t)w];
            *waits = e->barrier_after[i] &&
                     (i == g->n_nodes - 1 ? w == 0 : busy[w] || !hidp__exec_slower(e, w));
            if (e->barrier_after[i])
                busy[w] = 0;
            busy[w] |= !slice_empty(e->slices[(size_t)i * (size_t)t + (size_t)w]);
        }
    }
}

/* What helping needs (two workers, the second slower): chunk tables and the mirror, as large
 * as the largest output of an op that can write aside. */
static int help_alloc(hidp__exec *e, size_t nn)
{
    const hidp__graph *g = e->g;
    size_t floats = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        const hidp__value *y = hidp__out(g, n, 0);
        if ((n->op->flags & HIDP__OP_REDIRECTS) && y) {
            const int64_t count = hidp__shape_count(&y->shape);
            floats = count > 0 && (size_t)count > floats ? (size_t)count : floats;
        }
    }
    if (!floats)
        return 0;
    const size_t chunks = nn * HELP_MAX_CHUNKS;
    e->help_k = calloc(nn, sizeof *e->help_k);
    e->chunks = calloc(chunks, sizeof *e->chunks);
    e->chunk_late_ns = calloc(chunks, sizeof *e->chunk_late_ns);
    e->chunk_state = calloc(chunks, sizeof *e->chunk_state);
    e->chunk_start = calloc(chunks, sizeof *e->chunk_start);
    e->mirror = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    if (!e->help_k || !e->chunks || !e->chunk_late_ns || !e->chunk_state || !e->chunk_start ||
        !e->mirror)
        return -1;
    for (size_t c = 0; c < chunks; c++) {
        atomic_init(&e->chunk_state[c], 0);
        atomic_init(&e->chunk_start[c], 0);
    }
    atomic_init(&e->open_seq, 0);
    atomic_init(&e->open_sleepers, 0);
    atomic_init(&e->opened, 0);
    atomic_init(&e->done_gen, 0);
    atomic_init(&e->helped, 0);
    atomic_init(&e->taken_back, 0);
    return 0;
}

int hidp__exec_create(hidp__exec **out, const hidp__graph *g, int threads,
                      size_t scratch_floats, int reference, const hidp__placement *pl,
                      const hidp__topo *topo, hidp__err *err)
{
    *out = NULL;
    if (reference || threads < 1)
        threads = 1;
    if (threads > HIDP__EXEC_MAX_WORKERS)
        return hidp__fail(err, HIDP_EINVAL, "%d threads: hidp runs at most %d workers per model",
                          threads, HIDP__EXEC_MAX_WORKERS);
    hidp__exec *e = calloc(1, sizeof *e);
    if (!e)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory creating the executor");
    e->g = g;
    e->threads = threads;
    e->reference = reference;
    e->trim = 1.0;
    hidp__backoff_init(&e->backoff);
    atomic_init(&e->gen, 0);
    atomic_init(&e->quit, 0);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    size_t nn = (size_t)(g->n_nodes > 0 ? g->n_nodes : 1);
    e->slices = calloc(nn * (size_t)threads, sizeof *e->slices);
    e->barrier_after = calloc(nn, 1);
    e->meet = aligned_alloc(64, nn * sizeof *e->meet);
    e->waits = calloc(nn * (size_t)threads, 1);
    e->scratch = calloc((size_t)threads, sizeof *e->scratch);
    e->workers = calloc((size_t)threads, sizeof *e->workers);
    e->lost_ns = aligned_alloc(64, (size_t)threads * LOST_STRIDE * sizeof *e->lost_ns);
    e->producer = malloc((size_t)(g->n_vals > 0 ? g->n_vals : 1) * sizeof *e->producer);
    if (!e->slices || !e->barrier_after || !e->meet || !e->waits || !e->scratch || !e->workers ||
        !e->lost_ns || !e->producer)
        goto nomem;
    for (int v = 0; v < g->n_vals; v++)
        e->producer[v] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0)
                e->producer[g->nodes[i].out[k]] = i;
    memset(e->lost_ns, 0, (size_t)threads * LOST_STRIDE * sizeof *e->lost_ns);
    for (size_t i = 0; i < nn; i++) {
        atomic_init(&e->meet[i].arrived, 0);
        atomic_init(&e->meet[i].sleepers, 0);
    }
    if (pl && pl->workers == threads && !reference) {
        e->pus = malloc((size_t)threads * sizeof *e->pus);
        e->weight = malloc((size_t)threads * sizeof *e->weight);
        if (!e->pus || !e->weight)
            goto nomem;
        for (int w = 0; w < threads; w++)
            e->pus[w] = pl->bind ? pl->pus[w] : -1;
        e->spin_ns = malloc((size_t)threads * sizeof *e->spin_ns);
        if (!e->spin_ns)
            goto nomem;
        double fastest = 0;
        for (int w = 0; w < threads; w++)
            fastest = pl->weight[w] > fastest ? pl->weight[w] : fastest;
        for (int w = 0; w < threads; w++)
            e->spin_ns[w] = pl->weight[w] < fastest ? 0 : BARRIER_SPIN_NS;
        e->wake_s = pl->wake_s;
        memcpy(e->weight, pl->weight, (size_t)threads * sizeof *e->weight);
        e->topo = topo;
    }
    size_t bytes = ((scratch_floats ? scratch_floats : 1) * sizeof(float) + 63) / 64 * 64;
    for (int w = 0; w < threads; w++)
        if (!(e->scratch[w] = aligned_alloc(64, bytes)))
            goto nomem;
    if (e->weight && threads == 2 && e->weight[1] < e->weight[0] && help_alloc(e, nn) != 0)
        goto nomem;
    plan_all(e);
    for (int w = 0; w < threads; w++) {
        e->workers[w].e = e;
        e->workers[w].index = w;
    }
    for (int w = 1; w < threads; w++) {
        if (pthread_create(&e->workers[w].tid, NULL, worker_main, &e->workers[w]) != 0) {
            hidp__exec_destroy(e);
            return hidp__fail(err, HIDP_ESYSTEM, "cannot start worker thread %d of %d", w,
                              threads);
        }
        e->started = w;
    }
    if (!e->pus)
        spread_workers(e);
    *out = e;
    return 0;
nomem:
    hidp__exec_destroy(e);
    return hidp__fail(err, HIDP_ENOMEM, "out of memory creating the executor");
}

/* After a run (worker 0, every worker past the last barrier, so their lost_ns are written):
 * feeds the slower workers' time off the CPU to the backoff, and re-plans when the factor on
 * their shares moves. */
static void back_off(hidp__exec *e, int64_t run_ns)
{
    int64_t lost = 0;
    for (int w = 1; w < e->threads; w++)
        lost += hidp__exec_slower(e, w) ? e->lost_ns[(size_t)w * LOST_STRIDE] : 0;
    e->last_lost = run_ns > 0 ? (double)lost / (double)run_ns : 0;
    if (hidp__backoff_feed(&e->backoff, (double)lost * 1e-9, (double)run_ns * 1e-9))
        plan_all(e);
}

void hidp__exec_run(hidp__exec *e)
{
    /* Worker 0 is the caller's thread: it runs on its own PU for the run and gets the caller's
     * CPU set back after (two system calls per run). */
    if (e->recs) /* the run's start includes binding the caller's thread */
        e->run_start = now_ns();
    cpu_set_t before, one;
    int rebound = 0;
    if (e->pus && e->pus[0] >= 0 && e->pus[0] < CPU_SETSIZE &&
        sched_getaffinity(0, sizeof before, &before) == 0) {
        CPU_ZERO(&one);
        CPU_SET(e->pus[0], &one);
        rebound = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    /* When no node is split (a tiny model), the other workers are not even woken. Every worker
     * has arrived at every barrier of the last run (worker 0 waited for them at its end), so
     * the counts start again from nought; gen's increment publishes that. */
    if (e->any_split) {
        for (int i = 0; i < e->g->n_nodes; i++)
            atomic_store_explicit(&e->meet[i].arrived, 0, memory_order_relaxed);
        pthread_mutex_lock(&e->mu);
        e->run = atomic_load(&e->gen) + 1;
        atomic_fetch_add(&e->gen, 1);
        pthread_cond_broadcast(&e->cv);
        pthread_mutex_unlock(&e->mu);
    }
    const int64_t start = e->adapt ? now_ns() : 0;
    run_nodes(e, 0, e->run);
    if (e->adapt && !e->help)
        back_off(e, now_ns() - start);
    if (rebound)
        sched_setaffinity(0, sizeof before, &before);
}

void hidp__exec_destroy(hidp__exec *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->quit, 1);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    for (int w = 1; w <= e->started; w++)
        pthread_join(e->workers[w].tid, NULL);
    for (int w = 0; e->scratch && w < e->threads; w++)
        free(e->scratch[w]);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e->scratch);
    free(e->workers);
    free(e->slices);
    free(e->barrier_after);
    free(e->meet);
    free(e->waits);
    free(e->pus);
    free(e->weight);
    free(e->spin_ns);
    free(e->mode);
    free(e->solo_s);
    free(e->recs);
    free(e->lost_ns);
    free(e->producer);
    free(e->help_k);
    free(e->chunks);
    free(e->chunk_late_ns);
    free((void *)e->chunk_state);
    free((void *)e->chunk_start);
    free(e->mirror);
    free(e);
}

int hidp__exec_threads(const hidp__exec *e)
{
    return e->threads;
}

hidp__slice hidp__exec_slice(const hidp__exec *e, int node, int w)
{
    return e->slices[(size_t)node * (size_t)e->threads + (size_t)w];
}

int hidp__exec_splittable(const hidp__exec *e, int node)
{
    return splittable(e, node);
}

int hidp__exec_unequal(const hidp__exec *e)
{
    for (int w = 1; e->weight && w < e->threads; w++)
        if (e->weight[w] != e->weight[0])
            return 1;
    return 0;
}

int hidp__exec_plan(hidp__exec *e, const signed char *mode, double trim, hidp__err *err)
{
    const size_t nn = (size_t)(e->g->n_nodes > 0 ? e->g->n_nodes : 1);
    if (mode && !e->mode && !(e->mode = malloc(nn)))
        return hidp__fail(err, HIDP_ENOMEM, "out of memory planning the executor");
    if (mode)
        memcpy(e->mode, mode, (size_t)e->g->n_nodes);
    else if (e->mode)
        memset(e->mode, HIDP__PLAN_AUTO, nn);
    e->trim = trim > 0 ? trim : 1.0;
    hidp__backoff_init(&e->backoff); /* a new plan starts from its own shares */
    plan_all(e);
    return 0;
}

void hidp__exec_adapt(hidp__exec *e, int on)
{
    e->adapt = on && hidp__exec_unequal(e);
    if (!e->adapt && e->backoff.factor != 1.0) {
        hidp__backoff_init(&e->backoff);
        plan_all(e);
    }
}

void hidp__exec_stall(hidp__exec *e, int w, int64_t ns)
{
    e->stall_worker = w >= 0 && w < e->threads ? w : 0;
    e->stall_ns = w >= 0 && w < e->threads && ns > 0 ? ns : 0;
}

double hidp__exec_backoff(const hidp__exec *e, double *lost)
{
    if (lost)
        *lost = e->last_lost;
    return e->backoff.factor;
}

int hidp__exec_set_solo_times(hidp__exec *e, const double *solo_s, hidp__err *err)
{
    const size_t nn = (size_t)(e->g->n_nodes > 0 ? e->g->n_nodes : 1);
    if (!e->solo_s && !(e->solo_s = calloc(nn, sizeof *e->solo_s)))
        return hidp__fail(err, HIDP_ENOMEM, "out of memory planning the executor");
    memcpy(e->solo_s, solo_s, (size_t)e->g->n_nodes * sizeof *solo_s);
    return 0;
}

int hidp__exec_profile(hidp__exec *e, int on, const hidp__exec_probe *probe, hidp__err *err)
{
    if (!on) {
        free(e->recs);
        e->recs = NULL;
        e->probe = NULL;
        return 0;
    }
    const size_t n = (size_t)(e->g->n_nodes > 0 ? e->g->n_nodes : 1) * (size_t)e->threads;
    if (!e->recs && !(e->recs = calloc(n, sizeof *e->recs)))
        return hidp__fail(err, HIDP_ENOMEM, "out of memory for the profile records");
    e->probe = probe;
    return 0;
}

const hidp__exec_rec *hidp__exec_records(const hidp__exec *e, int64_t *run_start)
{
    if (run_start)
        *run_start = e->run_start;
    return e->recs;
}

double hidp__exec_run_seconds(const hidp__exec *e)
{
    const int last = e->g->n_nodes - 1;
    return e->recs && last >= 0
               ? (double)(e->recs[(size_t)last * (size_t)e->threads].leave - e->run_start) * 1e-9
               : 0;
}

double hidp__exec_node_seconds(const hidp__exec *e, int node)
{
    if (!e->recs || node < 0 || node >= e->g->n_nodes)
        return 0;
    const int64_t prev = node ? e->recs[(size_t)(node - 1) * (size_t)e->threads].leave
                              : e->run_start;
    return (double)(e->recs[(size_t)node * (size_t)e->threads].leave - prev) * 1e-9;
}

int hidp__exec_pu(const hidp__exec *e, int w)
{
    return e->pus && w >= 0 && w < e->threads ? e->pus[w] : -1;
}

int hidp__exec_barrier_after(const hidp__exec *e, int node)
{
    return node >= 0 && node < e->g->n_nodes && e->barrier_after[node];
}

int hidp__exec_slower(const hidp__exec *e, int w)
{
    return e->spin_ns && w >= 0 && w < e->threads && e->spin_ns[w] == 0;
}

int hidp__exec_waits(const hidp__exec *e, int node, int w)
{
    return node >= 0 && node < e->g->n_nodes && w >= 0 && w < e->threads &&
           e->waits[(size_t)node * (size_t)e->threads + (size_t)w];
}

int hidp__exec_help(hidp__exec *e, int on)
{
    const int help = on && e->help_k;
    if (help != e->help) {
        quiesce(e);
        e->help = help;
        plan_all(e);
    }
    return e->help;
}

void hidp__exec_help_counts(const hidp__exec *e, long long *helped, long long *taken_back)
{
    *helped = e->help_k ? atomic_load(&e->helped) : 0;
    *taken_back = e->help_k ? atomic_load(&e->taken_back) : 0;
}
