/*
 * graph_build.h - building small graphs by hand for the engine tests (test_graph.c,
 * test_model_api.c) and the test-model writer (gen_models.c): a graph G under construction, its
 * inputs, outputs, constants and nodes.
 * Header-only (static inline) so each test has its own G.
 */
#ifndef HIDP_TEST_GRAPH_BUILD_H
#define HIDP_TEST_GRAPH_BUILD_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/exec.h"
#include "../engine/graph.h"
#include "../engine/model.h"
#include "../engine/passes.h"
#include "../ops/op.h"
#include "../sched/split.h"

/* ---- graph building ---- */

static hidp__graph G;

static inline void begin(int64_t opset)
{
    hidp__graph_init(&G);
    G.opset = opset;
}

static inline int add_int(int **arr, int *n, int v)
{
    int *a = realloc(*arr, (size_t)(*n + 1) * sizeof *a);
    if (!a)
        abort();
    a[(*n)++] = v;
    *arr = a;
    return v;
}

static inline int input(const char *name, int ndim, const int64_t *decl)
{
    int v = hidp__graph_value(&G, name);
    G.vals[v].flags |= HIDP__VAL_INPUT;
    G.vals[v].decl = hidp__shape_make(ndim, decl);
    return add_int(&G.inputs, &G.n_inputs, v);
}

static inline void output(const char *name)
{
    int v = hidp__graph_value(&G, name);
    G.vals[v].flags |= HIDP__VAL_OUTPUT;
    add_int(&G.outputs, &G.n_outputs, v);
}

static inline int iconst(const char *name, int ndim, const int64_t *dims, const int64_t *vals)
{
    int v = hidp__graph_value(&G, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t n = hidp__shape_count(&s);
    int64_t *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    memcpy(d, vals, (size_t)n * sizeof *d);
    hidp__graph_set_const(&G, v, HIDP__DT_I64, &s, d);
    return v;
}

static inline int fconst(const char *name, int ndim, const int64_t *dims, const float *vals)
{
    int v = hidp__graph_value(&G, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t n = hidp__shape_count(&s);
    float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    memcpy(d, vals, (size_t)n * sizeof *d);
    hidp__graph_set_const(&G, v, HIDP__DT_F32, &s, d);
    return v;
}

/* Node `op` named after its output `out`, reading the named inputs ("" = omitted). */
static inline hidp__node *node(const char *op, const char *out, int n_in, const char *const *ins)
{
    int in[8], o = hidp__graph_value(&G, out);
    for (int i = 0; i < n_in; i++)
        in[i] = ins[i][0] ? hidp__graph_value(&G, ins[i]) : -1;
    int k = hidp__graph_add_node(&G, out, op, "", in, n_in, &o, 1); /* may move G.nodes */
    return &G.nodes[k];
}
#define NODE(op, out, ...)                                                                    \
    node(op, out, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)),             \
         (const char *[]){__VA_ARGS__})
#define NODE0(op, out) node(op, out, 0, NULL)
#define DIMS(...)                                                                             \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

static inline int find(const char *name)
{
    return hidp__graph_find(&G, name);
}

static inline int op_ready(const char *op_type)
{
    const hidp__op_def *d = hidp__op_find(op_type);
    return d && d->reshape && d->run && d->run_ref;
}

/* Every pair of runtime values alive at the same step occupies disjoint bytes. */
static inline int plan_overlaps(const hidp__graph *g, const hidp__life *life, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const hidp__value *a = &g->vals[life[i].value], *b = &g->vals[life[j].value];
            size_t ab = (size_t)hidp__shape_count(&a->shape) * 4;
            size_t bb = (size_t)hidp__shape_count(&b->shape) * 4;
            int live = life[i].first <= life[j].last && life[j].first <= life[i].last;
            int mem = a->arena_off < b->arena_off + (int64_t)bb &&
                      b->arena_off < a->arena_off + (int64_t)ab;
            bad += live && mem;
        }
    return bad;
}

#endif
