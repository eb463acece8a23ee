/*
 * test_onnx.c - the ONNX reader and writer: round trips of graphs built with the graph API,
 * hand-made protobuf for the encodings the writer does not produce (typed data, unpacked
 * repeated fields, attributes without a type), the real models in $HIDP_FIXTURES, and broken
 * files of every kind, which must fail cleanly with a message naming the source.
 *
 * `test_onnx --make-seeds DIR` writes the two small models of the fuzz corpus (test/fuzz/corpus).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "npy.h"
#include "onnx.h"
#include "pb.h"
#include "tap.h"

static char tmpdir[256];

static int add_const(hidp__graph *g, const char *name, int dtype, int ndim, const int64_t *dims)
{
    int v = hidp__graph_value(g, name);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int64_t n = hidp__shape_count(&s);
    size_t esz = dtype == HIDP__DT_F32 ? 4 : 8;
    uint8_t *d = malloc((size_t)(n ? n : 1) * esz);
    for (int64_t i = 0; i < n; i++) {
        if (dtype == HIDP__DT_F32)
            ((float *)d)[i] = (float)(i % 7) * 0.25f - 0.5f;
        else
            ((int64_t *)d)[i] = i * 1000003 - 7;
    }
    hidp__graph_set_const(g, v, dtype, &s, d);
    return v;
}

/* A small graph with every attribute kind, I64 and F32 constants, a tensor attribute, an
 * omitted input, a custom domain, a dead node and a dynamic input dim. */
static void build_graph(hidp__graph *g)
{
    hidp__graph_init(g);
    g->opset = 13;
    int x = hidp__graph_value(g, "x");
    g->vals[x].flags |= HIDP__VAL_INPUT;
    g->vals[x].decl = hidp__shape_make(4, (int64_t[]){-1, 3, 8, -1});
    int w = add_const(g, "conv1.weight", HIDP__DT_F32, 4, (int64_t[]){2, 3, 3, 3});
    int b = add_const(g, "conv1.bias", HIDP__DT_F32, 1, (int64_t[]){2});
    int shp = add_const(g, "shape", HIDP__DT_I64, 1, (int64_t[]){2});
    add_const(g, "unused", HIDP__DT_F32, 1, (int64_t[]){3});
    int y = hidp__graph_value(g, "y"), r = hidp__graph_value(g, "r");
    int z = hidp__graph_value(g, "z"), c = hidp__graph_value(g, "c");
    int o = hidp__graph_value(g, "out"), d = hidp__graph_value(g, "dead_out");
    int n = hidp__graph_add_node(g, "conv1", "Conv", "", (int[]){x, w, b}, 3, &y, 1);
    hidp__node_set_ints(&g->nodes[n], "pads", (int64_t[]){1, 1, 1, 1}, 4);
    hidp__node_set_ints(&g->nodes[n], "strides", (int64_t[]){1, 1}, 2);
    hidp__node_set_int(&g->nodes[n], "group", 1);
    hidp__node_set_int(&g->nodes[n], "big", -(INT64_C(1) << 62));
    hidp__node_set_float(&g->nodes[n], "alpha", 0.125f);
    hidp__node_set_floats(&g->nodes[n], "scales", (float[]){1.5f, -2.0f, 1e-30f}, 3);
    hidp__node_set_ints(&g->nodes[n], "empty", NULL, 0);
    hidp__node_set_string(&g->nodes[n], "auto_pad", "NOTSET");
    hidp__graph_add_node(g, "", "Relu", "", &y, 1, &r, 1);
    n = hidp__graph_add_node(g, "k", "Constant", "", NULL, 0, &c, 1);
    int tv = add_const(g, "k_value", HIDP__DT_I64, 0, NULL);
    hidp__node_set_tensor(&g->nodes[n], "value", tv);
    hidp__graph_add_node(g, "reshape", "Reshape", "", (int[]){r, shp}, 2, &z, 1);
    n = hidp__graph_add_node(g, "dead", "Relu", "", &z, 1, &d, 1);
    g->nodes[n].dead = 1;
    hidp__graph_add_node(g, "clip", "Clip", "", (int[]){z, -1, c}, 3, &o, 1);
    hidp__graph_add_node(g, "custom", "Frob", "com.example", &o, 1, (int[]){-1}, 1);
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    g->n_inputs = 1;
    g->outputs = malloc(2 * sizeof(int));
    g->outputs[0] = o;
    g->outputs[1] = shp; /* a constant output */
    g->n_outputs = 2;
    g->vals[o].flags |= HIDP__VAL_OUTPUT;
    g->vals[shp].flags |= HIDP__VAL_OUTPUT;
}

