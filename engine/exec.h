/*
 * exec.h - the threaded executor: a persistent pool of workers that runs the nodes of a
 * prepared graph in order, each node's output split among the workers, with a barrier between
 * nodes.
 *
 * The calling thread is worker 0, so `threads` workers need threads - 1 pthreads. After a run
 * the pthreads watch for the next one for about a millisecond, then sleep on a condition
 * variable, so an idle model costs no CPU; workers of slower kinds sleep at once. Within a run
 * they meet at barriers where workers of the fastest kind spin (a layer takes microseconds to
 * milliseconds, and waking a sleeping thread per layer would cost as much as the layer) and
 * workers of slower kinds soon sleep on a futex (so a little core does not spend its time or
 * energy waiting for a big one). A slower worker waits at a barrier only when it has a slice
 * before the next one; otherwise it just arrives and goes on.
 */
#ifndef HIDP_EXEC_H
#define HIDP_EXEC_H

#include <stddef.h>

#include "error.h"
#include "graph.h"
#include "stripe.h"
#include "../ops/op.h"

typedef struct hidp__exec hidp__exec;

/* Nodes estimated below this much work (flops, or output elements when that is larger) run on
 * worker 0 alone: splitting them costs more in synchronisation than it saves. Measured on the
 * 2-core AVX-512 VM: a barrier costs about 0.6 us when both workers are on a CPU; a Relu over
 * 41k floats takes 2.9 us on one worker and 2.05 us on two, one over 10k the same 0.75 us. */
#define HIDP__EXEC_MIN_SPLIT 20000.0

/* Creates the executor for g (bound, planned, every node live; g must outlive it) with `threads`
 * workers, each with scratch_floats floats of scratch. reference: run every node's run_ref over
 * the whole output on the calling thread (threads is then ignored). HIDP_ESYSTEM if a thread
 * cannot be started. The caller owns *out (hidp__exec_destroy). */
struct hidp__placement;
struct hidp__topo;
/* pl (may be NULL: unbound workers, equal shares) gives each worker its PU and its share of
 * every split layer (copied); topo (outliving the executor) binds them. */
int hidp__exec_create(hidp__exec **out, const hidp__graph *g, int threads,
                      size_t scratch_floats, int reference, const struct hidp__placement *pl,
                      const struct hidp__topo *topo, hidp__err *err);

/* Runs every node once. Must not be called from two threads at once. */
void hidp__exec_run(hidp__exec *e);

/* Stops and joins the workers and frees e (NULL is fine). */
void hidp__exec_destroy(hidp__exec *e);

/* At most this many workers per model (the plan keeps per-worker arrays on the stack). */
#define HIDP__EXEC_MAX_WORKERS 256

/* How a node is shared (hidp__exec_plan). AUTO: split unless its estimated work is too small
 * (HIDP__EXEC_MIN_SPLIT, or the wake-up of a slow core costs more than it saves); SPLIT: over
 * every worker whenever its shape allows; SOLO: on worker 0 alone. */
enum { HIDP__PLAN_AUTO = 0, HIDP__PLAN_SPLIT = 1, HIDP__PLAN_SOLO = 2 };

/* Replaces the plan: mode[node] (NULL: all AUTO), and trim, a factor on the shares of workers
 * slower than the fastest (1: their calibrated shares). Only between runs. HIDP_ENOMEM. */
int hidp__exec_plan(hidp__exec *e, const signed char *mode, double trim, hidp__err *err);

/* Each node's measured time on worker 0 alone (seconds, 0 unknown), for the next plans: on
 * cores of unequal speed a layer's shares allow for the slower workers' wake-up (sched/split.h's
 * hidp__split_allow_wake), which matters more the shorter the layer. HIDP_ENOMEM. */
int hidp__exec_set_solo_times(hidp__exec *e, const double *solo_s, hidp__err *err);

/* Whether node i can be cut among the workers at all, and whether the workers' shares differ
 * (cores of unequal speed: only then does a trim change anything). */
int hidp__exec_splittable(const hidp__exec *e, int node);

/* Backing off (sched/backoff.h): with on, and cores of unequal speed, every run measures how
 * long the slower workers were off their CPU within their slices and scales their shares down
 * (then slowly back up) to match; plan changes (hidp__exec_plan) start again from the plan's
 * own shares. Off: the shares stay as planned. hidp__exec_backoff gives the factor in force and,
 * in *lost (may be NULL), the last run's loss as a fraction of it. */
