/*
 * model.h - the context and model structs behind the public handles, and the internal hooks the
 * tests and tools use.
 */
#ifndef HIDP_MODEL_H
#define HIDP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "graph.h"
#include "hidp.h"
#include "passes.h"
#include "../sched/watch.h"

struct hidp__exec;
struct hidp__exec_probe;

struct hidp_context {
    hidp__err err;         /* last failure, kept until the next one */
    hidp_log_fn log;
    void *log_user;
    int log_level;
    int threads;           /* workers per layer, used at the next prepare */
    char *cores;           /* hidp_context_set_cores' policy, NULL: all */
    int split;             /* HIDP_SPLIT_* */
    struct hidp__topo *topo; /* this board's kinds, loaded at the first prepare that needs them */
    int topo_failed;       /* hwloc could not load it: workers run unplaced */
    int calibrated;        /* its speeds were read or measured (or that failed) */
    int no_tuning;         /* hidp_context_set_tuning(ctx, HIDP_TUNE_OFF) */
    int fixed_plan;        /* hidp_context_set_tuning(ctx, HIDP_TUNE_FIXED): no backing off */
    int no_take_back;      /* hidp_context_set_take_back(ctx, 0) */
    int no_stripes;        /* hidp_context_set_stripes(ctx, 0) */
};

struct hidp_model {
    hidp_context *ctx;
    hidp__graph src;       /* as loaded and rewritten; never bound, so prepare can run again */
    char *unsupported;     /* "Op (node 'n'), ..." for nodes hidp cannot run, or NULL */
    hidp__shape *in_shape; /* shapes set with hidp_model_set_input_shape, per input */
    char *in_set;          /* whether in_shape[i] was set */
    int reference;         /* run the reference kernels on one thread (tests) */

    /* Prepared state, rebuilt by every prepare. */
    int prepared;
    hidp__graph g;         /* a bound copy of src: shapes, folded constants, planned data */
    hidp__plan plan;
    struct hidp__exec *exec;
    int *layers;           /* indices in g of the nodes that run, in order */
    int n_layers;
    struct hidp__tuner *tuner; /* while the first runs refine the plan (model_run.c), else NULL */
    signed char *tune_mode;    /* [node] the tuner's plan */
    double *tune_s;            /* [node] a trial's per-layer seconds */
    int tune_solo_set;         /* the measured solo times went to the executor */
    double backoff;            /* the slower cores' share factor last logged (exec.h) */
    /* After tuning: its finalists, checked again when the runs drift (sched/watch.h) */
    int watching; /* the watch is on (else the tuned plan stays) */
    hidp__watch watch;
    int watch_plan; /* the finalist installed in the executor */
    struct {
        signed char *mode; /* [node] */
        double trim;
        int stripes; /* -1: left as they are */
    } finalist[HIDP__WATCH_PLANS];
    struct hidp__profile *prof; /* hidp_model_profile's sums (profile.c), NULL when off */
};

/* Records failure `code` with e's message in the context (and logs it at ERROR level); an
 * empty message becomes hidp_strerror(code). Returns code. */
int hidp__ctx_error(hidp_context *ctx, int code, const hidp__err *e);
/* printf-style: records code and message in the context; returns code. */
int hidp__ctx_fail(hidp_context *ctx, int code, const char *fmt, ...) HIDP__PRINTF(3, 4);
/* Sends a message to the context's log callback if level <= its max level. */
void hidp__log(hidp_context *ctx, int level, const char *fmt, ...) HIDP__PRINTF(3, 4);

/* Makes a model from a graph built in memory (tests, the ONNX reader's output): runs the load
 * rewrites and parses every op. Takes over g's contents on success and on failure (g is left
 * empty either way). */
int hidp__model_from_graph(hidp_context *ctx, hidp__graph *g, hidp_model **out);

/* Reference mode (tests): every node runs its naive run_ref over the whole output on the calling
 * thread. Takes effect at the next prepare. Returns 0. */
int hidp__model_set_reference(hidp_model *m, int on);

/* Starts tuning for the prepared model (nothing to tune: m->tuner stays NULL), and ends it;
 * and ends the watch over the tuned plan (model_run.c). */
int hidp__model_tune_start(hidp_model *m, hidp__err *err);
void hidp__model_tune_stop(hidp_model *m);
void hidp__model_watch_stop(hidp_model *m);
/* After tuning (model_watch.c): keeps the tuner's finalists and puts the plan under watch, unless
 * the plan is fixed; then each run's wall time, installing the plan the watch picks next. */
void hidp__model_watch_start(hidp_model *m, const struct hidp__tuner *t);
void hidp__model_watch_feed(hidp_model *m, double run_s);

/* Profiling (profile.c): the executor's probe while on (NULL: off or times only), adding the last
 * run to the sums, and stopping. */
const struct hidp__exec_probe *hidp__model_probe(const hidp_model *m);
void hidp__profile_add_run(hidp_model *m);
void hidp__profile_stop(hidp_model *m);

/* Size of the activation arena of the prepared model and the sum of all its runtime values
 * (what the arena would be without reuse), in bytes; 0 before prepare. */
size_t hidp__model_arena_bytes(const hidp_model *m);
size_t hidp__model_values_bytes(const hidp_model *m);

#endif