static const char *vname(const hidp__graph *g, int v)
{
    return v >= 0 ? g->vals[v].name : "";
}

static int attr_equal(const hidp__graph *ga, const hidp__attr *a, const hidp__graph *gb,
                      const hidp__attr *b);

static int const_equal(const hidp__value *a, const hidp__value *b)
{
    if (!(a->flags & HIDP__VAL_CONST) || !(b->flags & HIDP__VAL_CONST) || a->dtype != b->dtype ||
        !hidp__shape_equal(&a->shape, &b->shape))
        return 0;
    size_t n = (size_t)hidp__shape_count(&a->shape) * (a->dtype == HIDP__DT_F32 ? 4 : 8);
    return n == 0 || memcmp(a->data, b->data, n) == 0;
}

/* Compares the live content of a (as written) with b (as read back); says what differs. */
static int graph_equiv(const hidp__graph *a, const hidp__graph *b, char *why, size_t len)
{
    int bi = 0;
    if (a->opset != b->opset)
        return snprintf(why, len, "opset %lld vs %lld", (long long)a->opset,
                        (long long)b->opset), 0;
    for (int i = 0; i < a->n_nodes; i++) {
        const hidp__node *x = &a->nodes[i];
        if (x->dead)
            continue;
        if (bi >= b->n_nodes)
            return snprintf(why, len, "node '%s' missing", x->name), 0;
        const hidp__node *y = &b->nodes[bi++];
        if (strcmp(x->name, y->name) || strcmp(x->op_type, y->op_type) ||
            strcmp(x->domain, y->domain) || x->n_in != y->n_in || x->n_out != y->n_out ||
            x->n_attrs != y->n_attrs || y->op)
            return snprintf(why, len, "node '%s' vs '%s'", x->name, y->name), 0;
        for (int k = 0; k < x->n_in; k++)
            if (strcmp(vname(a, x->in[k]), vname(b, y->in[k])))
                return snprintf(why, len, "node '%s' input %d", x->name, k), 0;
        for (int k = 0; k < x->n_out; k++)
            if (strcmp(vname(a, x->out[k]), vname(b, y->out[k])))
                return snprintf(why, len, "node '%s' output %d", x->name, k), 0;
        for (int k = 0; k < x->n_attrs; k++) {
            const hidp__attr *ya = hidp__node_attr(y, x->attrs[k].name);
            if (!ya || !attr_equal(a, &x->attrs[k], b, ya))
                return snprintf(why, len, "node '%s' attr '%s'", x->name, x->attrs[k].name), 0;
        }
        for (int k = 0; k < x->n_in; k++) {
            int va = x->in[k], vb = y->in[k];
            if (va >= 0 && (a->vals[va].flags & HIDP__VAL_CONST) &&
                !const_equal(&a->vals[va], &b->vals[vb]))
                return snprintf(why, len, "constant '%s'", a->vals[va].name), 0;
        }
    }
    if (bi != b->n_nodes)
        return snprintf(why, len, "%d nodes vs %d", bi, b->n_nodes), 0;
    if (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs)
        return snprintf(why, len, "inputs/outputs count"), 0;
    for (int i = 0; i < a->n_inputs; i++) {
        const hidp__value *x = &a->vals[a->inputs[i]], *y = &b->vals[b->inputs[i]];
        if (strcmp(x->name, y->name) || !(y->flags & HIDP__VAL_INPUT) ||
            !hidp__shape_equal(&x->decl, &y->decl))
            return snprintf(why, len, "input '%s'", x->name), 0;
    }
    for (int i = 0; i < a->n_outputs; i++) {
        const hidp__value *x = &a->vals[a->outputs[i]], *y = &b->vals[b->outputs[i]];
        if (strcmp(x->name, y->name) || !(y->flags & HIDP__VAL_OUTPUT) ||
            ((x->flags & HIDP__VAL_CONST) && !const_equal(x, y)))
            return snprintf(why, len, "output '%s'", x->name), 0;
    }
    return 1;
}

