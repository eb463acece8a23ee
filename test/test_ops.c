/*
 * test_ops.c - the non-convolution ops: each optimized kernel against its naive reference on odd
 * shapes (whole, in channel slices, in row slices), small hand-computed cases that check the
 * reference itself, and failures with messages that name the node.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optest.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define NARGS(...) (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define IN(t, name, seed, ...) optest_input(t, name, NARGS(__VA_ARGS__), D(__VA_ARGS__), seed)
#define CONST(t, name, seed, ...) optest_const(t, name, NARGS(__VA_ARGS__), D(__VA_ARGS__), seed)
#define I64(t, name, ...) optest_const_i64(t, name, 1, D(NARGS(__VA_ARGS__)), D(__VA_ARGS__))
#define NODE(t, op, ...)                                                                           \
    optest_node(t, op, (const int[]){__VA_ARGS__},                                                 \
                (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)))

/* Runs each of 3 channel slices and 3 row slices alone, with both kernels, on an output filled
 * with NaN: every element of the slice must be written and nothing outside it (a worker that
 * writes past its slice races with its neighbours, even if it writes the right values). */
static void check_confined(optest *t, const char *what)
{
    hidp__node *n = &t->g.nodes[t->node];
    hidp__value *y = &t->g.vals[n->out[0]];
    hidp__view4 v = hidp__shape_view4(&y->shape);
    hidp__slice all = hidp__slice_all(&t->g, n);
    float *out = y->data;
    int64_t count = hidp__shape_count(&y->shape), bad = 0, first = -1;
    for (int ref = 0; ref < 2; ref++)
        for (int rows = 0; rows < 2; rows++)
            for (int p = 0; p < 3; p++) {
                int64_t total = rows ? all.h1 : all.c1;
                hidp__slice s = all;
                int64_t lo = total * p / 3, hi = total * (p + 1) / 3;
                if (lo == hi)
                    continue;
                *(rows ? &s.h0 : &s.c0) = lo;
                *(rows ? &s.h1 : &s.c1) = hi;
                for (int64_t i = 0; i < count; i++)
                    out[i] = NAN;
                optest_run_slice(t, s, ref);
                for (int64_t i = 0; i < count; i++) {
                    int64_t h = (i / v.w) % v.h, c = (i / (v.w * v.h)) % v.c;
                    int inside = c >= s.c0 && c < s.c1 && h >= s.h0 && h < s.h1;
                    if (inside == (out[i] != out[i])) {
                        if (first < 0)
                            first = i;
                        bad++;
                    }
                }
            }
    if (!tap_ok(bad == 0, "%s: each slice writes exactly its elements", what))
        tap_diag("  %lld elements wrong, first at flat index %lld", (long long)bad,
                 (long long)first);
}

/* Prepares t and runs the standard comparison; a failed prepare is a failed test. */
static void check(optest *t, const char *what)
{
    int rc = optest_prepare(t);
    if (rc) {
        tap_ok(0, "%s: prepare failed (%d): %s", what, rc, t->err.msg);
    } else {
        optest_check(t, what);
        check_confined(t, what);
    }
    optest_free(t);
}

/* Overwrites the data of value v (an input or constant) with vals. */
static void set_vals(optest *t, int v, const float *vals)
{
    hidp__value *val = &t->g.vals[v];
    memcpy(val->data, vals, (size_t)hidp__shape_count(&val->shape) * sizeof(float));
}

/* A runtime input holding the given values. */
static int known(optest *t, const char *name, const float *vals, int ndim, const int64_t *dims)
{
    int v = optest_input(t, name, ndim, dims, 0);
    set_vals(t, v, vals);
    return v;
}
#define KNOWN(t, name, vals, ...) known(t, name, vals, NARGS(__VA_ARGS__), D(__VA_ARGS__))

/* Prepares t and checks the output shape, then the reference and the kernel against want. */
static void expect(optest *t, const char *what, int ndim, const int64_t *dims, const float *want)
{
    int rc = optest_prepare(t);
    if (!tap_ok(rc == 0, "%s: prepare", what)) {
        tap_diag("  %s", t->err.msg);
        optest_free(t);
        return;
    }
    const hidp__value *y = &t->g.vals[t->g.nodes[t->node].out[0]];
    hidp__shape ws = hidp__shape_make(ndim, dims);
    char gs[96], wss[96];
    if (!tap_ok(hidp__shape_equal(&y->shape, &ws), "%s: shape %s", what,
                hidp__shape_format(&ws, wss, sizeof wss)))
        tap_diag("  got %s", hidp__shape_format(&y->shape, gs, sizeof gs));
    else if (want) {
        size_t n = (size_t)hidp__shape_count(&ws);
        float *got = malloc((n ? n : 1) * sizeof(float));
        optest_run_parts(t, 1, 0, 1, got);
        TAP_CLOSE(got, want, n, 1e-5, "%s: reference values", what);
        optest_run_parts(t, 3, 0, 0, got);
        TAP_CLOSE(got, want, n, 1e-5, "%s: kernel values", what);
        free(got);
    }
    optest_free(t);
}

/* Checks that prepare fails with code and a message naming the node and containing needle. */
static void expect_fail(optest *t, const char *what, int code, const char *needle)
{
    int rc = optest_prepare(t);
    TAP_EQ_INT(rc, code, "%s: fails with %s", what, hidp_strerror(code));
    if (!tap_ok(strstr(t->err.msg, "node_under_test") && strstr(t->err.msg, needle),
                "%s: message names the node and '%s'", what, needle))
        tap_diag("  message: %s", t->err.msg);
    optest_free(t);
}

/* ---- activations ---- */

