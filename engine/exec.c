/*
 * exec.c - the worker pool, the barrier and the run loops, and the executor's API (exec.h).
 *
 * The plan (exec_plan.c) gives each node a slice per worker and says where the workers meet.
 * With a placement (sched/place.h) each worker is bound to its PU (worker 0, the caller's
 * thread, for the length of a run). The run loop is then just "my slice, barrier"
 * per node, the same on every worker (ggml's ith/nth, with the split precomputed); a barrier is
 * left out where no worker can read what another has not finished. When profiling, each slice
 * is timed (and counted by a probe) in a twin of the loop. Backing off (hidp__exec_adapt), the
 * slower workers also time how long each slice kept them off their CPU, and after each run
 * worker 0 scales their shares to match (sched/backoff.h). With two workers, the second slower,
 * worker 1's shares can instead be taken back (helping, exec_help.c): worker 0 then runs every
 * node, meets no barrier, and waits for worker 1 only as long as its share should take. The
 * state the three files share, struct hidp__exec, is in exec_impl.h.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "exec.h"
#include "exec_impl.h"
#include "hugemem.h"
#include "../sched/backoff.h"
#include "../sched/place.h"

/* How long a worker of the fastest kind spins at a barrier before it sleeps. */
#define BARRIER_SPIN_NS 100000

/* After a run, workers watch for the next one this long before sleeping: waking a sleeping
 * thread costs about a millisecond on a VM whose idle vCPU was halted (50 us on bare metal),
 * and back-to-back runs (streams, benchmarks) are the common case. An idle model sleeps. */
#define LINGER_NS 1000000L

/* Waits while *word == old, in the kernel (Linux futex; elsewhere a yield). */
void hidp__exec_wait_while(atomic_int *word, int old)
{
#ifdef SYS_futex
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
#else
    (void)word, (void)old;
    sched_yield();
#endif
}

void hidp__exec_wake_all(atomic_int *word)
{
#ifdef SYS_futex
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
#endif
}

/* Whether worker w sleeps almost at once when it waits: a worker of a slower kind whose CPU is
 * scarce (sched/contention.h), or that cannot tell. */
static int sleeps_at_once(const hidp__exec *e, int w)
{
    return hidp__exec_slower(e, w) &&
           (!e->contention || hidp__contention_scarce(&e->contention[w]));
}

int64_t hidp__exec_spin_ns(const hidp__exec *e, int w)
{
    return sleeps_at_once(e, w) ? 0 : BARRIER_SPIN_NS;
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
            hidp__exec_wake_all(&m->arrived);
        return;
    }
    if (!waits)
        return;
    const int64_t spin_ns = hidp__exec_spin_ns(e, w);
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
            hidp__exec_wait_while(&m->arrived, seen);
        atomic_fetch_sub(&m->sleepers, 1);
    }
}

void hidp__exec_run_slice(const hidp__exec *e, const hidp__node *n, hidp__slice s, float *scratch)
{
    (e->reference ? n->op->run_ref : n->op->run)(e->g, n, s, scratch);
    if (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT))
        hidp__act_apply_slice(e->g, n, s);
}

/* Whether worker w measures its time off the CPU within slices (a slower worker, backing off). */
static int measures_loss(const hidp__exec *e, int w)
{
    return e->adapt && !e->help && hidp__exec_slower(e, w);
}

/* hidp__exec_run_slice, adding to *lost the wall time it spent off its CPU (a spent quota, a
 * preemption): two clock reads and a system call more per slice, on slower workers only. */