static int attr_equal(const hidp__graph *ga, const hidp__attr *a, const hidp__graph *gb,
                      const hidp__attr *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case HIDP__ATTR_FLOAT: return memcmp(&a->f, &b->f, 4) == 0;
    case HIDP__ATTR_INT: return a->i == b->i;
    case HIDP__ATTR_STRING: return strcmp(a->s, b->s) == 0;
    case HIDP__ATTR_TENSOR: return const_equal(&ga->vals[a->tensor], &gb->vals[b->tensor]);
    case HIDP__ATTR_FLOATS:
        return a->n == b->n && (!a->n || !memcmp(a->floats, b->floats, 4 * (size_t)a->n));
    case HIDP__ATTR_INTS:
        return a->n == b->n && (!a->n || !memcmp(a->ints, b->ints, 8 * (size_t)a->n));
    }
    return 0;
}

static void *write_graph(const hidp__graph *g, size_t *size)
{
    void *data = NULL;
    hidp__err err = {0};
    if (hidp__onnx_write(g, &data, size, &err))
        tap_diag("write: %s", err.msg);
    return data;
}

static void test_round_trip(void)
{
    hidp__graph a, b;
    hidp__err err = {0};
    size_t size;
    char why[256] = "";
    build_graph(&a);
    void *data = write_graph(&a, &size);
    hidp__graph_init(&b);
    int rc = hidp__onnx_read(data, size, "rt.onnx", &b, &err);
    TAP_EQ_INT(rc, 0, "round trip: read back what was written (%s)", err.msg);
    tap_ok(graph_equiv(&a, &b, why, sizeof why), "round trip: equivalent graph (%s)", why);
    int un = hidp__graph_find(&b, "unused"), dead = hidp__graph_find(&b, "dead_out");
    tap_ok(un < 0 && dead < 0, "round trip: dead node and unused constant left out");
    int x = hidp__graph_find(&b, "x");
    TAP_EQ_INT(x >= 0 ? b.vals[x].decl.d[3] : 0, -1, "round trip: dynamic input dim is -1");
    int gen = -1;
    for (int i = 0; i < b.n_nodes; i++)
        if (!strcmp(b.nodes[i].op_type, "Relu"))
            gen = i;
    tap_ok(gen >= 0 && !strcmp(b.nodes[gen].name, "Relu_1"), "round trip: generated name kept");
    /* Write the read-back graph again: the bytes must be identical. */
    size_t size2;
    void *data2 = write_graph(&b, &size2);
    tap_ok(data2 && size2 == size && !memcmp(data, data2, size), "round trip: stable bytes");
    char path[300];
    snprintf(path, sizeof path, "%s/rt.onnx", tmpdir);
    hidp__graph_free(&b);
    hidp__graph_init(&b);
    rc = hidp__onnx_write_file(&a, path, &err);
    if (!rc)
        rc = hidp__onnx_read_file(path, &b, &err);
    tap_ok(rc == 0 && graph_equiv(&a, &b, why, sizeof why), "round trip through a file (%s)",
           err.msg);
    unlink(path);
    free(data);
    free(data2);
    hidp__graph_free(&a);
    hidp__graph_free(&b);
}

/* Names are kept byte for byte, however long or odd. */
static void test_long_names(void)
{
    hidp__graph a, b;
    hidp__err err = {0};
    char name[400];
    size_t size;
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    name[200] = '\x01';
    name[201] = '\xc3'; /* UTF-8 e acute */
    name[202] = '\xa9';
    hidp__graph_init(&a);
    a.opset = 17;
    int w = add_const(&a, name, HIDP__DT_F32, 2, (int64_t[]){2, 2});
    int y = hidp__graph_value(&a, "y");
    hidp__graph_add_node(&a, name, "Identity", "", &w, 1, &y, 1);
    a.outputs = malloc(sizeof(int));
    a.outputs[0] = y;
    a.n_outputs = 1;
    void *data = write_graph(&a, &size);
    hidp__graph_init(&b);
    int rc = hidp__onnx_read(data, size, "names.onnx", &b, &err);
    int v = rc ? -1 : hidp__graph_find(&b, name);
    tap_ok(v >= 0 && b.n_nodes == 1 && !strcmp(b.nodes[0].name, name) &&
               const_equal(&a.vals[w], &b.vals[v]),
           "399-byte names with control and UTF-8 bytes round trip (%s)", err.msg);
    free(data);
    hidp__graph_free(&a);
    hidp__graph_free(&b);
}

/* ---- Hand-made protobuf ---- */