static void test_activations(void)
{
    static const char *ops[] = {"Relu", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Clip"};
    char what[96];
    optest t;
    for (int i = 0; i < 6; i++) {
        optest_init(&t);
        t.g.opset = 9;
        hidp__node *n = NODE(&t, ops[i], IN(&t, "x", 1, 2, 17, 7, 7));
        if (i == 2)
            hidp__node_set_float(n, "alpha", 0.3f);
        if (i == 5) {
            hidp__node_set_float(n, "min", -0.25f);
            hidp__node_set_float(n, "max", 0.5f);
        }
        snprintf(what, sizeof what, "%s 2x17x7x7", ops[i]);
        check(&t, what);
        optest_init(&t);
        NODE(&t, ops[i], IN(&t, "x", 2, 1, 3, 33));
        snprintf(what, sizeof what, "%s 1x3x33", ops[i]);
        check(&t, what);
    }

    float x[] = {-4, -1, 0, 0.5f, 1, 4};
    struct {
        const char *op;
        float want[6];
    } cases[] = {
        {"Relu", {0, 0, 0, 0.5f, 1, 4}},
        {"Sigmoid", {0.01798621f, 0.26894142f, 0.5f, 0.62245933f, 0.73105858f, 0.98201379f}},
        {"HardSigmoid", {0, 0.3f, 0.5f, 0.6f, 0.7f, 1}},
        {"HardSwish", {0, -1.0f / 3, 0, 0.5f * (0.5f / 6 + 0.5f), 2.0f / 3, 4}},
        {"LeakyRelu", {-0.04f, -0.01f, 0, 0.5f, 1, 4}},
    };
    for (int i = 0; i < 5; i++) {
        optest_init(&t);
        int v = KNOWN(&t, "x", x, 6);
        NODE(&t, cases[i].op, v);
        snprintf(what, sizeof what, "%s known values", cases[i].op);
        expect(&t, what, 1, D(6), cases[i].want);
    }

    /* Clip from opset 11: bounds are optional constant inputs; a missing one is unbounded. */
    optest_init(&t);
    int v = KNOWN(&t, "x", x, 6);
    NODE(&t, "Clip", v, optest_const_f32(&t, "lo", 0, D(0), F(-1.5f)));
    expect(&t, "Clip opset 13 min only", 1, D(6), F(-1.5f, -1, 0, 0.5f, 1, 4));
    optest_init(&t);
    v = KNOWN(&t, "x", x, 6);
    NODE(&t, "Clip", v, -1, optest_const_f32(&t, "hi", 0, D(0), F(0.75f)));
    expect(&t, "Clip opset 13 max only", 1, D(6), F(-4, -1, 0, 0.5f, 0.75f, 0.75f));
    optest_init(&t);
    v = KNOWN(&t, "x", x, 6);
    t.g.opset = 9;
    hidp__node *n = NODE(&t, "Clip", v);
    hidp__node_set_float(n, "min", 0.0f);
    hidp__node_set_float(n, "max", 6.0f);
    expect(&t, "Clip opset 9 attributes (Relu6)", 1, D(6), F(0, 0, 0, 0.5f, 1, 4));
    optest_init(&t);
    NODE(&t, "Clip", IN(&t, "x", 1, 1, 3, 7, 7), IN(&t, "lo", 2, 1));
    expect_fail(&t, "Clip with a runtime min", HIDP_EUNSUPPORTED, "constant");

    /* The fused epilogue: hidp__act_apply and node->act after another op. */
    float buf[6];
    hidp__act six = {HIDP__ACT_CLIP, 0.0f, 6.0f};
    memcpy(buf, F(-1, 7, 3, 0, 6.5f, 2), sizeof buf);
    hidp__act_apply(&six, buf, 6);
    TAP_CLOSE(buf, F(0, 6, 3, 0, 6, 2), 6, 0, "hidp__act_apply clip(0, 6)");
    /* Sigmoid's vector exp over its whole range, saturated ends included. */
    float big[11] = {-200, -88.7f, -30, -9.5f, -0.3f, 0, 0.7f, 8.25f, 25, 89, 300}, want[11];
    for (int i = 0; i < 11; i++)
        want[i] = (float)(1 / (1 + exp(-(double)big[i])));
    hidp__act sig = {HIDP__ACT_SIGMOID, 0, 0};
    hidp__act_apply(&sig, big, 11);
    TAP_CLOSE(big, want, 11, 1e-6, "hidp__act_apply sigmoid from -200 to 300");
    optest_init(&t);
    n = NODE(&t, "Add", IN(&t, "a", 3, 2, 17, 7, 7), IN(&t, "b", 4, 2, 17, 7, 7));
    n->act.kind = HIDP__ACT_HARD_SWISH;
    check(&t, "Add + fused HardSwish");
}

/* ---- Add / Sub / Mul / Div ---- */

static void test_binary(void)
{
    static const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    char what[128];
    optest t;
    for (int i = 0; i < 4; i++) {
#define BIN_CASE(label, mk_a, mk_b)                                                                \
    do {                                                                                           \
        optest_init(&t);                                                                           \
        int a_ = mk_a, b_ = mk_b;                                                                  \
        NODE(&t, ops[i], a_, b_);                                                                  \
        snprintf(what, sizeof what, "%s %s", ops[i], label);                                       \
        check(&t, what);                                                                           \
    } while (0)
        BIN_CASE("same shape 2x17x7x7", IN(&t, "a", 1, 2, 17, 7, 7), IN(&t, "b", 2, 2, 17, 7, 7));
        BIN_CASE("per-channel 1x17x1x1", IN(&t, "a", 1, 2, 17, 7, 7),
                 CONST(&t, "b", 2, 1, 17, 1, 1));
        BIN_CASE("per-channel 17x1x1 on the left", CONST(&t, "a", 1, 17, 1, 1),
                 IN(&t, "b", 2, 2, 17, 7, 7));
        BIN_CASE("scalar", IN(&t, "a", 1, 1, 3, 33, 7),
                 optest_const_f32(&t, "b", 0, D(0), F(0.7f)));
        BIN_CASE("scalar [1] on the left", CONST(&t, "a", 1, 1), IN(&t, "b", 2, 1, 3, 7, 33));
        BIN_CASE("row [33]", IN(&t, "a", 1, 1, 3, 7, 33), CONST(&t, "b", 2, 33));
        BIN_CASE("rank 2 [7,5] vs rank 4", IN(&t, "a", 1, 2, 3, 7, 5), IN(&t, "b", 2, 7, 5));
        BIN_CASE("both broadcast 2x1x7x1 vs 1x3x1x5", IN(&t, "a", 1, 2, 1, 7, 1),
                 IN(&t, "b", 2, 1, 3, 1, 5));
        BIN_CASE("rank 5 1x3x4x5x6 vs 3x1x5x1", IN(&t, "a", 1, 1, 3, 4, 5, 6),
                 IN(&t, "b", 2, 3, 1, 5, 1));
        BIN_CASE("rank 2 3x17 vs [17]", IN(&t, "a", 1, 3, 17), CONST(&t, "b", 2, 17));
        BIN_CASE("rank 1 [17] vs [1]", IN(&t, "a", 1, 17), IN(&t, "b", 2, 1));
#undef BIN_CASE
    }
    optest_init(&t);
    int a = KNOWN(&t, "a", F(10, 20), 2, 1), b = KNOWN(&t, "b", F(1, 2, 3), 3);
    NODE(&t, "Sub", a, b);
    expect(&t, "Sub [2,1] - [3] known values", 2, D(2, 3), F(9, 8, 7, 19, 18, 17));
    optest_init(&t);
    NODE(&t, "Div", KNOWN(&t, "a", F(1, 2, 3, 4), 1, 2, 1, 2),
         optest_const_f32(&t, "b", 3, D(2, 1, 1), F(2, 4)));
    expect(&t, "Div by per-channel constant known values", 4, D(1, 2, 1, 2), F(0.5f, 1, 0.75f, 1));
    optest_init(&t);
    NODE(&t, "Add", IN(&t, "a", 1, 1, 3, 4), IN(&t, "b", 2, 1, 5, 4));
    expect_fail(&t, "Add 1x3x4 + 1x5x4", HIDP_ESHAPE, "1x3x4");
}

/* ---- Concat, Flatten, Reshape, Squeeze, Unsqueeze, Transpose ---- */

static void test_shape_ops(void)
{
    optest t;
    hidp__node *n;
    optest_init(&t);
    n = NODE(&t, "Concat", IN(&t, "a", 1, 2, 3, 7, 7), IN(&t, "b", 2, 2, 17, 7, 7),
             IN(&t, "c", 3, 2, 1, 7, 7));
    hidp__node_set_int(n, "axis", 1);
    check(&t, "Concat axis 1 of 3+17+1 channels");
    static const int64_t axes[] = {0, 2, -1};
    for (int i = 0; i < 3; i++) {
        char what[64];
        optest_init(&t);
        int64_t ax = axes[i] < 0 ? 3 : axes[i];
        int64_t da[4] = {2, 3, 7, 5}, db[4] = {2, 3, 7, 5};
        db[ax] = 1 + (int64_t)i;
        n = NODE(&t, "Concat", optest_input(&t, "a", 4, da, 1), optest_input(&t, "b", 4, db, 2),
                 optest_input(&t, "c", 4, da, 3));
        hidp__node_set_int(n, "axis", axes[i]);
        snprintf(what, sizeof what, "Concat axis %lld", (long long)axes[i]);
        check(&t, what);
    }
    optest_init(&t);
    n = NODE(&t, "Concat", IN(&t, "a", 1, 3, 5), CONST(&t, "b", 2, 3, 17));
    hidp__node_set_int(n, "axis", -1);
    check(&t, "Concat rank 2 with a constant, axis -1");
    optest_init(&t);
    int a = KNOWN(&t, "a", F(1, 2), 2), b = KNOWN(&t, "b", F(3), 1);
    n = NODE(&t, "Concat", a, b);
    hidp__node_set_int(n, "axis", 0);
    expect(&t, "Concat [1,2] + [3]", 1, D(3), F(1, 2, 3));
    optest_init(&t);
    n = NODE(&t, "Concat", IN(&t, "a", 1, 1, 3, 7, 7), IN(&t, "b", 2, 1, 3, 7, 7),
             IN(&t, "c", 3, 1, 3, 7));
    hidp__node_set_int(n, "axis", 1);
    expect_fail(&t, "Concat rank mismatch", HIDP_ESHAPE,
                "input 2 has shape 1x3x7, expected rank 4");
    optest_init(&t);
    n = NODE(&t, "Concat", IN(&t, "a", 1, 1, 3, 7, 7), IN(&t, "b", 2, 1, 3, 5, 7));
    hidp__node_set_int(n, "axis", 1);
    expect_fail(&t, "Concat dims differ", HIDP_ESHAPE, "1x3x5x7");
    optest_init(&t);
    n = NODE(&t, "Concat", IN(&t, "a", 1, 1, 3));
    hidp__node_set_int(n, "axis", 2);
    expect_fail(&t, "Concat axis out of range", HIDP_ESHAPE, "axis 2");
    optest_init(&t);
    NODE(&t, "Concat", IN(&t, "a", 1, 1, 3), IN(&t, "b", 1, 1, 3));
    expect_fail(&t, "Concat without axis", HIDP_EFORMAT, "'axis' is missing");

    static const int64_t faxes[] = {0, 1, -1, 4};
    for (int i = 0; i < 4; i++) {
        char what[64];
        optest_init(&t);
        n = NODE(&t, "Flatten", IN(&t, "x", 1, 2, 3, 7, 5));
        hidp__node_set_int(n, "axis", faxes[i]);
        snprintf(what, sizeof what, "Flatten axis %lld", (long long)faxes[i]);
        check(&t, what);
    }
    optest_init(&t);
    NODE(&t, "Flatten", IN(&t, "x", 1, 2, 3, 7, 5));
    expect(&t, "Flatten default axis", 2, D(2, 105), NULL);

    optest_init(&t);
    NODE(&t, "Reshape", IN(&t, "x", 1, 2, 3, 7, 5), I64(&t, "s", 0, -1, 5));
    expect(&t, "Reshape [0,-1,5]", 3, D(2, 21, 5), NULL);
    optest_init(&t);
    NODE(&t, "Reshape", IN(&t, "x", 1, 2, 3, 7, 5), I64(&t, "s", 2, -1));
    check(&t, "Reshape 2x3x7x5 -> [2,-1]");
    optest_init(&t);
    NODE(&t, "Reshape", IN(&t, "x", 1, 2, 3, 7, 5), I64(&t, "s", 5, 0, 7, 2, 1));
    expect(&t, "Reshape with 0 copying dim 1", 5, D(5, 3, 7, 2, 1), NULL);
    optest_init(&t);
    n = NODE(&t, "Reshape", IN(&t, "x", 1, 2, 0, 3), I64(&t, "s", 0, 4));
    hidp__node_set_int(n, "allowzero", 1);
    expect(&t, "Reshape allowzero keeps a 0", 2, D(0, 4), NULL);
    optest_init(&t);
    NODE(&t, "Reshape", IN(&t, "x", 1, 2, 3, 7, 5), I64(&t, "s", -1, -1));
    expect_fail(&t, "Reshape with two -1", HIDP_ESHAPE, "-1");
    optest_init(&t);
    NODE(&t, "Reshape", IN(&t, "x", 1, 2, 3, 7, 5), I64(&t, "s", 4, 50));
    expect_fail(&t, "Reshape count mismatch", HIDP_ESHAPE, "2x3x7x5");
    optest_init(&t);
    NODE(&t, "Reshape", IN(&t, "x", 1, 2, 3), IN(&t, "s", 2, 2));
    expect_fail(&t, "Reshape with a runtime shape", HIDP_EUNSUPPORTED, "constant");

    optest_init(&t);
    t.g.opset = 11;
    n = NODE(&t, "Squeeze", IN(&t, "x", 1, 1, 17, 1, 7));
    hidp__node_set_ints(n, "axes", D(0, -2), 2);
    expect(&t, "Squeeze opset 11 axes attribute", 2, D(17, 7), NULL);
    optest_init(&t);
    NODE(&t, "Squeeze", IN(&t, "x", 1, 1, 17, 1, 1), I64(&t, "axes", 2, 3));
    check(&t, "Squeeze opset 13 axes input");
    optest_init(&t);
    NODE(&t, "Squeeze", IN(&t, "x", 1, 1, 17, 1, 7));
    expect(&t, "Squeeze all ones", 2, D(17, 7), NULL);
    optest_init(&t);
    NODE(&t, "Squeeze", IN(&t, "x", 1, 1, 17, 1, 7), I64(&t, "axes", 1));
    expect_fail(&t, "Squeeze a dim of 17", HIDP_ESHAPE, "not 1");
    optest_init(&t);
    t.g.opset = 11;
    n = NODE(&t, "Unsqueeze", IN(&t, "x", 1, 17, 7));
    hidp__node_set_ints(n, "axes", D(0, 3), 2);
    expect(&t, "Unsqueeze opset 11 axes attribute", 4, D(1, 17, 7, 1), NULL);
    optest_init(&t);
    NODE(&t, "Unsqueeze", IN(&t, "x", 1, 2, 17), I64(&t, "axes", -1, 2));
    check(&t, "Unsqueeze opset 13 [-1, 2]");
    optest_init(&t);
    NODE(&t, "Unsqueeze", IN(&t, "x", 1, 2, 17), I64(&t, "axes", 1, 1));
    expect_fail(&t, "Unsqueeze repeated axis", HIDP_ESHAPE, "repeated");

    struct {
        int nd;
        int64_t dims[5];
        int np;
        int64_t perm[5];
        const char *what;
    } tr[] = {
        {4, {2, 3, 7, 5}, 4, {0, 2, 3, 1}, "Transpose NCHW->NHWC"},
        {4, {2, 17, 7, 5}, 0, {0}, "Transpose default (reverse)"},
        {5, {1, 2, 3, 7, 7}, 5, {0, 2, 1, 3, 4}, "Transpose channel shuffle"},
        {2, {17, 33}, 2, {1, 0}, "Transpose rank 2"},
        {3, {2, 3, 5}, 3, {1, 0, 2}, "Transpose rank 3 (1,0,2)"},
        {5, {2, 3, 4, 5, 3}, 5, {4, 2, 0, 3, 1}, "Transpose rank 5 scrambled"},
    };
    for (size_t i = 0; i < sizeof tr / sizeof *tr; i++) {
        optest_init(&t);
        n = NODE(&t, "Transpose", optest_input(&t, "x", tr[i].nd, tr[i].dims, 7));
        if (tr[i].np)
            hidp__node_set_ints(n, "perm", tr[i].perm, tr[i].np);
        check(&t, tr[i].what);
    }
    optest_init(&t);
    a = KNOWN(&t, "x", F(1, 2, 3, 4, 5, 6), 2, 3);
    NODE(&t, "Transpose", a);
    expect(&t, "Transpose 2x3 known values", 2, D(3, 2), F(1, 4, 2, 5, 3, 6));
    optest_init(&t);
    n = NODE(&t, "Transpose", IN(&t, "x", 1, 2, 3, 4));
    hidp__node_set_ints(n, "perm", D(0, 0, 1), 3);
    expect_fail(&t, "Transpose bad perm", HIDP_EFORMAT, "permutation");
}

/* ---- Gemm, MatMul ---- */

static void test_gemm(void)
{
    optest t;
    hidp__node *n;
    struct {
        int ta, tb;
        float alpha, beta;
        int cshape;
        const char *what;
    } gc[] = {
        {0, 0, 1, 1, 1, "Gemm bias [17]"},
        {0, 1, 1, 1, 1, "Gemm transB bias [17]"},
        {1, 0, 0.5f, 2, 2, "Gemm transA alpha beta C [7,17]"},
        {1, 1, 1, 1, 3, "Gemm transA transB C [7,1]"},
        {0, 1, 1, 1, 4, "Gemm C scalar"},
        {0, 0, 1, 1, 0, "Gemm no C"},
    };
    for (size_t i = 0; i < sizeof gc / sizeof *gc; i++) {
        optest_init(&t);
        int a = gc[i].ta ? IN(&t, "a", 1, 33, 7) : IN(&t, "a", 1, 7, 33);
        int b = gc[i].tb ? CONST(&t, "b", 2, 17, 33) : CONST(&t, "b", 2, 33, 17);
        int c = gc[i].cshape == 1   ? CONST(&t, "c", 3, 17)
                : gc[i].cshape == 2 ? CONST(&t, "c", 3, 7, 17)
                : gc[i].cshape == 3 ? CONST(&t, "c", 3, 7, 1)
                : gc[i].cshape == 4 ? CONST(&t, "c", 3, 1)
                                    : -1;
        n = c >= 0 ? NODE(&t, "Gemm", a, b, c) : NODE(&t, "Gemm", a, b);
        hidp__node_set_int(n, "transA", gc[i].ta);
        hidp__node_set_int(n, "transB", gc[i].tb);
        hidp__node_set_float(n, "alpha", gc[i].alpha);
        hidp__node_set_float(n, "beta", gc[i].beta);
        check(&t, gc[i].what);
    }
    optest_init(&t);
    n = NODE(&t, "Gemm", IN(&t, "a", 1, 1, 33), CONST(&t, "b", 2, 17, 33), CONST(&t, "c", 3, 17));
    hidp__node_set_int(n, "transB", 1);
    n->act.kind = HIDP__ACT_RELU;
    check(&t, "Gemm M=1 transB + fused Relu");
    /* K >= 64, M <= 4, transB: the GEMV path (4 rows at a time, vector body and scalar tail) */
    for (int m = 1; m <= 3; m += 2) {
        optest_init(&t);
        n = NODE(&t, "Gemm", IN(&t, "a", 1, m, 203), CONST(&t, "b", 2, 39, 203),
                 CONST(&t, "c", 3, 39));
        hidp__node_set_int(n, "transB", 1);
        hidp__node_set_float(n, "alpha", 0.5f);
        hidp__node_set_float(n, "beta", 2.0f);
        check(&t, m == 1 ? "Gemm GEMV M=1 K=203 N=39 alpha beta bias"
                         : "Gemm GEMV M=3 K=203 N=39 alpha beta bias");
    }
    optest_init(&t);
    n = NODE(&t, "Gemm", IN(&t, "a", 1, 2, 300), CONST(&t, "b", 2, 600, 300));
    hidp__node_set_int(n, "transB", 1);
    check(&t, "Gemm GEMV M=2 K=300 N=600 (several column chunks), no C");
    optest_init(&t);
    int a = KNOWN(&t, "a", F(1, 2, 3, 4), 2, 2);
    n = NODE(&t, "Gemm", a, optest_const_f32(&t, "b", 2, D(3, 2), F(1, 0, 0, 1, 1, 1)),
             optest_const_f32(&t, "c", 1, D(3), F(10, 20, 30)));
    hidp__node_set_int(n, "transB", 1);
    expect(&t, "Gemm transB with bias known values", 2, D(2, 3), F(11, 22, 33, 13, 24, 37));
    optest_init(&t);
    NODE(&t, "Gemm", IN(&t, "a", 1, 7, 33), CONST(&t, "b", 2, 32, 17));
    expect_fail(&t, "Gemm K mismatch", HIDP_ESHAPE, "K");

    struct {
        int na;
        int64_t da[4];
        int nb;
        int64_t db[4];
        const char *what;
    } mc[] = {
        {2, {7, 33}, 2, {33, 17}, "MatMul 7x33 x 33x17"},
        {4, {2, 3, 7, 5}, 4, {2, 3, 5, 4}, "MatMul batched 2x3"},
        {4, {2, 1, 7, 5}, 3, {3, 5, 4}, "MatMul broadcast batch 2x1 vs 3"},
        {1, {5}, 3, {2, 5, 4}, "MatMul 1-D A"},
        {4, {2, 3, 7, 5}, 1, {5}, "MatMul 1-D B"},
        {1, {5}, 1, {5}, "MatMul 1-D dot"},
        {3, {3, 7, 5}, 2, {5, 17}, "MatMul rank 3 x rank 2"},
        {2, {1, 33}, 2, {33, 17}, "MatMul M=1"},
    };
    for (size_t i = 0; i < sizeof mc / sizeof *mc; i++) {
        optest_init(&t);
        NODE(&t, "MatMul", optest_input(&t, "a", mc[i].na, mc[i].da, 1),
             optest_const(&t, "b", mc[i].nb, mc[i].db, 2));
        check(&t, mc[i].what);
    }
    optest_init(&t);
    a = KNOWN(&t, "a", F(1, 2, 3, 4), 2, 2);
    NODE(&t, "MatMul", a, optest_const_f32(&t, "b", 2, D(2, 2), F(5, 6, 7, 8)));
    expect(&t, "MatMul 2x2 known values", 2, D(2, 2), F(19, 22, 43, 50));
    optest_init(&t);
    NODE(&t, "MatMul", IN(&t, "a", 1, 2, 7, 5), IN(&t, "b", 2, 3, 5, 4));
    expect_fail(&t, "MatMul batch 2 vs 3", HIDP_ESHAPE, "2x7x5");
}

/* ---- Softmax, BatchNormalization, ReduceMean ---- */

static void test_softmax_bn_reduce(void)
{
    optest t;
    hidp__node *n;
    struct {
        int opset;
        int has_axis;
        int64_t axis;
        int nd;
        int64_t d[4];
        const char *what;
    } sc[] = {
        {13, 0, 0, 4, {2, 3, 7, 7}, "Softmax opset 13 default axis -1"},
        {13, 1, 1, 4, {2, 17, 7, 7}, "Softmax opset 13 axis 1 (channels)"},
        {13, 1, 0, 4, {2, 3, 7, 5}, "Softmax opset 13 axis 0"},
        {13, 1, -2, 4, {2, 3, 7, 5}, "Softmax opset 13 axis -2"},
        {11, 0, 0, 4, {2, 3, 7, 7}, "Softmax opset 11 default axis 1 (flattened)"},
        {11, 1, 2, 4, {2, 3, 7, 5}, "Softmax opset 11 axis 2"},
        {11, 0, 0, 4, {1, 1000, 1, 1}, "Softmax opset 11 1x1000x1x1"},
        {13, 1, 1, 2, {1, 1000}, "Softmax 1x1000"},
    };
    for (size_t i = 0; i < sizeof sc / sizeof *sc; i++) {
        optest_init(&t);
        t.g.opset = sc[i].opset;
        n = NODE(&t, "Softmax", optest_input(&t, "x", sc[i].nd, sc[i].d, 3));
        if (sc[i].has_axis)
            hidp__node_set_int(n, "axis", sc[i].axis);
        check(&t, sc[i].what);
    }
    optest_init(&t);
    int x = KNOWN(&t, "x", F(1, 2, 3), 1, 3);
    NODE(&t, "Softmax", x);
    expect(&t, "Softmax [1,2,3]", 2, D(1, 3), F(0.09003057f, 0.24472847f, 0.66524096f));
    optest_init(&t);
    t.g.opset = 11;
    x = KNOWN(&t, "x", F(0, 0, 0, 0), 1, 2, 1, 2);
    NODE(&t, "Softmax", x);
    expect(&t, "Softmax opset 11 over C*H*W", 4, D(1, 2, 1, 2), F(0.25f, 0.25f, 0.25f, 0.25f));
    optest_init(&t);
    n = NODE(&t, "Softmax", IN(&t, "x", 1, 2, 3));
    hidp__node_set_int(n, "axis", 2);
    expect_fail(&t, "Softmax axis out of range", HIDP_ESHAPE, "axis 2");

    /* BatchNormalization: variance must be positive. */
    float var[17], var4[4];
    for (int i = 0; i < 17; i++)
        var[i] = 0.1f + 0.05f * (float)i;
    for (int i = 0; i < 4; i++)
        var4[i] = 1.0f;
    optest_init(&t);
    NODE(&t, "BatchNormalization", IN(&t, "x", 1, 2, 17, 7, 7), CONST(&t, "s", 2, 17),
         CONST(&t, "b", 3, 17), CONST(&t, "m", 4, 17), optest_const_f32(&t, "v", 1, D(17), var));
    check(&t, "BatchNormalization 2x17x7x7");
    optest_init(&t);
    NODE(&t, "BatchNormalization", IN(&t, "x", 1, 3, 4), CONST(&t, "s", 2, 4), CONST(&t, "b", 3, 4),
         CONST(&t, "m", 4, 4), optest_const_f32(&t, "v", 1, D(4), var4));
    check(&t, "BatchNormalization rank 2");
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2), 1, 2, 1, 1);
    n = NODE(&t, "BatchNormalization", x, optest_const_f32(&t, "s", 1, D(2), F(2, 1)),
             optest_const_f32(&t, "b", 1, D(2), F(0.5f, 0)),
             optest_const_f32(&t, "m", 1, D(2), F(0, 1)),
             optest_const_f32(&t, "v", 1, D(2), F(4, 0.25f)));
    hidp__node_set_float(n, "epsilon", 0.0f);
    expect(&t, "BatchNormalization known values", 4, D(1, 2, 1, 1), F(1.5f, 2));
    optest_init(&t);
    n = NODE(&t, "BatchNormalization", IN(&t, "x", 1, 1, 4, 3, 3), CONST(&t, "s", 2, 4),
             CONST(&t, "b", 3, 4), CONST(&t, "m", 4, 4), optest_const_f32(&t, "v", 1, D(4), var4));
    hidp__node_set_int(n, "training_mode", 1);
    expect_fail(&t, "BatchNormalization training_mode", HIDP_EUNSUPPORTED, "training_mode");
    optest_init(&t);
    NODE(&t, "BatchNormalization", IN(&t, "x", 1, 1, 4, 3, 3), CONST(&t, "s", 2, 4),
         CONST(&t, "b", 3, 4), IN(&t, "m", 4, 4), optest_const_f32(&t, "v", 1, D(4), var4));
    expect_fail(&t, "BatchNormalization runtime mean", HIDP_EUNSUPPORTED, "mean");
    optest_init(&t);
    NODE(&t, "BatchNormalization", IN(&t, "x", 1, 1, 4, 3, 3), CONST(&t, "s", 2, 3),
         CONST(&t, "b", 3, 4), CONST(&t, "m", 4, 4), optest_const_f32(&t, "v", 1, D(4), var4));
    expect_fail(&t, "BatchNormalization scale of 3", HIDP_ESHAPE, "scale");

    struct {
        int na;
        int64_t axes[3];
        int keep;
        const char *what;
    } rc[] = {
        {2, {2, 3}, 1, "ReduceMean axes [2,3] keepdims"},
        {1, {1}, 0, "ReduceMean axis 1 no keepdims"},
        {1, {-1}, 1, "ReduceMean axis -1"},
        {2, {0, 2}, 0, "ReduceMean axes [0,2] no keepdims"},
        {0, {0}, 1, "ReduceMean all axes keepdims"},
        {0, {0}, 0, "ReduceMean all axes to a scalar"},
    };
    for (size_t i = 0; i < sizeof rc / sizeof *rc; i++) {
        optest_init(&t);
        n = NODE(&t, "ReduceMean", IN(&t, "x", 5, 2, 17, 7, 5));
        if (rc[i].na)
            hidp__node_set_ints(n, "axes", rc[i].axes, rc[i].na);
        hidp__node_set_int(n, "keepdims", rc[i].keep);
        check(&t, rc[i].what);
    }
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 2, 2);
    n = NODE(&t, "ReduceMean", x);
    hidp__node_set_ints(n, "axes", D(1), 1);
    expect(&t, "ReduceMean [[1,2],[3,4]] axis 1", 2, D(2, 1), F(1.5f, 3.5f));
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 2, 2);
    n = NODE(&t, "ReduceMean", x);
    hidp__node_set_ints(n, "axes", D(0), 1);
    hidp__node_set_int(n, "keepdims", 0);
    expect(&t, "ReduceMean [[1,2],[3,4]] axis 0", 1, D(2), F(2, 3));
    optest_init(&t);
    n = NODE(&t, "ReduceMean", IN(&t, "x", 1, 2, 3));
    hidp__node_set_ints(n, "axes", D(3), 1);
    expect_fail(&t, "ReduceMean axis out of range", HIDP_ESHAPE, "axis 3");
}

