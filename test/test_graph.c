/*
 * test_graph.c - the engine between reader and kernels, on graphs built by hand: the split
 * arithmetic, sorting, load rewrites (Constant, Identity/Dropout, BatchNorm folding, activation
 * fusion), constant folding of shape subgraphs and the memory plan. The model API on such graphs
 * is test_model_api.c.
 *
 * Tests that need a kernel another part of hidp provides (Conv, Reshape) skip while it is absent.
 */
#include "graph_build.h"
#include "tap.h"

/* ---- split ---- */

static void test_split(void)
{
    static const int64_t totals[] = {0, 1, 5, 16, 17, 63, 100, 1000, 1001};
    static const int parts[] = {1, 2, 3, 4, 7, 16, 64};
    static const int64_t aligns[] = {1, 4, 16};
    int cover_bad = 0, align_bad = 0, cases = 0;
    for (size_t a = 0; a < 3; a++)
        for (size_t t = 0; t < sizeof totals / sizeof *totals; t++)
            for (size_t p = 0; p < sizeof parts / sizeof *parts; p++) {
                int64_t prev = 0, lo, hi;
                cases++;
                for (int i = 0; i < parts[p]; i++) {
                    hidp__split_even(totals[t], parts[p], aligns[a], i, &lo, &hi);
                    if (hi < lo || (lo != prev && hi > lo))
                        cover_bad++;
                    if (hi > lo) {
                        prev = hi;
                        if (hi != totals[t] && (hi - lo) % aligns[a])
                            align_bad++;
                        if (lo % aligns[a])
                            align_bad++;
                    }
                }
                if (prev != totals[t])
                    cover_bad++;
            }
    TAP_EQ_INT(cover_bad, 0, "split_even: %d cases cover every element exactly once", cases);
    TAP_EQ_INT(align_bad, 0, "split_even: pieces start aligned and only the tail is short");
    int64_t lo, hi, nonempty = 0;
    for (int i = 0; i < 8; i++) {
        hidp__split_even(3, 8, 1, i, &lo, &hi);
        nonempty += hi > lo;
    }
    TAP_EQ_INT(nonempty, 3, "split_even: 3 elements in 8 parts gives 3 pieces of one");
    hidp__split_even(40, 2, 16, 0, &lo, &hi);
    TAP_EQ_INT(hi, 16, "split_even: 40 channels, 2 workers, align 16: first piece ends at 16");
    double w[3] = {1, 3, 0};
    int64_t sizes[3];
    for (int i = 0; i < 3; i++) {
        hidp__split_weighted(64, 3, w, 4, i, &lo, &hi);
        sizes[i] = hi - lo;
    }
    tap_ok(sizes[0] == 16 && sizes[1] == 48 && sizes[2] == 0,
           "split_weighted: weights 1:3:0 of 64 give 16/48/0 (got %lld/%lld/%lld)",
           (long long)sizes[0], (long long)sizes[1], (long long)sizes[2]);
}

/* ---- sort ---- */

static void test_sort(void)
{
    hidp__err err = {0, ""};
    begin(13);
    input("x", DIMS(1, 4));
    NODE("Relu", "c", "b");
    NODE("Sigmoid", "b", "a");
    NODE("Relu", "a", "x");
    output("c");
    int rc = hidp__graph_sort(&G, &err);
    tap_ok(rc == 0 && G.n_nodes == 3 && !strcmp(G.nodes[0].name, "a") &&
               !strcmp(G.nodes[1].name, "b") && !strcmp(G.nodes[2].name, "c"),
           "sort: reversed chain comes out a, b, c (rc %d: %s)", rc, err.msg);
    tap_ok(G.vals[find("a")].producer == 0 && G.vals[find("c")].producer == 2,
           "sort: producers renumbered");
    hidp__graph_free(&G);

    begin(13);
    input("x", DIMS(1, 4));
    NODE("Add", "a", "x", "b");
    NODE("Relu", "b", "a");
    output("b");
    rc = hidp__graph_sort(&G, &err);
    tap_ok(rc == HIDP_EFORMAT && strstr(err.msg, "cycle"), "sort: a cycle is refused (%s)",
           err.msg);
    hidp__graph_free(&G);

    begin(13);
    input("x", DIMS(1, 4));
    NODE("Add", "a", "x", "ghost");
    output("a");
    rc = hidp__graph_sort(&G, &err);
    tap_ok(rc == HIDP_EFORMAT && strstr(err.msg, "'ghost' is never produced"),
           "sort: an input nobody produces is named (%s)", err.msg);
    hidp__graph_free(&G);
}