/* A model around graph fields gbody (opset 0: no opset_import). */
static void wrap(hidp__pbw *m, const hidp__pbw *gbody, int64_t opset)
{
    hidp__pbw_int(m, 1, 7);
    if (opset) {
        size_t k = hidp__pbw_begin(m, 8);
        hidp__pbw_string(m, 1, "");
        hidp__pbw_int(m, 2, opset);
        hidp__pbw_end(m, k);
    }
    hidp__pbw_bytes(m, 7, gbody->buf, gbody->len);
}

/* Reads model m as "hand.onnx"; returns the code, leaves g filled (caller frees). */
static int read_hand(const hidp__pbw *m, hidp__graph *g, hidp__err *err)
{
    hidp__graph_init(g);
    hidp__err_clear(err);
    return hidp__onnx_read(m->buf, m->len, "hand.onnx", g, err);
}

/* A model with typed (not raw) data of several types, unpacked repeated fields, and a node
 * whose attributes have no type field: what other exporters write. */
static void build_typed(hidp__pbw *m)
{
    hidp__pbw gb = {0};
    size_t t;
    /* FLOAT, float_data unpacked, dims unpacked */
    t = hidp__pbw_begin(&gb, 5);
    hidp__pbw_int(&gb, 1, 2);
    hidp__pbw_int(&gb, 2, 1);
    hidp__pbw_float(&gb, 4, 1.5f);
    hidp__pbw_float(&gb, 4, -3.0f);
    hidp__pbw_string(&gb, 8, "f");
    hidp__pbw_end(&gb, t);
    /* INT8 in int32_data, packed, negative values */
    t = hidp__pbw_begin(&gb, 5);
    hidp__pbw_packed_int64(&gb, 1, (int64_t[]){3}, 1);
    hidp__pbw_int(&gb, 2, 3);
    hidp__pbw_packed_int64(&gb, 5, (int64_t[]){-128, 0, 127}, 3);
    hidp__pbw_string(&gb, 8, "i8");
    hidp__pbw_end(&gb, t);
    /* DOUBLE in double_data (packed) */
    t = hidp__pbw_begin(&gb, 5);
    hidp__pbw_int(&gb, 2, 11);
    hidp__pbw_int(&gb, 1, 2);
    uint8_t dbl[16];
    double dv[2] = {0.25, -1e10};
    for (int i = 0; i < 2; i++) {
        uint64_t u;
        memcpy(&u, &dv[i], 8);
        hidp__put_le64(dbl + 8 * i, u);
    }
    hidp__pbw_bytes(&gb, 10, dbl, 16);
    hidp__pbw_string(&gb, 8, "f64");
    hidp__pbw_end(&gb, t);
    /* FLOAT16 raw (1.0, -2.0, 65504, smallest subnormal), UINT8 raw, BOOL raw, INT64 typed */
    t = hidp__pbw_begin(&gb, 5);
    hidp__pbw_int(&gb, 1, 4);
    hidp__pbw_int(&gb, 2, 10);
    hidp__pbw_bytes(&gb, 9, (uint8_t[]){0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00}, 8);
    hidp__pbw_string(&gb, 8, "f16");
    hidp__pbw_end(&gb, t);
    t = hidp__pbw_begin(&gb, 5);
    hidp__pbw_int(&gb, 1, 2);
    hidp__pbw_int(&gb, 2, 2);
    hidp__pbw_bytes(&gb, 9, (uint8_t[]){200, 7}, 2);
    hidp__pbw_string(&gb, 8, "u8");
    hidp__pbw_end(&gb, t);
    t = hidp__pbw_begin(&gb, 5);
    hidp__pbw_int(&gb, 2, 7);
    hidp__pbw_int(&gb, 1, 1);
    hidp__pbw_int(&gb, 7, -5);
    hidp__pbw_string(&gb, 8, "i64");
    hidp__pbw_end(&gb, t);
    /* A node whose attributes have no type field. */
    t = hidp__pbw_begin(&gb, 1);
    hidp__pbw_string(&gb, 4, "Foo");
    hidp__pbw_string(&gb, 1, "f");
    hidp__pbw_string(&gb, 2, "y");
    size_t a = hidp__pbw_begin(&gb, 5);
    hidp__pbw_string(&gb, 1, "i");
    hidp__pbw_int(&gb, 3, 42);
    hidp__pbw_end(&gb, a);
    a = hidp__pbw_begin(&gb, 5);
    hidp__pbw_string(&gb, 1, "ints");
    hidp__pbw_int(&gb, 8, 5);
    hidp__pbw_int(&gb, 8, -6);
    hidp__pbw_end(&gb, a);
    a = hidp__pbw_begin(&gb, 5);
    hidp__pbw_string(&gb, 1, "s");
    hidp__pbw_string(&gb, 4, "abc");
    hidp__pbw_end(&gb, a);
    hidp__pbw_end(&gb, t);
    wrap(m, &gb, 9);
    hidp__pbw_free(&gb);
}

