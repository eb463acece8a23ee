/*
 * graph.h - the graph IR: values (named tensors) and nodes (ops), as read from ONNX and then
 * rewritten, shape-bound and planned.
 *
 * Runtime tensors are always fp32. int64 tensors exist only as constants (shape arithmetic),
 * which are folded at prepare time; an op that needs an integer input (Reshape's shape, Pad's
 * pads, Resize's sizes...) reads it from a constant value and fails at reshape if it is not one.
 */
#ifndef HIDP_GRAPH_H
#define HIDP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tensor.h"

/* Element types, numbered as ONNX TensorProto.DataType. Other ONNX integer and bool types are
 * converted to I64, and double/half to F32, when a constant is read. */
enum {
    HIDP__DT_F32 = 1,
    HIDP__DT_I64 = 7
};

/* hidp__value.flags */
enum {
    HIDP__VAL_CONST = 1 << 0,  /* data known before the forward pass (initializer or folded) */
    HIDP__VAL_INPUT = 1 << 1,  /* a runtime graph input */
    HIDP__VAL_OUTPUT = 1 << 2, /* a graph output */
    HIDP__VAL_BORROWED = 1 << 3 /* CONST whose data belongs to another graph (a clone's
                                   constants borrow the original's): never freed here */
};

typedef struct hidp__value {
    char *name;
    hidp__shape shape;     /* bound shape (after prepare; constants: always) */
    hidp__shape decl;      /* declared shape of a graph input; dims < 0 are dynamic */
    int dtype;             /* HIDP__DT_F32 or HIDP__DT_I64 */
    int flags;
    void *data;            /* CONST: owned malloc'd buffer; otherwise NULL, or the arena slot
                              the memory plan gave it */
    int producer;          /* index of the producing node, -1 for inputs and constants */
    int64_t arena_off;     /* byte offset in the arena after planning, -1 if none */
} hidp__value;

/* ONNX AttributeProto.AttributeType numbers. */
enum {
    HIDP__ATTR_FLOAT = 1,
    HIDP__ATTR_INT = 2,
    HIDP__ATTR_STRING = 3,
    HIDP__ATTR_TENSOR = 4,
    HIDP__ATTR_FLOATS = 6,
    HIDP__ATTR_INTS = 7
};

typedef struct hidp__attr {
    char *name;
    int type;              /* HIDP__ATTR_* */
    int64_t i;
    float f;
    char *s;               /* NUL-terminated copy */
    int n;                 /* element count of ints / floats */
    int64_t *ints;
    float *floats;
    int tensor;            /* TENSOR: index of a constant value holding it, else -1 */
} hidp__attr;

/* Activation fused into the node that produces its input (applied to that node's output). */
enum {
    HIDP__ACT_NONE = 0,
    HIDP__ACT_RELU,
    HIDP__ACT_CLIP,         /* alpha = min, beta = max */
    HIDP__ACT_LEAKY_RELU,   /* alpha */
    HIDP__ACT_SIGMOID,
    HIDP__ACT_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
    HIDP__ACT_HARD_SWISH,   /* x * max(0, min(1, x / 6 + 0.5)) */
    HIDP__ACT_SILU          /* x * sigmoid(x): ONNX's Sigmoid + Mul pair, fused at load */
};

typedef struct hidp__act {
    int kind;
    float alpha, beta;
} hidp__act;

struct hidp__op_def;

typedef struct hidp__node {
    char *name;            /* ONNX node name, or "<op_type>_<index>" when the file has none */
    char *op_type;
    char *domain;          /* "" for the default ONNX domain */
    const struct hidp__op_def *op; /* NULL: unsupported (or handled only by constant folding) */
    int n_in, n_out;
    int *in, *out;         /* value indices; -1 for an omitted optional input */
    int n_attrs;
    hidp__attr *attrs;
    hidp__act act;         /* fused activation */
    void *params;          /* op-private state from op->parse; released with op->destroy if the
                              op has one, else with free() */
    int dead;              /* removed by a rewrite, or folded into a constant */
    double flops;          /* set by op->reshape; a multiply-add counts 2 */
    int64_t weights;       /* weight elements, set by op->reshape (for `hidp info`) */
    size_t scratch;        /* floats of scratch one worker needs for any slice, set by reshape */
    int split_rows;        /* set by reshape: workers are better given bands of output rows
                              than ranges of channels (see engine/exec_plan.c) */
    int takes_residual;    /* set by reshape: the op can take a 4th input laid out like its
                              output and add it before its activation (engine/residual.c) */
    int rows_with_residual; /* set by reshape: split_rows is to be set when a residual is
                              folded in (engine/residual.c), the node then ending a block */
    int row_align;         /* set by reshape: row bands should start at multiples of this
                              (Winograd's 2-row tiles); 0 or 1: any row */
    int channel_local;     /* set by reshape: output channel c reads only channel c of input 0
                              (all its rows), e.g. a depthwise conv with one filter per channel;
                              the executor then lets each worker go on from its own slice of
                              the producer without a barrier (engine/exec_plan.c) */
    int rows_in_span;      /* set by reshape: output rows [h0, h1) read rows [h0 * rows_in_stride
                              - rows_in_pad, (h1 - 1) * rows_in_stride - rows_in_pad +
                              rows_in_span) of input 0 (clipped to it), in all its channels or,
                              when channel_local, in the same ones; 0: not known (all of it).
                              Lets a worker go on to the next node without a barrier when it
                              wrote all it reads (engine/exec_plan.c) */
    int rows_in_stride, rows_in_pad;
} hidp__node;