static void run_slice_lossy(const hidp__exec *e, const hidp__node *n, hidp__slice s,
                            float *scratch, int w, int64_t *lost)
{
    const int64_t t0 = now_ns(), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    hidp__exec_run_slice(e, n, s, scratch);
    const int64_t stall = atomic_load_explicit(&e->stall_ns, memory_order_relaxed);
    if (stall > 0 && w == atomic_load_explicit(&e->stall_worker, memory_order_relaxed))
        nap_ns(stall);
    const int64_t off = (now_ns() - t0) - (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
    *lost += off > 0 ? off : 0;
}

void hidp__exec_span_begin(const hidp__exec *e, int w, hidp__exec_rec *r)
{
    if (!e->recs)
        return;
    if (e->probe)
        e->probe->read(e->probe->user, w, r->counts);
    else
        memset(r->counts, 0, sizeof r->counts);
    r->start = now_ns();
}

void hidp__exec_span_end(const hidp__exec *e, int w, hidp__exec_rec *r)
{
    if (!e->recs)
        return;
    r->end = r->leave = now_ns();
    if (!e->probe)
        return;
    long long after[HIDP__EXEC_MAX_COUNTERS];
    e->probe->read(e->probe->user, w, after);
    for (int k = 0; k < e->probe->n && k < HIDP__EXEC_MAX_COUNTERS; k++)
        r->counts[k] = after[k] - r->counts[k];
}

/* The run loop when profiling: the same, with a timestamp (and the probe's counters) around
 * every slice and after every barrier. Kept apart so the plain loop stays as lean as it is. */
static void run_nodes_profiled(hidp__exec *e, int w)
{
    const hidp__graph *g = e->g;
    const int lossy = measures_loss(e, w);
    int64_t *lost = &e->lost_ns[(size_t)w * LOST_STRIDE];
    *lost = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const size_t at = (size_t)i * (size_t)e->threads + (size_t)w;
        hidp__exec_rec *r = &e->recs[at];
        const hidp__slice s = e->slices[at];
        if (slice_empty(s)) { /* nothing to count: end - start is the timer's cost */
            memset(r->counts, 0, sizeof r->counts);
            r->start = now_ns();
            r->end = now_ns();
        } else {
            hidp__exec_span_begin(e, w, r);
            if (lossy)
                run_slice_lossy(e, &g->nodes[i], s, e->scratch[w], w, lost);
            else
                hidp__exec_run_slice(e, &g->nodes[i], s, e->scratch[w]);
            hidp__exec_span_end(e, w, r);
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
    if (e->recs && (!e->help || e->recs_fixed)) {
        run_nodes_profiled(e, w);
        return;
    }
    if (e->help) { /* profiled or not: the helping loops keep the records themselves */
        if (w == 0)
            hidp__help_run_master(e);
        else
            hidp__help_run_helper(e, run);
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
            hidp__exec_run_slice(e, &g->nodes[i], s, scratch);
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

/* The calling thread's /proc/thread-self/schedstat, or -1 (no such file: the thread's CPU then
 * counts as scarce throughout, sched/contention.h). */
static int open_schedstat(void)
{
#if defined(__linux__)
    return open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
#else
    return -1;
#endif
}

/* When a sample is due, tells c how long this thread has waited for its CPU so far (fd from
 * open_schedstat: its second field). */
static void feed_contention(hidp__contention *c, int fd)
{
    const int64_t t = now_ns();
    if (fd < 0 || !hidp__contention_due(c, t))
        return;
    char buf[128];
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return;
    buf[n] = 0;
    unsigned long long ran, waited;
    if (sscanf(buf, "%llu %llu", &ran, &waited) == 2)
        hidp__contention_feed(c, t, (int64_t)waited);
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
    /* A worker of a slower kind whose CPU is scarce (sched/contention.h) sleeps as soon as its
     * part of a run is done: watching for the next run would spend a quota core's budget on the
     * fast worker's remaining layers. */
    hidp__contention *contention = e->contention ? &e->contention[wk->index] : NULL;
    const int schedstat = hidp__exec_slower(e, wk->index) && contention ? open_schedstat() : -1;
    for (;;) {
        if (sleeps_at_once(e, wk->index) || !linger(e, seen)) {
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
        if (schedstat >= 0)
            feed_contention(contention, schedstat);
    }
    if (schedstat >= 0)
        close(schedstat);
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
        e->slower = malloc((size_t)threads * sizeof *e->slower);
        if (!e->slower)
            goto nomem;
        double fastest = 0;
        for (int w = 0; w < threads; w++)
            fastest = pl->weight[w] > fastest ? pl->weight[w] : fastest;
        for (int w = 0; w < threads; w++)
            e->slower[w] = pl->weight[w] < fastest;
        if (!(e->contention = malloc((size_t)threads * sizeof *e->contention)))
            goto nomem;
        for (int w = 0; w < threads; w++)
            hidp__contention_init(&e->contention[w]);
        e->wake_s = pl->wake_s;
        memcpy(e->weight, pl->weight, (size_t)threads * sizeof *e->weight);
        e->topo = topo;
    }
    for (int w = 0; w < threads; w++)
        if (!(e->scratch[w] = hidp__huge_alloc(scratch_floats * sizeof(float))))
            goto nomem;
    if (e->weight && threads == 2 && e->weight[1] < e->weight[0] && hidp__help_alloc(e, nn) != 0)
        goto nomem;
    hidp__exec_plan_all(e);
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
    if (e->help_k && e->started >= 1) /* worker 0 watches worker 1's CPU time (exec_help.c) */
        e->helper_clock_ok = pthread_getcpuclockid(e->workers[1].tid, &e->helper_clock) == 0;
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
        hidp__exec_plan_all(e);
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
    /* When nothing is shared (no node split, no stripe in force: a tiny model), the other
     * workers are not even woken. Every worker has arrived at every barrier of the last run
     * (worker 0 waited for them at its end), so the counts start again from nought; gen's
     * increment publishes that. */
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
    free(e->slower);
    free(e->contention);
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
    free((void *)e->chunk_done);
    free(e->chunk_pieces);
    free((void *)e->chunk_ends);
    free(e->mirror);
    hidp__stripe_free(e);
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
    hidp__exec_plan_all(e);
    return 0;
}

void hidp__exec_adapt(hidp__exec *e, int on)
{
    e->adapt = on && hidp__exec_unequal(e);
    if (!e->adapt && e->backoff.factor != 1.0) {
        hidp__backoff_init(&e->backoff);
        hidp__exec_plan_all(e);
    }
}

void hidp__exec_stall(hidp__exec *e, int w, int64_t ns)
{
    atomic_store_explicit(&e->stall_worker, w >= 0 && w < e->threads ? w : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&e->stall_ns, w >= 0 && w < e->threads ? ns : 0,
                          memory_order_relaxed);
}

void hidp__exec_stall_until_shared(hidp__exec *e, int on)
{
    atomic_store_explicit(&e->stall_until_shared, on != 0, memory_order_relaxed);
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
    /* the rows runs moved the stripes' cuts by corrected the old times: the new ones start over */
    for (int s = 0; s < e->n_stripes; s++)
        e->stripe_shift[s] = 0;
    return 0;
}

int hidp__exec_profile(hidp__exec *e, int how, const hidp__exec_probe *probe, hidp__err *err)
{
    hidp__help_quiesce(e); /* helping, worker 1 may still be in the last run */
    e->recs_fixed = how == HIDP__PROFILE_FIXED;
    if (how == HIDP__PROFILE_OFF) {
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
    return e->slower && w >= 0 && w < e->threads && e->slower[w];
}

void hidp__exec_set_scarce(hidp__exec *e, int w, int scarce)
{
    if (e->contention && w >= 0 && w < e->threads)
        hidp__contention_force(&e->contention[w], scarce);
}

int hidp__exec_slower_scarce(const hidp__exec *e)
{
    for (int w = 1; w < e->threads; w++)
        if (sleeps_at_once(e, w))
            return 1;
    return 0;
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
        hidp__help_quiesce(e);
        e->help = help;
        hidp__exec_plan_all(e);
    }
    return e->help;
}

int hidp__exec_helping(const hidp__exec *e)
{
    return e->help;
}

int hidp__exec_help_watches(const hidp__exec *e)
{
    return e->helper_clock_ok && clock_ns(e->helper_clock) >= 0;
}

void hidp__exec_help_pace(const hidp__exec *e, double *cpu_s, double *planned_s)
{
    *cpu_s = *planned_s = 0;
    if (e->help_k)
        pace_read(&e->helped_pace, cpu_s, planned_s);
}

void hidp__exec_help_counts(const hidp__exec *e, long long *helped, long long *taken_back)
{
    *helped = e->help_k ? atomic_load(&e->helped) : 0;
    *taken_back = e->help_k ? atomic_load(&e->taken_back) : 0;
}

long long hidp__exec_help_resumed(const hidp__exec *e)
{
    return e->help_k ? atomic_load(&e->resumed) : 0;
}

long long hidp__exec_help_shared(const hidp__exec *e)
{
    return e->help_k ? atomic_load(&e->shared) : 0;
}