static void test_typed_data(void)
{
    hidp__pbw m = {0};
    hidp__graph g;
    hidp__err err;
    build_typed(&m);
    int rc = read_hand(&m, &g, &err);
    TAP_EQ_INT(rc, 0, "typed data: reads (%s)", err.msg);
    if (!rc) {
        const hidp__value *f = &g.vals[hidp__graph_find(&g, "f")];
        const hidp__value *i8 = &g.vals[hidp__graph_find(&g, "i8")];
        const hidp__value *f64 = &g.vals[hidp__graph_find(&g, "f64")];
        const hidp__value *f16 = &g.vals[hidp__graph_find(&g, "f16")];
        const hidp__value *u8 = &g.vals[hidp__graph_find(&g, "u8")];
        const hidp__value *i64 = &g.vals[hidp__graph_find(&g, "i64")];
        const float *ff = f->data, *fd = f64->data, *fh = f16->data;
        const int64_t *ii = i8->data, *iu = u8->data, *il = i64->data;
        tap_ok(f->dtype == HIDP__DT_F32 && ff[0] == 1.5f && ff[1] == -3.0f,
               "typed data: unpacked float_data");
        tap_ok(i8->dtype == HIDP__DT_I64 && ii[0] == -128 && ii[1] == 0 && ii[2] == 127,
               "typed data: INT8 in int32_data -> I64");
        tap_ok(fd[0] == 0.25f && fd[1] == -1e10f, "typed data: DOUBLE -> F32");
        tap_ok(fh[0] == 1.0f && fh[1] == -2.0f && fh[2] == 65504.0f && fh[3] == 0x1p-24f,
               "typed data: FLOAT16 raw -> F32 (got %g %g %g %g)", fh[0], fh[1], fh[2], fh[3]);
        tap_ok(iu[0] == 200 && iu[1] == 7 && il[0] == -5, "typed data: UINT8 raw, INT64 typed");
        const hidp__node *n = &g.nodes[0];
        const int64_t *iv;
        tap_ok(g.n_nodes == 1 && hidp__attr_int(n, "i", 0) == 42 &&
                   hidp__attr_ints(n, "ints", &iv) == 2 && iv[1] == -6 &&
                   !strcmp(hidp__attr_string(n, "s"), "abc"),
               "attributes without a type field");
        TAP_EQ_INT(g.opset, 9, "opset 9 read");
    }
    hidp__graph_free(&g);
    hidp__pbw_free(&m);
}

/* ---- Broken files ---- */

static void expect_fail(const void *data, size_t size, int code, const char *needle,
                        const char *what)
{
    hidp__graph g;
    hidp__err err = {0};
    hidp__graph_init(&g);
    int rc = hidp__onnx_read(data, size, "bad.onnx", &g, &err);
    hidp__graph_free(&g);
    int ok = rc == code && strstr(err.msg, "bad.onnx") && (!needle || strstr(err.msg, needle));
    if (!tap_ok(ok, "%s: fails with '%s'", what, hidp_strerror(code)))
        tap_diag("  got %d: %s", rc, err.msg);
}

static void init_tensor(hidp__pbw *b, const char *name, int dtype, const int64_t *dims, int nd)
{
    hidp__pbw_packed_int64(b, 1, dims, (size_t)nd);
    hidp__pbw_int(b, 2, dtype);
    hidp__pbw_string(b, 8, name);
}

static void input_info(hidp__pbw *b, const char *name, int elem, int ndim)
{
    size_t v = hidp__pbw_begin(b, 11), t = 0, tt = 0, sh = 0;
    hidp__pbw_string(b, 1, name);
    t = hidp__pbw_begin(b, 2);
    tt = hidp__pbw_begin(b, 1);
    hidp__pbw_int(b, 1, elem);
    sh = hidp__pbw_begin(b, 2);
    for (int i = 0; i < ndim; i++) {
        size_t d = hidp__pbw_begin(b, 1);
        hidp__pbw_int(b, 1, 2);
        hidp__pbw_end(b, d);
    }
    hidp__pbw_end(b, sh);
    hidp__pbw_end(b, tt);
    hidp__pbw_end(b, t);
    hidp__pbw_end(b, v);
}