/* ---- Pad ---- */

static void test_pad(void)
{
    static const char *modes[] = {"constant", "reflect", "edge"};
    optest t;
    hidp__node *n;
    char what[96];
    for (int m = 0; m < 3; m++) {
        optest_init(&t);
        n = NODE(&t, "Pad", IN(&t, "x", 1, 2, 3, 7, 7), I64(&t, "p", 0, 0, 1, 2, 0, 0, 3, 1),
                 optest_const_f32(&t, "v", 0, D(0), F(0.5f)));
        hidp__node_set_string(n, "mode", modes[m]);
        snprintf(what, sizeof what, "Pad %s H and W", modes[m]);
        check(&t, what);
        optest_init(&t);
        n = NODE(&t, "Pad", IN(&t, "x", 1, 2, 3, 7, 7), I64(&t, "p", 0, 0, -1, 2, 0, 0, 1, -3));
        hidp__node_set_string(n, "mode", modes[m]);
        snprintf(what, sizeof what, "Pad %s with negative pads (crop)", modes[m]);
        check(&t, what);
        optest_init(&t);
        n = NODE(&t, "Pad", IN(&t, "x", 1, 1, 3, 5, 2, 3),
                 I64(&t, "p", 0, 1, 2, 0, 1, 0, 2, 1, 1, 2));
        hidp__node_set_string(n, "mode", modes[m]);
        snprintf(what, sizeof what, "Pad %s rank 5 every dim", modes[m]);
        check(&t, what);
    }
    optest_init(&t);
    t.g.opset = 9;
    n = NODE(&t, "Pad", IN(&t, "x", 1, 1, 3, 7, 7));
    hidp__node_set_ints(n, "pads", D(0, 1, 0, 0, 0, 2, 0, 0), 8);
    hidp__node_set_float(n, "value", -2.0f);
    check(&t, "Pad opset 9 attribute, channels");
    optest_init(&t);
    NODE(&t, "Pad", IN(&t, "x", 1, 17, 7), I64(&t, "p", 2, 1, 0, 3));
    check(&t, "Pad rank 2");

    int x;
    struct {
        const char *mode;
        int64_t pads[2];
        int64_t out;
        float want[8];
    } kc[] = {
        {"reflect", {2, 2}, 7, {3, 2, 1, 2, 3, 2, 1}},
        {"edge", {1, 2}, 6, {1, 1, 2, 3, 3, 3}},
        {"constant", {-1, 2}, 4, {2, 3, 0, 0}},
        {"reflect", {3, 0}, 6, {2, 3, 2, 1, 2, 3}},
    };
    for (size_t i = 0; i < sizeof kc / sizeof *kc; i++) {
        optest_init(&t);
        x = KNOWN(&t, "x", F(1, 2, 3), 3);
        n = NODE(&t, "Pad", x, optest_const_i64(&t, "p", 1, D(2), kc[i].pads));
        hidp__node_set_string(n, "mode", kc[i].mode);
        snprintf(what, sizeof what, "Pad %s [1,2,3] by %lld,%lld", kc[i].mode,
                 (long long)kc[i].pads[0], (long long)kc[i].pads[1]);
        expect(&t, what, 1, D(kc[i].out), kc[i].want);
    }
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 2, 2);
    n = NODE(&t, "Pad", x, I64(&t, "p", 1, 0, 0, 1));
    hidp__node_set_string(n, "mode", "reflect");
    expect(&t, "Pad reflect 2x2 top and right", 2, D(3, 3), F(3, 4, 3, 1, 2, 1, 3, 4, 3));
    optest_init(&t);
    NODE(&t, "Pad", IN(&t, "x", 1, 1, 3, 7, 7), I64(&t, "p", 1, 1));
    expect_fail(&t, "Pad with 2 pads for rank 4", HIDP_ESHAPE, "2 pads");
    optest_init(&t);
    NODE(&t, "Pad", IN(&t, "x", 1, 1, 3, 7, 7), IN(&t, "p", 2, 8));
    expect_fail(&t, "Pad with runtime pads", HIDP_EUNSUPPORTED, "constant");
    optest_init(&t);
    n = NODE(&t, "Pad", IN(&t, "x", 1, 1, 3, 7, 7), I64(&t, "p", 0, 0, 1, 1, 0, 0, 1, 1));
    hidp__node_set_string(n, "mode", "wrap");
    expect_fail(&t, "Pad mode wrap", HIDP_EUNSUPPORTED, "wrap");
    optest_init(&t);
    NODE(&t, "Pad", IN(&t, "x", 1, 1, 3, 7, 7), I64(&t, "p", 0, 0, -5, 0, 0, 0, -3, 0));
    expect_fail(&t, "Pad cropping too much", HIDP_ESHAPE, "crop");
}