/* ---- load rewrites ---- */

static void test_constant_and_identity(void)
{
    hidp__err err = {0, ""};
    char *unsup = NULL;
    begin(13);
    input("x", DIMS(1, 4));
    hidp__node_set_ints(NODE0("Constant", "k"), "value_ints", (int64_t[]){1, -1}, 2);
    hidp__node_set_float(NODE0("Constant", "f"), "value_float", 2.5f);
    int tv = fconst("t_attr", 1, (int64_t[]){2}, (float[]){4, 5});
    hidp__node_set_tensor(NODE0("Constant", "t"), "value", tv);
    NODE("Relu", "r", "x");
    NODE("Identity", "i1", "r");
    NODE("Sigmoid", "s", "i1");
    NODE("Dropout", "d", "s");
    NODE("Identity", "y", "d");
    output("y");
    output("k");
    int rc = hidp__rewrite_load(&G, &unsup, &err);
    const hidp__value *k = &G.vals[find("k")], *f = &G.vals[find("f")];
    tap_ok(rc == 0 && (k->flags & HIDP__VAL_CONST) && k->dtype == HIDP__DT_I64 &&
               k->shape.ndim == 1 && k->shape.d[0] == 2 && ((int64_t *)k->data)[1] == -1,
           "Constant value_ints becomes an int64 constant [1, -1] (rc %d %s)", rc, err.msg);
    tap_ok((f->flags & HIDP__VAL_CONST) && f->shape.ndim == 0 && *(float *)f->data == 2.5f,
           "Constant value_float becomes a float scalar");
    const hidp__value *t = &G.vals[find("t")];
    tap_ok((t->flags & HIDP__VAL_CONST) && t->shape.d[0] == 2 && ((float *)t->data)[1] == 5.0f &&
               G.vals[tv].data == NULL,
           "Constant value (a tensor) is moved into the output");
    tap_ok(G.n_nodes == 2 && !strcmp(G.nodes[1].op_type, "Sigmoid") &&
               G.nodes[1].in[0] == find("r") && G.nodes[1].out[0] == find("y"),
           "Identity and Dropout removed; the graph output keeps its name 'y' (%d nodes)",
           G.n_nodes);
    tap_ok(G.outputs[0] == find("y") && G.vals[find("y")].producer == 1,
           "graph output 'y' is produced by the Sigmoid");
    tap_ok(unsup == NULL, "nothing unsupported (%s)", unsup ? unsup : "");
    free(unsup);
    hidp__graph_free(&G);
}

/* A stand-in producer op that allows fusion (the tests set node->op by hand). */
static int fake_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    (void)err;
    g->vals[n->out[0]].shape = g->vals[n->in[0]].shape;
    return 0;
}
static void fake_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)g, (void)n, (void)s, (void)scratch;
}
static const hidp__op_def fake_fusable = {"Fake", HIDP__OP_CAN_FUSE, NULL, fake_reshape,
                                          fake_run, fake_run, NULL, NULL};
static const hidp__op_def fake_plain = {"Fake", 0, NULL, fake_reshape, fake_run, fake_run,
                                        NULL, NULL};