static void test_bad_hand(void)
{
    static const struct {
        int code;
        const char *needle, *what;
    } cases[] = {
        {HIDP_EFORMAT, "node 'conv1'", "attribute length past the node's end"},
        {HIDP_EFORMAT, "initializer 'w': raw_data has 20 bytes", "short raw_data"},
        {HIDP_EUNSUPPORTED, "external data not supported", "external data"},
        {HIDP_EFORMAT, "no op_type", "node without op_type"},
        {HIDP_EUNSUPPORTED, "input 'ids' has type int64; hidp takes float32", "int64 input"},
        {HIDP_EUNSUPPORTED, "opset 5", "opset 5"},
        {HIDP_EFORMAT, "no opset_import", "no opset_import"},
        {HIDP_EFORMAT, "wire type", "group wire type in a node"},
        {HIDP_EFORMAT, "varint", "11-byte varint"},
        {HIDP_EFORMAT, "overflows", "dims product overflow"},
        {HIDP_EFORMAT, "negative dim", "negative dim"},
        {HIDP_EFORMAT, "no graph", "model without a graph"},
        {HIDP_EFORMAT, "has no name", "attribute without a name"},
        {HIDP_EFORMAT, "initializer #0: has no name", "initializer without a name"},
        {HIDP_EFORMAT, "graph input #0: has no name", "graph input without a name"},
        {HIDP_EFORMAT, "NUL", "NUL byte in a node name"},
        {HIDP_EFORMAT, "attribute 'value'", "tensor attribute with short data"},
        {HIDP_EFORMAT, "packed", "packed floats of 5 bytes"},
        {HIDP_EUNSUPPORTED, "9 dims", "9-dim input"},
        {HIDP_EFORMAT, "has 1 values, expected 2", "typed data too short"},
        {HIDP_EFORMAT, "truncated or corrupted", "graph length past the end"},
        {HIDP_EUNSUPPORTED, "data type 8 (string)", "string tensor"},
    };
    for (int c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        hidp__pbw b = {0}, m = {0};
        size_t t, a;
        int64_t opset = 13;
        switch (c) {
        case 0:
            t = hidp__pbw_begin(&b, 1);
            hidp__pbw_string(&b, 3, "conv1");
            hidp__pbw_string(&b, 4, "Conv");
            hidp__pbw_tag(&b, 5, HIDP__PB_LEN);
            hidp__pbw_varint(&b, 100);
            hidp__pbw_string(&b, 1, "x");
            hidp__pbw_end(&b, t);
            break;
        case 1: case 2: case 19: case 21:
            t = hidp__pbw_begin(&b, 5);
            init_tensor(&b, "w", c == 21 ? 8 : 1, (int64_t[]){2, 3}, c == 19 ? 1 : 2);
            if (c == 1)
                hidp__pbw_bytes(&b, 9, "01234567890123456789", 20);
            if (c == 2)
                hidp__pbw_int(&b, 14, 1);
            if (c == 19)
                hidp__pbw_float(&b, 4, 1.0f);
            hidp__pbw_end(&b, t);
            break;
        case 3:
            t = hidp__pbw_begin(&b, 1);
            hidp__pbw_string(&b, 3, "n");
            hidp__pbw_end(&b, t);
            break;
        case 4: input_info(&b, "ids", 7, 2); break;
        case 5: opset = 5; break;
        case 6: opset = 0; break;
        case 7: case 8: case 15:
            t = hidp__pbw_begin(&b, 1);
            hidp__pbw_string(&b, 4, "Relu");
            if (c == 7)
                hidp__pbw_tag(&b, 9, 3);
            if (c == 8) {
                hidp__pbw_tag(&b, 9, HIDP__PB_VARINT);
                memcpy(hidp__pbw_reserve(&b, 11), "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                       11);
            }
            if (c == 15)
                hidp__pbw_bytes(&b, 3, "a\0b", 3);
            hidp__pbw_end(&b, t);
            break;
        case 9: case 10:
            t = hidp__pbw_begin(&b, 5);
            init_tensor(&b, "w", 1, c == 9 ? (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40}
                                           : (int64_t[]){2, -3}, 2);
            hidp__pbw_end(&b, t);
            break;
        case 12: case 16: case 17:
            t = hidp__pbw_begin(&b, 1);
            hidp__pbw_string(&b, 3, "k");
            hidp__pbw_string(&b, 4, "Constant");
            a = hidp__pbw_begin(&b, 5);
            if (c != 12)
                hidp__pbw_string(&b, 1, "value");
            if (c == 17) {
                hidp__pbw_tag(&b, 7, HIDP__PB_LEN);
                hidp__pbw_varint(&b, 5);
                memcpy(hidp__pbw_reserve(&b, 5), "abcde", 5);
            } else {
                size_t tt = hidp__pbw_begin(&b, 5);
                init_tensor(&b, "", 1, (int64_t[]){3}, 1);
                hidp__pbw_bytes(&b, 9, "12345678", 8);
                hidp__pbw_end(&b, tt);
            }
            hidp__pbw_end(&b, a);
            hidp__pbw_end(&b, t);
            break;
        case 13:
            t = hidp__pbw_begin(&b, 5);
            hidp__pbw_int(&b, 2, 1);
            hidp__pbw_end(&b, t);
            break;
        case 14: input_info(&b, "", 1, 2); break;
        case 18: input_info(&b, "x", 1, 9); break;
        }
        if (c == 11) {
            hidp__pbw_int(&m, 1, 8);
            hidp__pbw_string(&m, 2, "x");
        } else if (c == 20) {
            hidp__pbw_int(&m, 1, 8);
            hidp__pbw_tag(&m, 7, HIDP__PB_LEN);
            hidp__pbw_varint(&m, 1000);
            hidp__pbw_string(&m, 1, "node");
        } else {
            wrap(&m, &b, opset);
        }
        expect_fail(m.buf, m.len, cases[c].code, cases[c].needle, cases[c].what);
        hidp__pbw_free(&b);
        hidp__pbw_free(&m);
    }
}

static void test_bad_bytes(void)
{
    expect_fail("", 0, HIDP_EFORMAT, "is not an ONNX model (empty", "empty file");
    const char *text = "ir_version: 8\ngraph {\n  node { op_type: \"Relu\" }\n}\n";
    expect_fail(text, strlen(text), HIDP_EFORMAT, "is not an ONNX model", "a text file");
    /* Random bytes: each buffer must fail, whatever it happens to look like. */
    uint32_t s = 12345;
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        uint8_t buf[512];
        size_t n = 1 + (size_t)(i * 37 % 511);
        for (size_t k = 0; k < n; k++) {
            s = s * 1103515245u + 12345u;
            buf[k] = (uint8_t)(s >> 16);
        }
        hidp__graph g;
        hidp__err err = {0};
        hidp__graph_init(&g);
        int rc = hidp__onnx_read(buf, n, "rand.onnx", &g, &err);
        bad += rc != HIDP_EFORMAT || !strstr(err.msg, "rand.onnx");
        hidp__graph_free(&g);
    }
    TAP_EQ_INT(bad, 0, "200 random buffers all fail with EFORMAT naming the source");

    /* A .npy file is recognised as such. */
    char path[300];
    snprintf(path, sizeof path, "%s/a.npy", tmpdir);
    hidp__err err = {0};
    hidp__graph g;
    hidp__graph_init(&g);
    int rc = hidp__npy_save(path, (float[]){1, 2, 3}, (int64_t[]){3}, 1, &err);
    if (!rc)
        rc = hidp__onnx_read_file(path, &g, &err);
    tap_ok(rc == HIDP_EFORMAT && strstr(err.msg, "a.npy") && strstr(err.msg, ".npy file"),
           "a .npy file is not an ONNX model (%s)", err.msg);
    hidp__graph_free(&g);
    unlink(path);

    /* Every truncation of a valid model fails cleanly. */
    hidp__graph a;
    size_t size;
    build_graph(&a);
    uint8_t *data = write_graph(&a, &size);
    int wrong = 0;
    for (size_t n = 0; data && n < size; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        memcpy(copy, data, n);
        hidp__graph_init(&g);
        hidp__err_clear(&err);
        rc = hidp__onnx_read(copy, n, "cut.onnx", &g, &err);
        if (rc != HIDP_EFORMAT || !strstr(err.msg, "cut.onnx")) {
            if (!wrong++)
                tap_diag("  cut at %zu: %d %s", n, rc, err.msg);
        }
        hidp__graph_free(&g);
        free(copy);
    }
    TAP_EQ_INT(wrong, 0, "all %zu truncations of a model fail with EFORMAT", size);
    free(data);
    hidp__graph_free(&a);

    snprintf(path, sizeof path, "%s/missing.onnx", tmpdir);
    hidp__graph_init(&g);
    rc = hidp__onnx_read_file(path, &g, &err);
    tap_ok(rc == HIDP_EIO && strstr(err.msg, "missing.onnx") && strstr(err.msg, "No such file"),
           "missing file: EIO (%s)", err.msg);
    rc = hidp__onnx_read_file(tmpdir, &g, &err);
    tap_ok(rc == HIDP_EIO && strstr(err.msg, tmpdir), "a directory: EIO (%s)", err.msg);
    snprintf(path, sizeof path, "%s/no/such/dir/x.onnx", tmpdir);
    build_graph(&a);
    rc = hidp__onnx_write_file(&a, path, &err);
    tap_ok(rc == HIDP_EIO && strstr(err.msg, path), "unwritable output: EIO (%s)", err.msg);
    hidp__graph_free(&a);
    hidp__graph_free(&g);
}