void hidp__exec_adapt(hidp__exec *e, int on);
double hidp__exec_backoff(const hidp__exec *e, double *lost);
/* For tests: slower worker w, while backing off, sleeps ns within each of its slices, off its
 * CPU as under a spent quota (ns 0: no more); while helping, worker 1 sleeps in each chunk
 * after its first piece (engine/exec_help.c), and in each stripe after its middle node and
 * after its last in turn (or with ns < 0 spins -ns there, on its CPU, as a slow core). */
void hidp__exec_stall(hidp__exec *e, int w, int64_t ns);
/* For tests, with on: worker 1's spin in a chunk (ns < 0 above) ends as soon as worker 0 has
 * taken a piece of that chunk from the back. A slow core then is still in its piece when worker
 * 0 comes for the rest, however long a loaded machine keeps worker 0 from coming. */
void hidp__exec_stall_until_shared(hidp__exec *e, int on);
int hidp__exec_unequal(const hidp__exec *e);
/* Whether some worker of a slower kind has a scarce CPU (sched/contention.h): it then sleeps
 * as soon as it waits, and the plan allows for its wake-up. Until a worker has run long enough
 * to tell, it counts as scarce. */
int hidp__exec_slower_scarce(const hidp__exec *e);
/* For tests: worker w's CPU counts as scarce (or its own) until its samples say otherwise; the
 * plan follows at the next hidp__exec_plan. Does nothing without a placement. */
void hidp__exec_set_scarce(hidp__exec *e, int w, int scarce);

/* Helping (two workers, the second slower): worker 1 takes its share of each convolution in
 * chunks while it can, computing each aside, and worker 0 takes back those it has not started
 * or not finished in time (engine/exec_help.c). Returns whether it is on (it cannot be for other
 * worker sets). The counts are chunks worker 1 finished and chunks worker 0 took back, since
 * the executor was created. */
int hidp__exec_help(hidp__exec *e, int on);
/* Whether the executor helps (then a worker's record of a node is the work it did, which is not
 * its slice: chunks taken back, stripes' bands). */
int hidp__exec_helping(const hidp__exec *e);
/* Gives a helping executor the graph's stripes (engine/stripe.h), whose inputs and outputs the
 * memory plan keeps whole while they run: worker 1 then takes the bottom band of each through
 * all its layers at once, instead of chunks of each layer (engine/exec_stripe.c). Nothing
 * happens for an executor that cannot help. Returns -1 when out of memory. */
int hidp__exec_stripes(hidp__exec *e, const hidp__stripe *list, int n);
/* Rows of their last outputs that the stripes' bands have moved from the plan so far, summed:
 * worker 1 gets a row more of a stripe each time it delivers before worker 0 is done with its
 * own band, a row less each time worker 0 waits for it (exec_stripe.c). */
int64_t hidp__exec_stripe_rows_moved(const hidp__exec *e);
/* Turns the stripes off (each layer is then split on its own, as planned) or on again. */
void hidp__exec_use_stripes(hidp__exec *e, int on);
/* How many stripes the plan in force runs as stripes; and how many worker 1 has delivered and
 * worker 0 has taken back since they were given (either count pointer may be NULL). */
int hidp__exec_stripes_in_force(const hidp__exec *e, long long *helped, long long *taken_back);
/* Of the stripes worker 0 has taken back from a worker 1 that had started them, how many it
 * went on with from the node worker 1 had reached (in the shadow) instead of from their first;
 * in *whole (may be NULL), how many worker 1 had finished but not delivered, whose band worker 0
 * copied in from the mirror. */
long long hidp__exec_stripes_resumed(const hidp__exec *e, long long *whole);
void hidp__exec_help_counts(const hidp__exec *e, long long *helped, long long *taken_back);
/* Of the chunks worker 1 has finished: *cpu_s, the CPU time it spent computing them (not
 * copying them in), and *planned_s, their time on worker 0 alone as the plan has it (the tuner's
 * measured layer times, else the calibrated estimate). planned / cpu is worker 1's pace on its
 * chunks against worker 0's, per second of CPU; bench/little_core.sh sets it beside the pace of
 * the same core running a whole model alone. 0 and 0 when not helping. Chunks only: stripes'
 * bands are not counted. */
void hidp__exec_help_pace(const hidp__exec *e, double *cpu_s, double *planned_s);
/* The same for the stripes' bands worker 1 has delivered: its CPU time computing them, and the
 * time the rows it computed (the halo too) take on worker 0 as planned. */