static void test_fusion(void)
{
    hidp__err err = {0, ""};
    begin(13);
    input("x", DIMS(1, 4));
    NODE("Fake", "p1", "x");
    NODE("Relu", "a1", "p1");              /* fused */
    NODE("Fake", "p2", "a1");
    NODE("Relu", "a2", "p2");              /* p2 has two readers: not fused */
    NODE("Sigmoid", "b2", "p2");
    NODE("Fake", "p3", "b2");
    fconst("lo", 0, NULL, (float[]){-1.0f});
    fconst("hi", 0, NULL, (float[]){6.0f});
    NODE("Clip", "a3", "p3", "lo", "hi");  /* fused with bounds */
    NODE("Fake", "p4", "a3");
    NODE("Clip", "a4", "p4", "a2");        /* bound computed at run time: not fused */
    NODE("Fake", "p5", "a4");
    output("p5");
    NODE("Relu", "a5", "p5");              /* p5 is a graph output: not fused */
    output("a5");
    NODE("Fake", "p6", "a5");
    hidp__node_set_float(NODE("LeakyRelu", "a6", "p6"), "alpha", 0.3f); /* op can't fuse */
    output("a6");
    for (int i = 0; i < G.n_nodes; i++)
        if (!strcmp(G.nodes[i].op_type, "Fake"))
            G.nodes[i].op = &fake_fusable;
    G.nodes[G.n_nodes - 2].op = &fake_plain; /* p6 */
    int fused = hidp__fuse_activations(&G, &err);
    const hidp__node *p1 = &G.nodes[G.vals[find("a1")].producer];
    const hidp__node *p3 = &G.nodes[G.vals[find("a3")].producer];
    TAP_EQ_INT(fused, 2, "fusion: two of six activations are fused");
    tap_ok(!strcmp(p1->name, "p1") && p1->act.kind == HIDP__ACT_RELU,
           "fusion: Relu fused into its only reader's producer, which now writes 'a1'");
    tap_ok(!strcmp(p3->name, "p3") && p3->act.kind == HIDP__ACT_CLIP && p3->act.alpha == -1.0f &&
               p3->act.beta == 6.0f, "fusion: Clip fused with its constant bounds -1, 6");
    tap_ok(G.nodes[G.vals[find("p2")].producer].act.kind == HIDP__ACT_NONE &&
               G.nodes[G.vals[find("p4")].producer].act.kind == HIDP__ACT_NONE &&
               G.nodes[G.vals[find("p5")].producer].act.kind == HIDP__ACT_NONE &&
               G.nodes[G.vals[find("p6")].producer].act.kind == HIDP__ACT_NONE,
           "fusion: not into a value with two readers, a run-time Clip bound, a graph output, "
           "or an op without CAN_FUSE");
    hidp__graph_free(&G);

    /* Opset 9 Clip: bounds are attributes. */
    begin(9);
    input("x", DIMS(1, 4));
    NODE("Fake", "p", "x");
    hidp__node *c = NODE("Clip", "y", "p");
    hidp__node_set_float(c, "min", 0.0f);
    hidp__node_set_float(c, "max", 6.0f);
    output("y");
    G.nodes[0].op = &fake_fusable;
    fused = hidp__fuse_activations(&G, &err);
    tap_ok(fused == 1 && G.nodes[0].act.kind == HIDP__ACT_CLIP && G.nodes[0].act.beta == 6.0f,
           "fusion: opset-9 Clip takes min/max attributes");
    hidp__graph_free(&G);

    /* SiLU as PyTorch exports it: Mul(x, Sigmoid(x)), either operand order. */
    begin(13);
    input("x", DIMS(1, 4));
    NODE("Fake", "p1", "x");
    NODE("Sigmoid", "s1", "p1");
    NODE("Mul", "m1", "p1", "s1");          /* fused */
    NODE("Fake", "p2", "m1");
    NODE("Sigmoid", "s2", "p2");
    NODE("Mul", "m2", "s2", "p2");          /* fused, operands swapped */
    NODE("Fake", "p3", "m2");
    NODE("Sigmoid", "s3", "p3");
    NODE("Mul", "m3", "p3", "s3");          /* p3 has a third reader: not fused */
    NODE("Add", "a3", "m3", "p3");
    NODE("Fake", "p4", "a3");
    NODE("Sigmoid", "s4", "p4");
    NODE("Mul", "m4", "p4", "p4");          /* not x * sigmoid(x): nothing fuses */
    NODE("Add", "a4", "m4", "s4");
    output("a4");
    for (int i = 0; i < G.n_nodes; i++)
        if (!strcmp(G.nodes[i].op_type, "Fake"))
            G.nodes[i].op = &fake_fusable;
    fused = hidp__fuse_activations(&G, &err);
    tap_ok(fused == 2 && G.nodes[G.vals[find("m1")].producer].act.kind == HIDP__ACT_SILU &&
               !strcmp(G.nodes[G.vals[find("m1")].producer].name, "p1") &&
               G.nodes[G.vals[find("m2")].producer].act.kind == HIDP__ACT_SILU &&
               !strcmp(G.nodes[G.vals[find("m2")].producer].name, "p2"),
           "fusion: Sigmoid + Mul become a SiLU in the producer, in either operand order "
           "(%d fused)", fused);
    tap_ok(G.nodes[G.vals[find("p3")].producer].act.kind == HIDP__ACT_NONE &&
               !strcmp(G.nodes[G.vals[find("s4")].producer].op_type, "Sigmoid") &&
               !strcmp(G.nodes[G.vals[find("m4")].producer].op_type, "Mul") &&
               G.nodes[G.vals[find("p4")].producer].act.kind == HIDP__ACT_NONE,
           "fusion: no SiLU when x has another reader, or when the Mul is not x * sigmoid(x)");
    hidp__graph_free(&G);
}