/* ---- Fixtures ---- */

static int count_op(const hidp__graph *g, const char *op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !strcmp(g->nodes[i].op_type, op);
    return n;
}

static void test_fixture(const char *dir, const char *name, int min_convs, int64_t hw)
{
    char path[1024], why[256] = "";
    hidp__graph g, b;
    hidp__err err = {0};
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    if (access(path, R_OK) != 0) {
        tap_skip("fixture absent", "%s", path);
        return;
    }
    hidp__graph_init(&g);
    hidp__graph_init(&b);
    int rc = hidp__onnx_read_file(path, &g, &err);
    TAP_EQ_INT(rc, 0, "%s: reads (%s)", name, err.msg);
    const hidp__value *in = g.n_inputs == 1 ? &g.vals[g.inputs[0]] : NULL;
    char shp[64] = "?";
    if (in)
        hidp__shape_format(&in->decl, shp, sizeof shp);
    tap_ok(in && in->decl.ndim == 4 && in->decl.d[0] == 1 && in->decl.d[1] == 3 &&
               (!hw || (in->decl.d[2] == hw && in->decl.d[3] == hw)) && g.n_outputs == 1,
           "%s: 1 input %s (1x3xHxW, H=W=%lld if given), %d output(s)", name, shp,
           (long long)hw, g.n_outputs);
    int convs = count_op(&g, "Conv");
    tap_ok(convs >= min_convs && g.opset == 13, "%s: %d Conv nodes (>= %d), %d nodes, opset %lld",
           name, convs, min_convs, g.n_nodes, (long long)g.opset);
    size_t size = 0;
    void *data = rc ? NULL : write_graph(&g, &size);
    rc = data ? hidp__onnx_read(data, size, name, &b, &err) : -1;
    tap_ok(rc == 0 && graph_equiv(&g, &b, why, sizeof why), "%s: round trip (%s)", name, why);
    free(data);
    hidp__graph_free(&g);
    hidp__graph_free(&b);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--make-seeds")) {
        /* The fuzz corpus: test_onnx --make-seeds test/fuzz/corpus */
        hidp__graph g;
        hidp__err err = {0};
        hidp__pbw m = {0};
        char path[1024];
        build_graph(&g);
        snprintf(path, sizeof path, "%s/model.onnx", argv[2]);
        int rc = hidp__onnx_write_file(&g, path, &err);
        hidp__graph_free(&g);
        build_typed(&m);
        snprintf(path, sizeof path, "%s/typed.onnx", argv[2]);
        if (!rc)
            rc = hidp__write_file_atomic(path, m.buf, m.len, &err);
        hidp__pbw_free(&m);
        if (rc)
            fprintf(stderr, "%s\n", err.msg);
        return rc ? 1 : 0;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hidp_onnx_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    test_round_trip();
    test_long_names();
    test_typed_data();
    test_bad_hand();
    test_bad_bytes();
    const char *fx = getenv("HIDP_FIXTURES");
    fx = fx && *fx ? fx : "../shared/fixtures";
    test_fixture(fx, "resnet18", 20, 224);
    test_fixture(fx, "squeezenet1_1", 20, 224);
    test_fixture(fx, "mobilenet_v2", 50, 224);
    test_fixture(fx, "opzoo", 3, 0);
    rmdir(tmpdir);
    return tap_done();
}
