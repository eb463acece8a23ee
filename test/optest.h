/*
 * optest.h - builds a one-op graph for kernel tests and checks the optimized kernel against its
 * naive reference, whole and in channel and row slices.
 *
 * Usage:
 *   optest t; optest_init(&t);
 *   int x = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
 *   int w = optest_const(&t, "w", 4, (int64_t[]){17, 3, 3, 3}, 2);
 *   hidp__node *n = optest_node(&t, "Conv", (int[]){x, w}, 2);
 *   hidp__node_set_ints(n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
 *   if (optest_prepare(&t) == 0) optest_check(&t, "conv 3x3 pad 1");
 *   optest_free(&t);
 */
#ifndef HIDP_OPTEST_H
#define HIDP_OPTEST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/graph.h"
#include "../ops/op.h"
#include "tap.h"

typedef struct optest {
    hidp__graph g;
    int node;
    hidp__err err;
    void *owned[64];   /* activation buffers the graph does not own */
    int n_owned;
    float *scratch;
} optest;

static inline void optest_init(optest *t)
{
    memset(t, 0, sizeof *t);
    hidp__graph_init(&t->g);
    t->node = -1;
}

static inline void optest_free(optest *t)
{
    for (int i = 0; i < t->n_owned; i++)
        free(t->owned[i]);
    free(t->scratch);
    hidp__graph_free(&t->g);
}

/* Deterministic values in [-1, 1) from a seed (xorshift). */
static inline void optest_fill(float *p, int64_t n, unsigned seed)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        p[i] = (float)((s >> 8) * (1.0 / 8388608.0) - 1.0);
    }
}

static inline float *optest_own(optest *t, size_t floats)
{
    float *p = malloc((floats ? floats : 1) * sizeof(float));
    if (p && t->n_owned < 64)
        t->owned[t->n_owned++] = p;
    return p;
}

/* A runtime (non-constant) fp32 input filled from seed. */
static inline int optest_input(optest *t, const char *name, int ndim, const int64_t *dims,
                               unsigned seed)
{
    int v = hidp__graph_value(&t->g, name);
    hidp__value *val = &t->g.vals[v];
    val->shape = hidp__shape_make(ndim, dims);
    val->flags = HIDP__VAL_INPUT;
    val->data = optest_own(t, (size_t)hidp__shape_count(&val->shape));
    optest_fill(val->data, hidp__shape_count(&val->shape), seed);
    return v;
}