static void test_bn_fold_weights(void)
{
    hidp__err err = {0, ""};
    char *unsup = NULL;
    static const float w[4] = {0.5f, -1.0f, 2.0f, 0.25f}, sc[2] = {1.5f, 0.5f},
                       sh[2] = {0.1f, -0.2f}, mu[2] = {0.3f, -0.4f}, var[2] = {0.8f, 2.0f};
    begin(13);
    input("x", DIMS(1, 2, 3, 3));
    fconst("w", 4, (int64_t[]){2, 2, 1, 1}, w);
    fconst("sc", 1, (int64_t[]){2}, sc);
    fconst("sh", 1, (int64_t[]){2}, sh);
    fconst("mu", 1, (int64_t[]){2}, mu);
    fconst("var", 1, (int64_t[]){2}, var);
    NODE("Conv", "c", "x", "w");
    hidp__node_set_float(NODE("BatchNormalization", "y", "c", "sc", "sh", "mu", "var"),
                         "epsilon", 1e-3f);
    output("y");
    int rc = hidp__rewrite_load(&G, &unsup, &err);
    int ok = rc == 0 && G.n_nodes == 1 && G.nodes[0].n_in == 3 && G.nodes[0].out[0] == find("y");
    tap_ok(ok, "BN folded into the conv, which gains a bias and writes 'y' (rc %d %s)", rc,
           err.msg);
    if (ok) {
        const float *w2 = G.vals[G.nodes[0].in[1]].data, *b2 = G.vals[G.nodes[0].in[2]].data;
        float want_w[4], want_b[2];
        for (int o = 0; o < 2; o++) {
            double s = sc[o] / sqrt(var[o] + 1e-3);
            want_w[2 * o] = (float)(w[2 * o] * s);
            want_w[2 * o + 1] = (float)(w[2 * o + 1] * s);
            want_b[o] = (float)(-mu[o] * s + sh[o]);
        }
        TAP_CLOSE(w2, want_w, 4, 1e-6, "BN fold: weights scaled by scale/sqrt(var+eps)");
        TAP_CLOSE(b2, want_b, 2, 1e-6, "BN fold: bias = (b - mean) * s + shift");
        tap_ok(G.vals[find("w")].data != w2 && ((float *)G.vals[find("w")].data)[0] == w[0],
               "BN fold: the original weight constant is untouched");
    }
    free(unsup);
    hidp__graph_free(&G);

    /* The conv output is also read elsewhere: the BN stays. */
    begin(13);
    input("x", DIMS(1, 2, 3, 3));
    fconst("w", 4, (int64_t[]){2, 2, 1, 1}, w);
    fconst("sc", 1, (int64_t[]){2}, sc);
    fconst("sh", 1, (int64_t[]){2}, sh);
    fconst("mu", 1, (int64_t[]){2}, mu);
    fconst("var", 1, (int64_t[]){2}, var);
    NODE("Conv", "c", "x", "w");
    NODE("BatchNormalization", "y", "c", "sc", "sh", "mu", "var");
    output("y");
    output("c");
    rc = hidp__rewrite_load(&G, &unsup, &err);
    tap_ok(rc == 0 && G.n_nodes == 2, "BN not folded when the conv output has another reader");
    free(unsup);
    hidp__graph_free(&G);
}

/* ---- constant folding ---- */

/* Folds every node of G in order (inputs already bound), as bind would without ops. */
static int fold_all(hidp__err *err)
{
    for (int i = 0; i < G.n_nodes; i++) {
        if (G.nodes[i].dead)
            continue;
        int rc = hidp__fold_node(&G, i, err);
        if (rc != 1)
            return rc ? rc : -100 - i;
    }
    return 0;
}

/* Checks that value name is an int64 constant equal to want[0..n). */
static void check_ints(const char *name, const int64_t *want, int n, const char *what)
{
    const hidp__value *v = &G.vals[find(name)];
    int ok = (v->flags & HIDP__VAL_CONST) && v->dtype == HIDP__DT_I64 &&
             hidp__shape_count(&v->shape) == n;
    for (int i = 0; ok && i < n; i++)
        ok = ((int64_t *)v->data)[i] == want[i];
    if (!tap_ok(ok, "%s", what)) {
        char buf[256] = "";
        size_t at = 0;
        int64_t k = v->dtype == HIDP__DT_I64 && v->data ? hidp__shape_count(&v->shape) : 0;
        for (int64_t i = 0; i < k && i < 16; i++)
            at += (size_t)snprintf(buf + at, sizeof buf - at, " %lld",
                                   (long long)((int64_t *)v->data)[i]);
        tap_diag("  '%s': const %d dtype %d count %lld:%s", name, !!(v->flags & HIDP__VAL_CONST),
                 v->dtype, (long long)hidp__shape_count(&v->shape), buf);
    }
}