void hidp__exec_stripe_pace(const hidp__exec *e, double *cpu_s, double *planned_s);
/* Of the chunks worker 0 took back, how many worker 1 had finished pieces of (worker 0 copied
 * those in from the mirror and computed only the rest). */
long long hidp__exec_help_resumed(const hidp__exec *e);
/* How many pieces worker 0 has taken from the back of chunks worker 1 was running. */
long long hidp__exec_help_shared(const hidp__exec *e);
/* Whether worker 0 can read worker 1's CPU clock, to take back a stopped worker's chunks before
 * their deadline (pthread_getcpuclockid and clock_gettime on it work). */
int hidp__exec_help_watches(const hidp__exec *e);

/* ---- profiling ---- */

#define HIDP__EXEC_MAX_COUNTERS 8

/* Reads a worker's counters (values[0..n)) on that worker's thread; profiling stores the
 * difference across each slice. */
typedef struct hidp__exec_probe {
    void (*read)(void *user, int worker, long long *values);
    void *user;
    int n;
} hidp__exec_probe;

/* One worker's record of one node in the last profiled run: CLOCK_MONOTONIC nanoseconds. */
typedef struct hidp__exec_rec {
    int64_t start, end;    /* around its slice (nothing to do: end - start is the timer's cost) */
    int64_t leave;         /* when it went on to the next node: after the barrier, if any (the
                            * run's last barrier: worker 0's exit, the others' arrival) */
    long long counts[HIDP__EXEC_MAX_COUNTERS]; /* the probe's counters across the slice */
} hidp__exec_rec;

/* Profiled runs record each worker's time on each node, in one of two ways:
 *  - HIDP__PROFILE_AS_RUN: they run as any other, and a worker's record of a node is the work it
 *    did there. Helping, that is worker 1's chunks it delivered (none of those worker 0 took
 *    back) and the stripes' bands, and worker 0's record of a stripe's last node includes the
 *    wait for worker 1's band;
 *  - HIDP__PROFILE_FIXED: each worker runs its slice of every node, fixed, with barriers, so
 *    that a node's time is its own (the tuner's layer trials). Timed as they run, MobileNet-V2's
 *    layers in stripes looked cheap split (worker 0's band) but for the last (the wait), and its
 *    tuned plans split 26-33 layers instead of 10 and ran 1.04x slower (bench/little_core.sh).
 * Without helping the two are the same. */
enum { HIDP__PROFILE_OFF, HIDP__PROFILE_AS_RUN, HIDP__PROFILE_FIXED };

/* Turns the records on in one of those ways (probe may be NULL: times only; it must outlive
 * profiling) or off. Only between runs. HIDP_ENOMEM. */
int hidp__exec_profile(hidp__exec *e, int how, const hidp__exec_probe *probe, hidp__err *err);

/* The records of the last profiled run, [node * threads + worker] (NULL when off), and when
 * that run started. */
const hidp__exec_rec *hidp__exec_records(const hidp__exec *e, int64_t *run_start);

/* Wall time of node i in the last profiled run, as worker 0 saw it: from leaving node i-1 (or
 * the run's start) to leaving node i. These add up to the whole run, hidp__exec_run_seconds. */
double hidp__exec_node_seconds(const hidp__exec *e, int node);
double hidp__exec_run_seconds(const hidp__exec *e);

/* The number of workers, and the slice worker w computes of node i (empty: c0 == c1). */
int hidp__exec_threads(const hidp__exec *e);
/* Whether the workers meet after node i (not after a solo node followed by a solo one, nor
 * before a channel-local node that reads only its own worker's slice). */
int hidp__exec_barrier_after(const hidp__exec *e, int node);
/* Whether worker w waits for the others at the barrier after node: at the last node only
 * worker 0 does; elsewhere a worker of the fastest kind always does, a slower one when it has a
 * slice before the next barrier. 0 where there is no barrier. */
int hidp__exec_waits(const hidp__exec *e, int node, int w);
/* Whether worker w is of a slower kind than the fastest (it sleeps at once when it waits, while
 * its CPU is scarce: hidp__exec_slower_scarce). */
int hidp__exec_slower(const hidp__exec *e, int w);
/* The PU worker w is bound to, -1 when unbound. */
int hidp__exec_pu(const hidp__exec *e, int w);
hidp__slice hidp__exec_slice(const hidp__exec *e, int node, int w);

#endif
