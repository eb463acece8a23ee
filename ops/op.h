/*
 * op.h - the interface every op implements, and the slice every kernel computes.
 *
 * A kernel computes one slice of its output: output channels [c0, c1) and rows [h0, h1) of the
 * output's 4-D view (hidp__shape_view4: n, c, h, w), for every batch item and every column w.
 * The executor hands each worker a slice (channels now, rows for spatial partitioning later);
 * computing all the slices of a partition must give exactly the whole output. Kernels never
 * allocate: they get `scratch`, at least node->scratch floats, private to the worker.
 *
 * Lifecycle of an op on a node:
 *   parse   once at load: attributes -> node->params; checks attributes (bad value: HIDP_EFORMAT,
 *           valid but not implemented: HIDP_EUNSUPPORTED, message names op and node).
 *   reshape at every prepare: input shapes -> output shape(s) and dtype, node->flops,
 *           node->weights, node->scratch; checks inputs fit (HIDP_ESHAPE) and that inputs that
 *           must be constant are (HIDP_EUNSUPPORTED). Runs after inputs have bound shapes.
 *   run     the optimized kernel on one slice. Must not fail: everything was checked before.
 *   run_ref the naive reference twin (plain loops, obviously right); the tests compare run
 *           against it. Ops whose kernel is already the plain loop may point both at one function.
 */
#ifndef HIDP_OP_H
#define HIDP_OP_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"

typedef struct hidp__slice {
    int64_t c0, c1;  /* output channels */
    int64_t h0, h1;  /* output rows */
    float *out;      /* NULL: write the node's output; else write here instead, laid out like
                        it (ops with HIDP__OP_REDIRECTS only: a worker whose slice may be taken
                        back computes it aside, engine/exec_help.c) */
} hidp__slice;

/* hidp__op_def.flags */
enum {
    HIDP__OP_FUSES_ACT = 1 << 0, /* run() applies node->act to what it writes; otherwise the
                                    executor applies it to the slice afterwards */
    HIDP__OP_CAN_FUSE = 1 << 1,  /* a following activation may be fused into this op */
    HIDP__OP_REDIRECTS = 1 << 2  /* run() writes to s.out when it is set, and reads back only
                                    what it wrote there in the same call */
};

typedef struct hidp__op_def {
    const char *name; /* ONNX op_type */
    unsigned flags;
    int (*parse)(hidp__graph *g, hidp__node *n, hidp__err *err);
    int (*reshape)(hidp__graph *g, hidp__node *n, hidp__err *err);
    void (*run)(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch);
    void (*run_ref)(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch);
    void (*destroy)(hidp__node *n); /* NULL: free(n->params) */
    /* Optional: one line for `hidp info` (kernel size, stride, pads, groups...). */
    void (*describe)(const hidp__graph *g, const hidp__node *n, char *buf, size_t len);
} hidp__op_def;

/* The op implementing op_type in the default domain, or NULL. (ops/op.c) */
const hidp__op_def *hidp__op_find(const char *op_type);

/* Applies an activation in place to n contiguous floats. (ops/activation.c) */
void hidp__act_apply(const hidp__act *a, float *x, size_t n);
/* Applies node->act to the elements of slice s of output 0 (the executor's epilogue for ops
 * without HIDP__OP_FUSES_ACT). (ops/activation.c) */
void hidp__act_apply_slice(const hidp__graph *g, const hidp__node *n, hidp__slice s);

/* The whole output of node n as one slice. */
hidp__slice hidp__slice_all(const hidp__graph *g, const hidp__node *n);
/* Sets *r to the part of input k of node n that slice s reads (channels and rows of its 4-D
 * view), from what reshape recorded (hidp__node.rows_in_span, channel_local, takes_residual).
 * Returns 0 when that is not known: then it may read all of it. */
int hidp__slice_reads(const hidp__graph *g, const hidp__node *n, int k, hidp__slice s,
                      hidp__slice *r);

#endif