static void test_fold(void)
{
    hidp__err err = {0, ""};
    /* PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat. */
    begin(13);
    int x = input("x", DIMS(-1, 3, 4, 5));
    G.vals[x].shape = hidp__shape_make(4, (int64_t[]){2, 3, 4, 5});
    iconst("zero", 0, NULL, (int64_t[]){0});
    iconst("axes0", 1, (int64_t[]){1}, (int64_t[]){0});
    iconst("minus1", 1, (int64_t[]){1}, (int64_t[]){-1});
    NODE("Shape", "shp", "x");
    hidp__node_set_int(NODE("Gather", "n", "shp", "zero"), "axis", 0);
    NODE("Unsqueeze", "n1", "n", "axes0");
    hidp__node_set_int(NODE("Concat", "newshape", "n1", "minus1"), "axis", 0);
    int rc = fold_all(&err);
    tap_ok(rc == 0, "fold: PyTorch flatten subgraph folds (rc %d %s)", rc, err.msg);
    check_ints("shp", (int64_t[]){2, 3, 4, 5}, 4, "fold: Shape of the bound input");
    check_ints("newshape", (int64_t[]){2, -1}, 2, "fold: Gather/Unsqueeze/Concat give [2, -1]");
    tap_ok(G.vals[find("n")].shape.ndim == 0, "fold: Gather with a scalar index gives a scalar");
    hidp__graph_free(&G);

    /* paddle2onnx style: Shape -> Slice -> ReduceProd, Cast, arithmetic, Where, Range... */
    begin(13);
    x = input("x", DIMS(2, 3, 4, 5));
    G.vals[x].shape = hidp__shape_make(4, (int64_t[]){2, 3, 4, 5});
    iconst("s0", 1, (int64_t[]){1}, (int64_t[]){1});
    iconst("e0", 1, (int64_t[]){1}, (int64_t[]){INT64_MAX});
    iconst("b0", 1, (int64_t[]){1}, (int64_t[]){0});
    iconst("b1", 1, (int64_t[]){1}, (int64_t[]){1});
    iconst("rev_s", 1, (int64_t[]){1}, (int64_t[]){-1});
    iconst("rev_e", 1, (int64_t[]){1}, (int64_t[]){INT64_MIN});
    NODE("Shape", "shp", "x");
    NODE("Slice", "tail", "shp", "s0", "e0");
    hidp__node_set_int(NODE("ReduceProd", "prod", "tail"), "keepdims", 1);
    NODE("Slice", "head", "shp", "b0", "b1");
    hidp__node_set_int(NODE("Concat", "flat", "head", "prod"), "axis", 0);
    NODE("Slice", "rev", "shp", "rev_s", "rev_e", "b0", "rev_s");
    hidp__node_set_int(NODE("Cast", "shpf", "shp"), "to", 1);
    fconst("half", 0, NULL, (float[]){0.5f});
    NODE("Mul", "halff", "shpf", "half");
    NODE("Floor", "fl", "halff");
    hidp__node_set_int(NODE("Cast", "halfi", "fl"), "to", 7);
    iconst("two", 0, NULL, (int64_t[]){2});
    NODE("Div", "q", "shp", "two");
    iconst("three", 0, NULL, (int64_t[]){3});
    NODE("Equal", "eq", "shp", "three");
    NODE("Where", "wh", "eq", "q", "shp");
    iconst("r0", 0, NULL, (int64_t[]){1});
    iconst("r1", 0, NULL, (int64_t[]){10});
    iconst("r2", 0, NULL, (int64_t[]){3});
    NODE("Range", "rng", "r0", "r1", "r2");
    int cv = hidp__graph_new_value(&G, "seven");
    int64_t *seven = malloc(sizeof *seven);
    *seven = 7;
    hidp__graph_set_const(&G, cv, HIDP__DT_I64, &(hidp__shape){1, {1}}, seven);
    hidp__node_set_tensor(NODE("ConstantOfShape", "filled", "head"), "value", cv);
    iconst("eshape", 1, (int64_t[]){2}, (int64_t[]){2, 3});
    NODE("Expand", "ex", "rng", "eshape");    /* [3] -> [2, 3] */
    NODE("Transpose", "tr", "ex");            /* [3, 2] */
    iconst("sqax", 1, (int64_t[]){1}, (int64_t[]){0});
    NODE("Unsqueeze", "un", "tr", "sqax");    /* [1, 3, 2] */
    NODE("Squeeze", "sq", "un");              /* [3, 2] */
    NODE("Size", "sz", "x");
    rc = fold_all(&err);
    tap_ok(rc == 0, "fold: paddle-style subgraph folds (rc %d %s)", rc, err.msg);
    check_ints("flat", (int64_t[]){2, 60}, 2, "fold: Slice + ReduceProd + Concat give [2, 60]");
    check_ints("rev", (int64_t[]){5, 4, 3, 2}, 4, "fold: Slice with step -1 reverses");
    check_ints("halfi", (int64_t[]){1, 1, 2, 2}, 4, "fold: Cast to float, Mul, Floor, Cast back");
    check_ints("q", (int64_t[]){1, 1, 2, 2}, 4, "fold: int Div");
    check_ints("wh", (int64_t[]){2, 1, 4, 5}, 4, "fold: Equal and Where");
    check_ints("rng", (int64_t[]){1, 4, 7}, 3, "fold: Range(1, 10, 3)");
    check_ints("filled", (int64_t[]){7, 7}, 2, "fold: ConstantOfShape with an int64 value");
    check_ints("sq", (int64_t[]){1, 1, 4, 4, 7, 7}, 6,
               "fold: Expand, Transpose, Unsqueeze, Squeeze");
    check_ints("sz", (int64_t[]){120}, 1, "fold: Size");
    hidp__graph_free(&G);

    /* A float node whose inputs are all constants folds through fold.c's float path too. */
    begin(13);
    fconst("a", 1, (int64_t[]){3}, (float[]){1, 2, 3});
    fconst("b", 0, NULL, (float[]){0.5f});
    NODE("Sub", "d", "a", "b");
    rc = fold_all(&err);
    const float *d = G.vals[find("d")].data;
    tap_ok(rc == 0 && d && d[0] == 0.5f && d[2] == 2.5f, "fold: float Sub with broadcasting");
    hidp__graph_free(&G);
}