/* ---- Resize ---- */

static void test_resize(void)
{
    static const char *coords[] = {"half_pixel", "asymmetric", "align_corners",
                                   "pytorch_half_pixel", "tf_half_pixel_for_nn"};
    static const char *nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    optest t;
    hidp__node *n;
    char what[128];
    for (int mode = 0; mode < 2; mode++)
        for (int c = 0; c < 5; c++)
            for (int k = 0; k < (mode ? 1 : 4); k++) {
                if (k && c)
                    continue; /* nearest modes with half_pixel only, coord modes with the default */
                optest_init(&t);
                n = NODE(&t, "Resize", IN(&t, "x", 1, 2, 3, 7, 5), -1,
                         optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2, 3)));
                hidp__node_set_string(n, "mode", mode ? "linear" : "nearest");
                hidp__node_set_string(n, "coordinate_transformation_mode", coords[c]);
                hidp__node_set_string(n, "nearest_mode", nearests[k]);
                snprintf(what, sizeof what, "Resize %s %s %s up x2,x3", mode ? "linear" : "nearest",
                         coords[c], mode ? "" : nearests[k]);
                check(&t, what);
                optest_init(&t);
                n = NODE(&t, "Resize", IN(&t, "x", 1, 1, 17, 33, 7), -1, -1,
                         I64(&t, "z", 1, 17, 7, 33));
                hidp__node_set_string(n, "mode", mode ? "linear" : "nearest");
                hidp__node_set_string(n, "coordinate_transformation_mode", coords[c]);
                hidp__node_set_string(n, "nearest_mode", nearests[k]);
                snprintf(what, sizeof what, "Resize %s %s %s sizes 33x7 -> 7x33",
                         mode ? "linear" : "nearest", coords[c], mode ? "" : nearests[k]);
                check(&t, what);
            }
    for (int mode = 0; mode < 2; mode++) {
        optest_init(&t);
        t.g.opset = 10;
        n = NODE(&t, "Resize", IN(&t, "x", 1, 2, 3, 7, 5),
                 optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2.5f, 0.6f)));
        hidp__node_set_string(n, "mode", mode ? "linear" : "nearest");
        check(&t, mode ? "Resize opset 10 linear" : "Resize opset 10 nearest");
    }

    int x;
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 1, 1, 2, 2);
    n = NODE(&t, "Resize", x, -1, optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2, 2)));
    hidp__node_set_string(n, "mode", "linear");
    expect(&t, "Resize linear half_pixel 2x2 -> 4x4", 4, D(1, 1, 4, 4),
           F(1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f,
             3.75f, 4));
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 1, 1, 2, 2);
    n = NODE(&t, "Resize", x, -1, optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2, 2)));
    hidp__node_set_string(n, "mode", "linear");
    hidp__node_set_string(n, "coordinate_transformation_mode", "align_corners");
    expect(&t, "Resize linear align_corners 2x2 -> 4x4", 4, D(1, 1, 4, 4),
           F(1, 4.f / 3, 5.f / 3, 2, 5.f / 3, 2, 7.f / 3, 8.f / 3, 7.f / 3, 8.f / 3, 3, 10.f / 3, 3,
             10.f / 3, 11.f / 3, 4));
    optest_init(&t);
    t.g.opset = 10;
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 1, 1, 2, 2);
    NODE(&t, "Resize", x, optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2, 3)));
    expect(&t, "Resize opset 10 nearest 2x2 -> 4x6", 4, D(1, 1, 4, 6),
           F(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4));
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4, 5, 6, 7, 8), 1, 1, 2, 4);
    NODE(&t, "Resize", x, -1, optest_const_f32(&t, "s", 1, D(4), F(1, 1, 0.6f, 0.6f)));
    expect(&t, "Resize nearest half_pixel down 0.6", 4, D(1, 1, 1, 2), F(1, 3));
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, 4), 1, 1, 1, 4);
    n = NODE(&t, "Resize", x, -1, optest_const_f32(&t, "s", 1, D(4), F(1, 1, 1, 2)));
    hidp__node_set_string(n, "coordinate_transformation_mode", "asymmetric");
    hidp__node_set_string(n, "nearest_mode", "round_prefer_ceil");
    expect(&t, "Resize nearest asymmetric round_prefer_ceil", 4, D(1, 1, 1, 8),
           F(1, 2, 2, 3, 3, 4, 4, 4));

    optest_init(&t);
    NODE(&t, "Resize", IN(&t, "x", 1, 1, 3, 7, 7), -1,
         optest_const_f32(&t, "s", 1, D(4), F(1, 2, 2, 2)));
    expect_fail(&t, "Resize scaling channels", HIDP_EUNSUPPORTED, "only H and W");
    optest_init(&t);
    n = NODE(&t, "Resize", IN(&t, "x", 1, 1, 3, 7, 7), -1,
             optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2, 2)));
    hidp__node_set_string(n, "mode", "cubic");
    expect_fail(&t, "Resize cubic", HIDP_EUNSUPPORTED, "cubic");
    optest_init(&t);
    NODE(&t, "Resize", IN(&t, "x", 1, 1, 3, 7, 7), -1, IN(&t, "s", 1, 4));
    expect_fail(&t, "Resize runtime scales", HIDP_EUNSUPPORTED, "constant");
    optest_init(&t);
    NODE(&t, "Resize", IN(&t, "x", 1, 1, 3, 7, 7), -1,
         optest_const_f32(&t, "s", 1, D(4), F(1, 1, 2, 2)), I64(&t, "z", 1, 3, 14, 14));
    expect_fail(&t, "Resize scales and sizes", HIDP_ESHAPE, "either");
}

