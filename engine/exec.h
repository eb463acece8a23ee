/*
 * exec.h - the threaded executor: a persistent pool of workers that runs the nodes of a
 * prepared graph in order, each node's output split among the workers, with a barrier between
 * nodes.
 *
 * The calling thread is worker 0, so `threads` workers need threads - 1 pthreads. After a run
 * the pthreads watch for the next one for about a millisecond, then sleep on a condition
 * variable, so an idle model costs no CPU; within a run they meet at a spinning barrier, because
 * a layer takes microseconds to milliseconds and waking a sleeping thread per layer would cost
 * as much as the layer.
 */
#ifndef HIDP_EXEC_H
#define HIDP_EXEC_H

#include <stddef.h>

#include "error.h"
#include "graph.h"
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

/* The number of workers, and the slice worker w computes of node i (empty: c0 == c1). */
int hidp__exec_threads(const hidp__exec *e);
hidp__slice hidp__exec_slice(const hidp__exec *e, int node, int w);

#endif