typedef struct hidp__graph {
    hidp__value *vals;
    int n_vals, cap_vals;
    hidp__node *nodes;     /* in topological order once hidp__graph_sort succeeded */
    int n_nodes, cap_nodes;
    int *inputs;           /* runtime inputs, in file order */
    int n_inputs;
    int *outputs;
    int n_outputs;
    int64_t opset;         /* default-domain opset version */
} hidp__graph;

void hidp__graph_init(hidp__graph *g);
void hidp__graph_free(hidp__graph *g);

/* Makes dst (uninitialised) a deep copy of src's values, nodes, attributes and inputs/outputs,
 * with the same indices. Constant data is not copied: dst's constants borrow src's
 * (HIDP__VAL_BORROWED), so src must outlive dst and stay unchanged. Node params are not copied
 * (dst's are NULL: parse again). On failure dst is left empty (freed). */
int hidp__graph_clone(hidp__graph *dst, const hidp__graph *src, hidp__err *err);

/* Index of the value called name, or -1. */
int hidp__graph_find(const hidp__graph *g, const char *name);
/* Whether the bytes of runtime values x and y overlap (the memory plan reuses dead values'
 * bytes); 0 when either has no data yet. */
int hidp__values_overlap(const hidp__value *x, const hidp__value *y);
/* Index of the value called name, created (dtype F32, no flags) if absent; -1 if out of memory. */
int hidp__graph_value(hidp__graph *g, const char *name);
/* Adds a value with a fresh unique name built from base; returns its index or -1. */
int hidp__graph_new_value(hidp__graph *g, const char *base);
/* Appends a node (name, op_type, domain copied; in/out arrays copied); returns index or -1. */
int hidp__graph_add_node(hidp__graph *g, const char *name, const char *op_type,
                         const char *domain, const int *in, int n_in, const int *out, int n_out);
/* Makes value v a constant that owns data (malloc'd, taken over), with the given shape. */
void hidp__graph_set_const(hidp__graph *g, int v, int dtype, const hidp__shape *shape, void *data);

/* Sorts the live nodes topologically (stable for a file already in order). Fails with
 * HIDP_EFORMAT naming a value that is used but never produced, or a cycle. */
int hidp__graph_sort(hidp__graph *g, hidp__err *err);

/* Number of live nodes that read value v, and whether it is a graph output. */
int hidp__graph_uses(const hidp__graph *g, int v);
/* Makes every live node that reads value `from` read `to` instead (graph outputs too). */
void hidp__graph_replace_uses(hidp__graph *g, int from, int to);

/* Attribute look-up; NULL if absent. */
const hidp__attr *hidp__node_attr(const hidp__node *n, const char *name);
int64_t hidp__attr_int(const hidp__node *n, const char *name, int64_t dflt);
float hidp__attr_float(const hidp__node *n, const char *name, float dflt);
/* NULL if absent. */
const char *hidp__attr_string(const hidp__node *n, const char *name);
/* Element count (and *out pointing at them), or -1 if absent. */
int hidp__attr_ints(const hidp__node *n, const char *name, const int64_t **out);
int hidp__attr_floats(const hidp__node *n, const char *name, const float **out);

/* Attribute setters (used by the ONNX reader, rewrites and tests). Each replaces an attribute
 * of the same name; 0 on success, HIDP_ENOMEM on failure. */
int hidp__node_set_int(hidp__node *n, const char *name, int64_t v);
int hidp__node_set_float(hidp__node *n, const char *name, float v);
int hidp__node_set_string(hidp__node *n, const char *name, const char *v);
int hidp__node_set_ints(hidp__node *n, const char *name, const int64_t *v, int count);
int hidp__node_set_floats(hidp__node *n, const char *name, const float *v, int count);
/* Adds a TENSOR attribute pointing at constant value `value`. */
int hidp__node_set_tensor(hidp__node *n, const char *name, int value);

/* Input i of node n as a value, or NULL if omitted / out of range. */
static inline hidp__value *hidp__in(const hidp__graph *g, const hidp__node *n, int i)
{
    return (i < n->n_in && n->in[i] >= 0) ? &g->vals[n->in[i]] : NULL;
}
static inline hidp__value *hidp__out(const hidp__graph *g, const hidp__node *n, int i)
{
    return (i < n->n_out && n->out[i] >= 0) ? &g->vals[n->out[i]] : NULL;
}
/* Float data of input i (constant or planned activation). */
static inline const float *hidp__in_f32(const hidp__graph *g, const hidp__node *n, int i)
{
    return (const float *)g->vals[n->in[i]].data;
}
static inline float *hidp__out_f32(const hidp__graph *g, const hidp__node *n, int i)
{
    return (float *)g->vals[n->out[i]].data;
}

#endif