/* ---- memory plan ---- */

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) % n;
}

static void test_plan_random(void)
{
    hidp__err err = {0, ""};
    int bad = 0, misaligned = 0, graphs = 40;
    size_t arena = 0, sum = 0;
    for (int k = 0; k < graphs; k++) {
        begin(13);
        int64_t d = 1 + rnd(64);
        int v = input("x", DIMS(1, 1, 1, 1));
        G.vals[v].shape = hidp__shape_make(2, (int64_t[]){1, d});
        int nodes = 5 + (int)rnd(40);
        for (int i = 0; i < nodes; i++) {
            char out[32];
            int in[3], o, n_in = 1 + (int)rnd(3);
            snprintf(out, sizeof out, "v%d", i);
            o = hidp__graph_value(&G, out);
            for (int j = 0; j < n_in; j++)
                in[j] = (int)rnd((uint32_t)G.n_vals - 1); /* any earlier value */
            G.vals[o].shape = hidp__shape_make(2, (int64_t[]){1, 1 + rnd(300)});
            hidp__graph_add_node(&G, out, "Any", "", in, n_in, &o, 1);
            if (rnd(5) == 0)
                output(out);
        }
        hidp__plan p;
        hidp__life *life = NULL;
        int n = hidp__plan_lifetimes(&G, &life, &err);
        if (hidp__plan_memory(&G, NULL, 0, &p, &err) != 0 || n < 0) {
            bad++;
        } else {
            bad += plan_overlaps(&G, life, n);
            for (int i = 0; i < n; i++)
                misaligned += G.vals[life[i].value].arena_off % HIDP__ALIGN != 0;
            arena += p.arena_bytes;
            sum += p.values_bytes;
        }
        free(life);
        hidp__plan_free(&p);
        hidp__graph_free(&G);
    }
    TAP_EQ_INT(bad, 0, "plan: %d random graphs, no two values alive together share bytes", graphs);
    TAP_EQ_INT(misaligned, 0, "plan: every offset is 64-byte aligned");
    tap_ok(arena < sum, "plan: arenas total %zu bytes < %zu without reuse", arena, sum);
}

int main(void)
{
    test_split();
    test_sort();
    test_constant_and_identity();
    test_fusion();
    test_bn_fold_weights();
    test_fold();
    test_plan_random();
    return tap_done();
}
