/*
 * passes.h - what happens to the graph between the ONNX reader and the executor.
 *
 *   load     (rewrite.c) Constant nodes -> constants, Identity/Dropout removed, ops resolved,
 *            BatchNormalization folded into Conv, activations fused into their producer,
 *            topological sort, op->parse.
 *   prepare  (bind.c, fold.c) on a copy of the loaded graph: input shapes bound, nodes whose
 *            inputs are known folded into constants, op->reshape for the rest, dead code
 *            dropped; (residual.c) residual Adds folded into their convolution; (plan.c) every
 *            runtime value gets an arena offset.
 */
#ifndef HIDP_PASSES_H
#define HIDP_PASSES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "graph.h"
#include "stripe.h"

/* ---- load-time rewrites (rewrite.c) ---- */

/* Replaces every Constant node by a constant value (attributes value, value_float(s),
 * value_int(s)); other kinds fail with HIDP_EUNSUPPORTED. */
int hidp__rewrite_constants(hidp__graph *g, hidp__err *err);
/* Removes Identity and Dropout (inference: a copy), rewiring consumers. A graph output keeps its
 * ONNX name: the removed node's input is renamed to it when that is possible. */
int hidp__rewrite_identity(hidp__graph *g, hidp__err *err);
/* Sets node->op for every default-domain node hidp implements. */
void hidp__resolve_ops(hidp__graph *g);
/* Folds each BatchNormalization that reads a Conv's output (and is its only reader) into the
 * conv's weights and bias, when all of them are constants. Returns the count folded, or < 0. */
int hidp__fold_batchnorm(hidp__graph *g, hidp__err *err);
/* Fuses Relu, Clip (constant bounds), LeakyRelu, Sigmoid, HardSigmoid and HardSwish into the node
 * producing their input when that op allows it (HIDP__OP_CAN_FUSE), has no activation yet, and
 * the value has no other reader and is not a graph output. Returns the count fused, or < 0. */
int hidp__fuse_activations(hidp__graph *g, hidp__err *err);
/* At prepare, after binding: folds each residual Add into the node producing one of its
 * operands (engine/residual.c). Returns the count folded, or < 0. */
int hidp__fuse_residual(hidp__graph *g, hidp__err *err);
/* Runs op->parse on every node that has an op (the first failure is returned). */
int hidp__parse_ops(hidp__graph *g, hidp__err *err);
/* The whole load pipeline above, then the sort and parse. *unsupported receives a malloc'd
 * list "Op (node 'name'), ..." of nodes hidp can neither run nor fold, or NULL if none. */
int hidp__rewrite_load(hidp__graph *g, char **unsupported, hidp__err *err);

/* The hidp__act an activation node would fuse as: 1 and *act filled, or 0 if n is not a
 * fusable activation (unknown type, Clip with a bound computed at run time). */
int hidp__act_of_node(const hidp__graph *g, const hidp__node *n, hidp__act *act);
/* "Relu", "Clip", ... for an activation kind ("" for none). */
const char *hidp__act_name(int kind);

/* ---- constant folding (fold.c) ---- */

/* Whether fold.c knows op_type (shape arithmetic on int64 and small float constants). */
int hidp__fold_known(const char *op_type);
/* Folds node n, whose inputs are all constants (Shape and Size: whose input has a bound shape),
 * into constant outputs and marks it dead. Returns 1 if folded, 0 if fold.c does not handle
 * this op or these dtypes (the caller may then run the op), < 0 on error. */
int hidp__fold_node(hidp__graph *g, int node, hidp__err *err);

/* ---- shape binding (bind.c) ---- */

/* Largest runtime tensor, in elements (16 GiB of floats): anything bigger is a corrupt shape. */
#define HIDP__MAX_ELEMS ((int64_t)1 << 32)

/* Binds g (a fresh copy of the loaded graph, ops parsed): inputs take shapes[i] (one per
 * g->inputs entry), then every live node in order is folded if its inputs are known or
 * reshaped by its op. Nodes whose outputs nobody reads are dropped and the graph is compacted.
 * Fails with HIDP_EUNSUPPORTED for a node that needs run-time data hidp cannot compute. */
int hidp__bind(hidp__graph *g, const hidp__shape *shapes, hidp__err *err);

/* Checks shape s against input v's declared shape (same rank, fixed dims equal, every dim
 * >= 1); HIDP_ESHAPE with "input 'x': got shape 1x3x32x32, model expects 1x3x224x224". */
int hidp__check_input_shape(const hidp__value *v, const hidp__shape *s, hidp__err *err);

/* ---- memory plan (plan.c) ---- */

#define HIDP__ALIGN 64

typedef struct hidp__plan {
    void *arena;           /* 64-byte aligned; every runtime value's data points into it */
    size_t arena_bytes;
    size_t values_bytes;   /* sum of all runtime values (what no reuse would need) */
    int n_values;          /* runtime values placed */
    size_t scratch_floats; /* per worker: the largest node->scratch */
} hidp__plan;

/* Life of a runtime value in steps (node indices): [first, last]. */
typedef struct hidp__life {
    int value;
    int first, last;
    size_t bytes;          /* rounded up to HIDP__ALIGN */
} hidp__life;

/* Lifetimes of every runtime fp32 value of the bound, sorted graph g (graph inputs for the whole
 * run, graph outputs to the end). *out is malloc'd (caller frees); returns the count or < 0. */
int hidp__plan_lifetimes(const hidp__graph *g, hidp__life **out, hidp__err *err);
/* Gives every runtime value of g an arena offset (values whose lifetimes overlap never share
 * bytes), allocates the arena and points each value's data into it. A value alive inside one of
 * the n_keep stripes and outside it is kept alive for the whole stripe (keep may be NULL). */
int hidp__plan_memory(hidp__graph *g, const hidp__stripe *keep, int n_keep, hidp__plan *p,
                      hidp__err *err);
void hidp__plan_free(hidp__plan *p);

#endif