/* A constant fp32 tensor (weights) filled from seed. */
static inline int optest_const(optest *t, const char *name, int ndim, const int64_t *dims,
                               unsigned seed)
{
    int v = hidp__graph_value(&t->g, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    float *d = malloc((size_t)hidp__shape_count(&s) * sizeof(float) + 4);
    optest_fill(d, hidp__shape_count(&s), seed);
    hidp__graph_set_const(&t->g, v, HIDP__DT_F32, &s, d);
    return v;
}

/* A constant int64 tensor with the given values (shape inputs, pads, axes...). */
static inline int optest_const_i64(optest *t, const char *name, int ndim, const int64_t *dims,
                                   const int64_t *vals)
{
    int v = hidp__graph_value(&t->g, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t n = hidp__shape_count(&s);
    int64_t *d = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    memcpy(d, vals, (size_t)n * sizeof(int64_t));
    hidp__graph_set_const(&t->g, v, HIDP__DT_I64, &s, d);
    return v;
}

/* A constant fp32 tensor with the given values. */
static inline int optest_const_f32(optest *t, const char *name, int ndim, const int64_t *dims,
                                   const float *vals)
{
    int v = hidp__graph_value(&t->g, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t n = hidp__shape_count(&s);
    float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
    memcpy(d, vals, (size_t)n * sizeof(float));
    hidp__graph_set_const(&t->g, v, HIDP__DT_F32, &s, d);
    return v;
}

/* The op node under test, with one output "y". Set attributes on the returned node. */
static inline hidp__node *optest_node(optest *t, const char *op_type, const int *in, int n_in)
{
    int y = hidp__graph_value(&t->g, "y");
    t->node = hidp__graph_add_node(&t->g, "node_under_test", op_type, "", in, n_in, &y, 1);
    return &t->g.nodes[t->node];
}

/* parse + reshape; allocates the output and scratch. Returns the op's status (the message is in
 * t->err.msg), so tests of bad attributes can check the failure. */
static inline int optest_prepare(optest *t)
{
    hidp__node *n = &t->g.nodes[t->node];
    n->op = hidp__op_find(n->op_type);
    if (!n->op)
        return hidp__fail(&t->err, HIDP_EUNSUPPORTED, "no op %s", n->op_type);
    int rc = n->op->parse ? n->op->parse(&t->g, n, &t->err) : 0;
    if (rc == 0)
        rc = n->op->reshape(&t->g, n, &t->err);
    if (rc)
        return rc;
    hidp__value *y = &t->g.vals[n->out[0]];
    y->data = optest_own(t, (size_t)hidp__shape_count(&y->shape));
    free(t->scratch);
    t->scratch = malloc((n->scratch ? n->scratch : 1) * sizeof(float));
    return 0;
}

/* Runs one slice with the optimized (ref = 0) or reference (ref = 1) kernel, then the executor's
 * activation epilogue when the op does not fuse it. */
static inline void optest_run_slice(optest *t, hidp__slice s, int ref)
{
    hidp__node *n = &t->g.nodes[t->node];
    (ref ? n->op->run_ref : n->op->run)(&t->g, n, s, t->scratch);
    if (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT))
        hidp__act_apply_slice(&t->g, n, s);
}

/* Fills the output with NaN (so unwritten elements show), runs the slices of a partition of
 * `parts` pieces along channels (rows = 0) or rows (rows = 1), and copies the output to dst. */
static inline void optest_run_parts(optest *t, int parts, int rows, int ref, float *dst)
{
    hidp__node *n = &t->g.nodes[t->node];
    hidp__value *y = &t->g.vals[n->out[0]];
    int64_t count = hidp__shape_count(&y->shape);
    float *out = y->data;
    for (int64_t i = 0; i < count; i++)
        out[i] = NAN;
    hidp__slice all = hidp__slice_all(&t->g, n);
    int64_t total = rows ? all.h1 : all.c1;
    for (int p = 0; p < parts; p++) {
        /* Uneven pieces: the first gets less, so odd boundaries are exercised. */
        int64_t lo = total * p / parts, hi = total * (p + 1) / parts;
        if (lo == hi)
            continue;
        hidp__slice s = all;
        if (rows) {
            s.h0 = lo;
            s.h1 = hi;
        } else {
            s.c0 = lo;
            s.c1 = hi;
        }
        optest_run_slice(t, s, ref);
    }
    memcpy(dst, out, (size_t)count * sizeof(float));
}

/* The standard check: the reference whole vs the optimized kernel whole, in 3 channel slices and
 * in 3 row slices (4 TAP lines). Returns the number of failures. */
static inline int optest_check(optest *t, const char *what)
{
    hidp__node *n = &t->g.nodes[t->node];
    hidp__value *y = &t->g.vals[n->out[0]];
    size_t count = (size_t)hidp__shape_count(&y->shape);
    float *ref = malloc((count ? count : 1) * sizeof(float));
    float *got = malloc((count ? count : 1) * sizeof(float));
    int before = tap__failed;
    optest_run_parts(t, 1, 0, 1, ref);
    optest_run_parts(t, 1, 0, 0, got);
    TAP_CLOSE(got, ref, count, 1e-4, "%s: whole", what);
    optest_run_parts(t, 3, 0, 0, got);
    TAP_CLOSE(got, ref, count, 1e-4, "%s: 3 channel slices", what);
    optest_run_parts(t, 3, 1, 0, got);
    TAP_CLOSE(got, ref, count, 1e-4, "%s: 3 row slices", what);
    optest_run_parts(t, 2, 1, 1, got);
    TAP_CLOSE(got, ref, count, 1e-6, "%s: reference in 2 row slices", what);
    free(ref);
    free(got);
    return tap__failed - before;
}

#endif