/* ---- pools ---- */

static void test_pool(void)
{
    optest t;
    hidp__node *n;
    struct {
        const char *op;
        int64_t k[2], s[2], p[4], d[2];
        int ceil, incl;
        const char *auto_pad, *what;
    } pc[] = {
        {"MaxPool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0, NULL, "MaxPool 3x3 s2 p1"},
        {"MaxPool", {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0, 0, NULL, "MaxPool 2x2 s2"},
        {"MaxPool", {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1, 0, NULL, "MaxPool 3x3 s2 ceil"},
        {"MaxPool", {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 0, NULL, "MaxPool 2x2 s2 p1 ceil"},
        {"MaxPool", {3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 0, 0, NULL, "MaxPool dilation 2"},
        {"MaxPool", {3, 2}, {1, 2}, {0, 1, 2, 0}, {1, 1}, 0, 0, NULL, "MaxPool asym pads"},
        {"MaxPool", {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0, 0, "SAME_UPPER", "MaxPool SAME_UPPER"},
        {"MaxPool", {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 0, 0, "SAME_LOWER", "MaxPool SAME_LOWER"},
        {"MaxPool", {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0, 0, "VALID", "MaxPool VALID"},
        {"AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0, NULL, "AveragePool 3x3 s2 p1"},
        {"AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 1, NULL, "AveragePool incl pad"},
        {"AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 0, NULL, "AveragePool ceil"},
        {"AveragePool",
         {3, 3},
         {2, 2},
         {1, 1, 1, 1},
         {1, 1},
         1,
         1,
         NULL,
         "AveragePool ceil incl pad"},
        {"AveragePool", {1, 7}, {1, 3}, {0, 3, 0, 2}, {1, 1}, 1, 1, NULL, "AveragePool 1x7"},
        {"AveragePool",
         {2, 2},
         {2, 2},
         {0, 0, 0, 0},
         {1, 1},
         0,
         0,
         "SAME_UPPER",
         "AveragePool SAME_UPPER"},
    };
    for (size_t i = 0; i < sizeof pc / sizeof *pc; i++) {
        optest_init(&t);
        n = NODE(&t, pc[i].op, IN(&t, "x", 9, 2, 17, 33, 14));
        hidp__node_set_ints(n, "kernel_shape", pc[i].k, 2);
        hidp__node_set_ints(n, "strides", pc[i].s, 2);
        hidp__node_set_ints(n, "pads", pc[i].p, 4);
        if (pc[i].d[0] != 1)
            hidp__node_set_ints(n, "dilations", pc[i].d, 2);
        hidp__node_set_int(n, "ceil_mode", pc[i].ceil);
        if (pc[i].incl)
            hidp__node_set_int(n, "count_include_pad", 1);
        if (pc[i].auto_pad)
            hidp__node_set_string(n, "auto_pad", pc[i].auto_pad);
        check(&t, pc[i].what);
    }
    optest_init(&t);
    n = NODE(&t, "MaxPool", IN(&t, "x", 9, 1, 1, 7, 1));
    hidp__node_set_ints(n, "kernel_shape", D(3, 1), 2);
    check(&t, "MaxPool 7x1 column");
    static const char *globals[] = {"GlobalAveragePool", "GlobalMaxPool"};
    for (int i = 0; i < 2; i++) {
        char what[64];
        optest_init(&t);
        NODE(&t, globals[i], IN(&t, "x", 4, 2, 17, 7, 7));
        snprintf(what, sizeof what, "%s 2x17x7x7", globals[i]);
        check(&t, what);
        optest_init(&t);
        NODE(&t, globals[i], IN(&t, "x", 4, 1, 3, 33));
        snprintf(what, sizeof what, "%s 1x3x33", globals[i]);
        check(&t, what);
    }

    float ramp[25];
    for (int i = 0; i < 25; i++)
        ramp[i] = (float)(i + 1);
    for (int incl = 0; incl < 2; incl++) {
        optest_init(&t);
        int x = KNOWN(&t, "x", ramp, 1, 1, 3, 3);
        n = NODE(&t, "AveragePool", x);
        hidp__node_set_ints(n, "kernel_shape", D(3, 3), 2);
        hidp__node_set_ints(n, "pads", D(1, 1, 1, 1), 4);
        hidp__node_set_int(n, "count_include_pad", incl);
        if (incl)
            expect(&t, "AveragePool 3x3 pad 1 count_include_pad=1 on a ramp", 4, D(1, 1, 3, 3),
                   F(12.f / 9, 21.f / 9, 16.f / 9, 27.f / 9, 5, 33.f / 9, 24.f / 9, 39.f / 9,
                     28.f / 9));
        else
            expect(&t, "AveragePool 3x3 pad 1 count_include_pad=0 on a ramp", 4, D(1, 1, 3, 3),
                   F(3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7));
    }
    optest_init(&t);
    int x = KNOWN(&t, "x", ramp, 1, 1, 5, 5);
    n = NODE(&t, "MaxPool", x);
    hidp__node_set_ints(n, "kernel_shape", D(2, 2), 2);
    hidp__node_set_ints(n, "strides", D(2, 2), 2);
    hidp__node_set_int(n, "ceil_mode", 1);
    expect(&t, "MaxPool 2x2 s2 ceil on 5x5", 4, D(1, 1, 3, 3), F(7, 9, 10, 17, 19, 20, 22, 24, 25));
    optest_init(&t);
    n = NODE(&t, "MaxPool", IN(&t, "x", 1, 1, 1, 5, 5));
    hidp__node_set_ints(n, "kernel_shape", D(2, 2), 2);
    hidp__node_set_ints(n, "strides", D(2, 2), 2);
    hidp__node_set_ints(n, "pads", D(1, 1, 1, 1), 4);
    hidp__node_set_int(n, "ceil_mode", 1);
    expect(&t, "MaxPool ceil drops a window starting in the right pad", 4, D(1, 1, 3, 3), NULL);
    for (int incl = 0; incl < 2; incl++) {
        optest_init(&t);
        x = KNOWN(&t, "x", ramp, 1, 1, 1, 6);
        n = NODE(&t, "AveragePool", x);
        hidp__node_set_ints(n, "kernel_shape", D(1, 3), 2);
        hidp__node_set_ints(n, "strides", D(1, 2), 2);
        hidp__node_set_ints(n, "pads", D(0, 1, 0, 1), 4);
        hidp__node_set_int(n, "ceil_mode", 1);
        hidp__node_set_int(n, "count_include_pad", incl);
        if (incl)
            expect(&t, "AveragePool ceil count_include_pad=1 [1..6]", 4, D(1, 1, 1, 4),
                   F(1, 3, 5, 3));
        else
            expect(&t, "AveragePool ceil count_include_pad=0 [1..6]", 4, D(1, 1, 1, 4),
                   F(1.5f, 3, 5, 6));
    }
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, -4), 1, 1, 2, 2);
    NODE(&t, "GlobalAveragePool", x);
    expect(&t, "GlobalAveragePool known value", 4, D(1, 1, 1, 1), F(0.5f));
    optest_init(&t);
    x = KNOWN(&t, "x", F(1, 2, 3, -4), 1, 1, 2, 2);
    NODE(&t, "GlobalMaxPool", x);
    expect(&t, "GlobalMaxPool known value", 4, D(1, 1, 1, 1), F(3));

    optest_init(&t);
    int y2 = hidp__graph_value(&t.g, "indices");
    n = NODE(&t, "MaxPool", IN(&t, "x", 1, 1, 3, 7, 7));
    hidp__node_set_ints(n, "kernel_shape", D(2, 2), 2);
    n->out = realloc(n->out, 2 * sizeof(int));
    n->out[1] = y2;
    n->n_out = 2;
    expect_fail(&t, "MaxPool with Indices", HIDP_EUNSUPPORTED, "Indices");
    optest_init(&t);
    NODE(&t, "MaxPool", IN(&t, "x", 1, 1, 3, 7, 7));
    expect_fail(&t, "MaxPool without kernel_shape", HIDP_EFORMAT, "kernel_shape");
    optest_init(&t);
    n = NODE(&t, "AveragePool", IN(&t, "x", 1, 1, 3, 7, 7, 7));
    hidp__node_set_ints(n, "kernel_shape", D(2, 2, 2), 3);
    expect_fail(&t, "AveragePool 3-D", HIDP_EUNSUPPORTED, "kernel_shape");
    optest_init(&t);
    n = NODE(&t, "MaxPool", IN(&t, "x", 1, 1, 3, 7, 7));
    hidp__node_set_ints(n, "kernel_shape", D(9, 2), 2);
    expect_fail(&t, "MaxPool kernel larger than input", HIDP_ESHAPE, "does not fit");
}

int main(void)
{
    test_activations();
    test_binary();
    test_shape_ops();
    test_gemm();
    test_softmax_bn_reduce();
    test_pad();
    test_resize();
    test_pool();
    return tap_done();
}
