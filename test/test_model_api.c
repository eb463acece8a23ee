/*
 * test_model_api.c - the model API on graphs built by hand: prepare and re-prepare, inputs and
 * outputs, threads, the error messages, residual and BatchNorm folding through a whole model,
 * and the context.
 */
#include "graph_build.h"
#include "tap.h"

/* ---- the model API ---- */

static hidp_context *CTX;

static hidp_model *make_model(void)
{
    hidp_model *m = NULL;
    int rc = hidp__model_from_graph(CTX, &G, &m);
    if (rc)
        tap_diag("load failed: %s", hidp_context_last_error(CTX));
    return m;
}

static float sigm(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

/* x (batch dynamic) -> Relu -> Sigmoid -> Relu -> Sigmoid -> Relu -> Sigmoid -> y */
static hidp_model *chain_model(void)
{
    begin(13);
    input("x", DIMS(-1, 16, 40, 40));
    const char *names[] = {"x", "a", "b", "c", "d", "e", "y"};
    for (int i = 0; i < 6; i++)
        node(i % 2 ? "Sigmoid" : "Relu", names[i + 1], 1, &names[i]);
    output("y");
    return make_model();
}

static void chain_expect(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        for (int k = 0; k < 3; k++)
            v = sigm(v > 0 ? v : 0);
        y[i] = v;
    }
}

/* Sets input 0 to a pattern, runs, checks the output against chain_expect. */
static void chain_check(hidp_model *m, size_t n, const char *what)
{
    float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
    const float *y = NULL;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((int)(i * 7919 % 2001) - 1000) / 250.0f;
    chain_expect(x, want, n);
    int rc = hidp_model_set_input(m, 0, x, n);
    if (rc == 0)
        rc = hidp_model_run(m);
    if (rc == 0)
        rc = hidp_model_output(m, 0, &y, &count);
    if (tap_ok(rc == 0 && count == n, "%s: runs, %zu outputs (rc %d %s)", what, count, rc,
               rc ? hidp_context_last_error(CTX) : "")) {
        TAP_CLOSE(y, want, n, 1e-6, "%s: output matches", what);
        /* The input stays set: running again gives the same bytes. */
        memcpy(want, y, n * sizeof *want);
        rc = hidp_model_run(m);
        tap_ok(rc == 0 && memcmp(y, want, n * sizeof *want) == 0,
               "%s: a second run without set_input gives the same bytes", what);
    } else {
        tap_ok(0, "%s: output matches", what);
        tap_ok(0, "%s: a second run without set_input gives the same bytes", what);
    }
    free(x);
    free(want);
}

static void test_model_chain(void)
{
    hidp_model *m = chain_model();
    hidp_tensor_info ti;
    if (!tap_ok(m != NULL, "chain model loads"))
        return;
    TAP_EQ_INT(hidp_model_run(m), HIDP_ESTATE, "run before prepare fails with HIDP_ESTATE");
    tap_ok(strstr(hidp_context_last_error(CTX), "not prepared") != NULL,
           "  ...and says so: %s", hidp_context_last_error(CTX));
    TAP_EQ_INT(hidp_model_set_input(m, 0, (float[]){0}, 1), HIDP_ESTATE,
               "set_input before prepare fails with HIDP_ESTATE");
    tap_ok(hidp_model_input_info(m, 0, &ti) == 0 && ti.ndim == 4 && ti.dims[0] == -1 &&
               ti.dims[1] == 16 && !strcmp(ti.name, "x"),
           "input_info before prepare shows the declared shape with the dynamic dim");

    int rc = hidp_model_set_input_shape(m, 0, (int64_t[]){1, 3, 40, 40}, 4);
    const char *msg = hidp_context_last_error(CTX);
    tap_ok(rc == HIDP_ESHAPE &&
               !strcmp(msg, "input 'x': got shape 1x3x40x40, model expects ?x16x40x40"),
           "a wrong input shape is refused: %s", msg);
    rc = hidp_model_set_input_shape(m, 0, (int64_t[]){16, 40, 40}, 3);
    TAP_EQ_INT(rc, HIDP_ESHAPE, "a wrong input rank is refused");

    rc = hidp_model_prepare(m);
    TAP_EQ_INT(rc, 0, "prepare with the declared shape (batch 1)");
    if (rc)
        goto done;
    tap_ok(hidp_model_input_info(m, 0, &ti) == 0 && ti.dims[0] == 1,
           "input_info after prepare shows the bound shape");
    tap_ok(hidp_model_output_info(m, 0, &ti) == 0 && !strcmp(ti.name, "y") && ti.ndim == 4 &&
               ti.dims[0] == 1 && ti.dims[3] == 40, "output_info: 'y' 1x16x40x40");
    TAP_EQ_INT(hidp_model_set_input(m, 0, (float[]){0}, 1), HIDP_ESHAPE,
               "set_input with the wrong count fails with HIDP_ESHAPE");
    TAP_EQ_INT(hidp_model_num_layers(m), 6, "six layers");
    hidp_layer_info li;
    tap_ok(hidp_model_layer_info(m, 1, &li) == 0 && !strcmp(li.op_type, "Sigmoid") &&
               !strcmp(li.name, "b") && li.dims[1] == 16 && !strcmp(li.fused, ""),
           "layer_info(1): Sigmoid 'b'");
    chain_check(m, 16 * 40 * 40, "batch 1, 1 thread");

    /* Memory: a chain needs the input and two buffers in turn, not seven. */
    size_t arena = hidp__model_arena_bytes(m), all = hidp__model_values_bytes(m);
    tap_ok(arena == 3 * 16 * 40 * 40 * 4 && arena < all,
           "chain arena %zu bytes < %zu without reuse", arena, all);
    hidp__life *life = NULL;
    hidp__err err = {0, ""};
    int n = hidp__plan_lifetimes(&m->g, &life, &err);
    TAP_EQ_INT(plan_overlaps(&m->g, life, n), 0, "chain: no live values share bytes");
    free(life);

    hidp_context_set_threads(CTX, 2);
    rc = hidp_model_prepare(m);
    TAP_EQ_INT(rc, 0, "prepare again with 2 threads");
    int split = 0;
    for (int i = 0; i < m->g.n_nodes; i++) {
        hidp__slice s = hidp__exec_slice(m->exec, i, 1);
        split += s.c1 > s.c0 && s.h1 > s.h0;
    }
    TAP_EQ_INT(split, 6, "every layer gives worker 1 a slice");
    chain_check(m, 16 * 40 * 40, "batch 1, 2 threads");

    hidp_context_set_threads(CTX, 3);
    rc = hidp_model_set_input_shape(m, 0, (int64_t[]){3, 16, 40, 40}, 4);
    if (rc == 0)
        rc = hidp_model_prepare(m);
    TAP_EQ_INT(rc, 0, "re-prepare with batch 3 and 3 threads");
    tap_ok(hidp_model_output_info(m, 0, &ti) == 0 && ti.dims[0] == 3, "output batch is 3");
    chain_check(m, 3 * 16 * 40 * 40, "batch 3, 3 threads");

    hidp__model_set_reference(m, 1);
    rc = hidp_model_prepare(m);
    TAP_EQ_INT(rc, 0, "prepare in reference mode");
    chain_check(m, 3 * 16 * 40 * 40, "batch 3, reference kernels");
    hidp_context_set_threads(CTX, 1);
    TAP_EQ_INT(hidp_context_set_threads(CTX, 0), HIDP_EINVAL, "0 threads refused");
done:
    hidp_model_destroy(m);
}

static void test_model_errors(void)
{
    begin(13);
    input("x", DIMS(1, 4));
    NODE("Relu", "a", "x");
    NODE("FooOp", "f", "a");
    int in = find("f"), o = hidp__graph_value(&G, "b");
    hidp__graph_add_node(&G, "b", "Bar", "com.example", &in, 1, &o, 1);
    NODE("Sigmoid", "y", "b");
    output("y");
    hidp_model *m = make_model();
    tap_ok(m != NULL, "a model with unsupported ops loads");
    if (m) {
        int rc = hidp_model_prepare(m);
        const char *msg = hidp_context_last_error(CTX);
        tap_ok(rc == HIDP_EUNSUPPORTED && strstr(msg, "FooOp (node 'f')") &&
                   strstr(msg, "com.example.Bar (node 'b')"),
               "prepare lists every unsupported op and node: %s", msg);
        hidp_model_destroy(m);
    }

    /* A graph input copied straight to a graph output. */
    begin(13);
    input("x", DIMS(1, 4));
    NODE("Identity", "y", "x");
    output("y");
    m = make_model();
    if (m) {
        int rc = hidp_model_prepare(m);
        tap_ok(rc == HIDP_EUNSUPPORTED && strstr(hidp_context_last_error(CTX), "'y'"),
               "Identity from input to output is refused clearly: %s",
               hidp_context_last_error(CTX));
        hidp_model_destroy(m);
    }

    /* A constant graph output next to a computed one. */
    begin(13);
    input("x", DIMS(1, 4));
    NODE("Relu", "y", "x");
    hidp__node_set_floats(NODE0("Constant", "k"), "value_floats", (float[]){1, 2, 3}, 3);
    output("y");
    output("k");
    m = make_model();
    const float *k = NULL;
    size_t count = 0;
    int rc = m ? hidp_model_prepare(m) : -1;
    if (rc == 0)
        rc = hidp_model_set_input(m, 0, (float[]){-1, 2, -3, 4}, 4);
    if (rc == 0)
        rc = hidp_model_run(m);
    if (rc == 0)
        rc = hidp_model_output(m, 1, &k, &count);
    tap_ok(rc == 0 && count == 3 && k[2] == 3.0f, "a constant graph output is returned (rc %d %s)",
           rc, hidp_context_last_error(CTX));
    TAP_EQ_INT(m ? hidp_model_output(m, 2, &k, &count) : 0, HIDP_EINVAL,
               "output index out of range");
    hidp_model_destroy(m);
}

/* Residual Adds folded into the conv at prepare (engine/residual.c): relu(conv(x) + r), checked
 * against the arithmetic done here in each mode, and the cases that must stay an Add. */
static void test_model_residual(void)
{
    if (!op_ready("Conv")) {
        tap_skip("no Conv kernel in this build yet", "residual model");
        return;
    }
    static const float w[2] = {0.5f, -1.5f}, b[2] = {0.25f, -0.5f}, g[2] = {2.0f, 3.0f};
    begin(13);
    input("x", DIMS(1, 1, 7, 9));
    input("r", DIMS(1, 2, 7, 9));
    fconst("w", 4, (int64_t[]){2, 1, 1, 1}, w);
    fconst("b", 1, (int64_t[]){2}, b);
    fconst("g", 4, (int64_t[]){1, 2, 1, 1}, g);
    NODE("Conv", "c1", "x", "w", "b");
    NODE("Add", "a1", "r", "c1");             /* folded: the conv's operand second */
    NODE("Relu", "y1", "a1");
    NODE("Conv", "c2", "x", "w");
    NODE("Add", "y2", "c2", "g");             /* broadcast [1,2,1,1]: stays an Add */
    NODE("Conv", "c3", "x", "w");
    NODE("Add", "a3", "c3", "r");             /* c3 has a second reader: stays an Add */
    NODE("Mul", "y3", "a3", "c3");
    output("y1");
    output("y2");
    output("y3");
    hidp_model *m = make_model();
    float x[63], r[126], want1[126], want2[126], want3[126];
    for (int i = 0; i < 63; i++)
        x[i] = (float)(i % 11) / 3.0f - 1.5f;
    for (int i = 0; i < 126; i++)
        r[i] = (float)(i % 7) / 2.0f - 1.75f;
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 63; i++) {
            const float c = w[o] * x[i], v = c + b[o] + r[o * 63 + i];
            want1[o * 63 + i] = v > 0 ? v : 0;
            want2[o * 63 + i] = c + g[o];
            want3[o * 63 + i] = (c + r[o * 63 + i]) * c;
        }
    static const char *names[] = {"1 thread", "2 threads", "reference"};
    for (int mode = 0; m && mode < 3; mode++) {
        hidp_context_set_threads(CTX, mode == 1 ? 2 : 1);
        hidp__model_set_reference(m, mode == 2);
        const float *y[3] = {NULL, NULL, NULL};
        size_t count[3] = {0, 0, 0};
        int rc = hidp_model_prepare(m);
        if (rc == 0)
            rc = hidp_model_set_input(m, 0, x, 63);
        if (rc == 0)
            rc = hidp_model_set_input(m, 1, r, 126);
        if (rc == 0)
            rc = hidp_model_run(m);
        for (int k = 0; rc == 0 && k < 3; k++)
            rc = hidp_model_output(m, k, &y[k], &count[k]);
        if (!tap_ok(rc == 0 && count[0] == 126 && count[1] == 126 && count[2] == 126,
                    "residual %s runs (%s)", names[mode], rc ? hidp_context_last_error(CTX) : ""))
            continue;
        TAP_CLOSE(y[0], want1, 126, 1e-5, "residual %s: relu(conv(x) + b + r)", names[mode]);
        TAP_CLOSE(y[1], want2, 126, 1e-5, "residual %s: broadcast Add", names[mode]);
        TAP_CLOSE(y[2], want3, 126, 1e-5, "residual %s: Add of a shared conv output",
                  names[mode]);
    }
    int convs = 0, adds = 0, folded = 0;
    for (int i = 0; m && i < hidp_model_num_layers(m); i++) {
        hidp_layer_info li;
        if (hidp_model_layer_info(m, i, &li) != 0)
            continue;
        convs += !strcmp(li.op_type, "Conv");
        adds += !strcmp(li.op_type, "Add");
        folded += !strcmp(li.fused, "Add+Relu");
    }
    tap_ok(convs == 3 && adds == 2 && folded == 1,
           "residual: one Add (with its Relu) folded into its conv, two kept (%d convs, %d adds, "
           "%d folded)", convs, adds, folded);
    /* the conv that took the residual ends a block: it splits by rows (ops/conv.c), the
     * others, 1x1s expanding 1 channel to 2, by channels */
    int rows_split = -1, others_rows = 0;
    for (int i = 0; m && i < m->g.n_nodes; i++) {
        const hidp__node *n = &m->g.nodes[i];
        if (n->dead || strcmp(n->op_type, "Conv"))
            continue;
        if (n->n_in == 4)
            rows_split = n->split_rows;
        else
            others_rows += n->split_rows;
    }
    tap_ok(rows_split == 1 && others_rows == 0,
           "residual: the conv that adds it splits by rows (%d), the other convs by channels "
           "(%d by rows)", rows_split, others_rows);
    hidp_context_set_threads(CTX, 1);
    hidp_model_destroy(m);
}

/* Conv (1x1) + BatchNormalization + Relu: folded and fused into one layer, checked against the
 * arithmetic done here, with the optimized kernels, 2 threads, and the reference ones. */
static void test_model_conv_bn(void)
{
    if (!op_ready("Conv")) {
        tap_skip("no Conv kernel in this build yet", "conv+BN+relu model");
        return;
    }
    static const float w[2] = {0.5f, -1.5f}, sc[2] = {1.5f, 0.5f}, sh[2] = {0.1f, -0.2f},
                       mu[2] = {0.3f, -0.4f}, var[2] = {0.8f, 2.0f};
    begin(13);
    input("x", DIMS(1, 1, 7, 9));
    fconst("w", 4, (int64_t[]){2, 1, 1, 1}, w);
    fconst("sc", 1, (int64_t[]){2}, sc);
    fconst("sh", 1, (int64_t[]){2}, sh);
    fconst("mu", 1, (int64_t[]){2}, mu);
    fconst("var", 1, (int64_t[]){2}, var);
    NODE("Conv", "c", "x", "w");
    NODE("BatchNormalization", "bn", "c", "sc", "sh", "mu", "var");
    NODE("Relu", "y", "bn");
    output("y");
    hidp_model *m = make_model();
    float x[63], want[126];
    for (int i = 0; i < 63; i++)
        x[i] = (float)(i % 11) / 3.0f - 1.5f;
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 63; i++) {
            float v = (float)((w[o] * x[i] - mu[o]) / sqrt(var[o] + 1e-5) * sc[o] + sh[o]);
            want[o * 63 + i] = v > 0 ? v : 0;
        }
    for (int mode = 0; m && mode < 3; mode++) {
        hidp_context_set_threads(CTX, mode == 1 ? 2 : 1);
        hidp__model_set_reference(m, mode == 2);
        const float *y = NULL;
        size_t count = 0;
        int rc = hidp_model_prepare(m);
        if (rc == 0)
            rc = hidp_model_set_input(m, 0, x, 63);
        if (rc == 0)
            rc = hidp_model_run(m);
        if (rc == 0)
            rc = hidp_model_output(m, 0, &y, &count);
        static const char *names[] = {"1 thread", "2 threads", "reference"};
        if (tap_ok(rc == 0 && count == 126, "conv+BN+relu %s runs (%s)", names[mode],
                   rc ? hidp_context_last_error(CTX) : ""))
            TAP_CLOSE(y, want, 126, 1e-5, "conv+BN+relu %s matches BN(conv(x))", names[mode]);
    }
    hidp_layer_info li;
    tap_ok(m && hidp_model_num_layers(m) == 1 && hidp_model_layer_info(m, 0, &li) == 0 &&
               !strcmp(li.op_type, "Conv") && !strcmp(li.fused, "Relu"),
           "conv+BN+relu is one Conv layer with Relu fused");
    hidp_context_set_threads(CTX, 1);
    hidp_model_destroy(m);
}

/* x.view(x.size(0), -1) end to end: the shape subgraph folds at prepare, for each batch. */
static void test_model_flatten(void)
{
    if (!op_ready("Reshape")) {
        tap_skip("no Reshape kernel in this build yet", "PyTorch flatten model");
        return;
    }
    begin(13);
    input("x", DIMS(-1, 3, 4, 5));
    iconst("zero", 0, NULL, (int64_t[]){0});
    iconst("axes0", 1, (int64_t[]){1}, (int64_t[]){0});
    iconst("minus1", 1, (int64_t[]){1}, (int64_t[]){-1});
    NODE("Shape", "shp", "x");
    hidp__node_set_int(NODE("Gather", "n", "shp", "zero"), "axis", 0);
    NODE("Unsqueeze", "n1", "n", "axes0");
    hidp__node_set_int(NODE("Concat", "newshape", "n1", "minus1"), "axis", 0);
    NODE("Reshape", "y", "x", "newshape");
    output("y");
    hidp_model *m = make_model();
    for (int batch = 2; m && batch <= 3; batch++) {
        float x[180];
        const float *y = NULL;
        size_t count = 0;
        hidp_tensor_info ti;
        for (int i = 0; i < 60 * batch; i++)
            x[i] = (float)i;
        int rc = hidp_model_set_input_shape(m, 0, (int64_t[]){batch, 3, 4, 5}, 4);
        if (rc == 0)
            rc = hidp_model_prepare(m);
        if (rc == 0)
            rc = hidp_model_set_input(m, 0, x, (size_t)(60 * batch));
        if (rc == 0)
            rc = hidp_model_run(m);
        if (rc == 0)
            rc = hidp_model_output(m, 0, &y, &count);
        if (rc == 0)
            rc = hidp_model_output_info(m, 0, &ti);
        tap_ok(rc == 0 && ti.ndim == 2 && ti.dims[0] == batch && ti.dims[1] == 60 &&
                   hidp_model_num_layers(m) == 1 && y[60 * batch - 1] == x[60 * batch - 1],
               "flatten model, batch %d: one Reshape layer, output %dx60 (%s)", batch, batch,
               rc ? hidp_context_last_error(CTX) : "");
    }
    hidp_model_destroy(m);
}

static char log_seen[512];
static size_t log_longest; /* the longest line logged */

static void log_fn(void *user, int level, const char *msg)
{
    (void)user;
    if (level == HIDP_LOG_DEBUG && strstr(msg, "arena"))
        snprintf(log_seen, sizeof log_seen, "%s", msg);
    log_longest = strlen(msg) > log_longest ? strlen(msg) : log_longest;
}

static void test_context(void)
{
    hidp_array a = {0};
    tap_ok(!strcmp(hidp_version(), "0.1.0"), "hidp_version is %s", hidp_version());
    int rc = hidp_npy_load(CTX, "/nonexistent/x.npy", &a);
    tap_ok(rc == HIDP_EIO && strstr(hidp_context_last_error(CTX), "/nonexistent/x.npy"),
           "hidp_npy_load keeps the reader's message in the context: %s",
           hidp_context_last_error(CTX));
    hidp_context_set_log(CTX, log_fn, NULL, HIDP_LOG_DEBUG);
    hidp_model *m = chain_model();
    rc = m ? hidp_model_prepare(m) : -1;
    tap_ok(rc == 0 && strstr(log_seen, "arena"), "prepare logs its memory plan: %s", log_seen);
    /* the tuner's verdict, every candidate and its median, runs to about 1 KB */
    char line[1500];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    log_longest = 0;
    hidp__log(CTX, HIDP_LOG_DEBUG, "plan tuned from: %s", line);
    tap_ok(log_longest == strlen("plan tuned from: ") + strlen(line),
           "a log line of %zu bytes reaches the callback whole (%zu)",
           strlen("plan tuned from: ") + strlen(line), log_longest);
    hidp_context_set_log(CTX, NULL, NULL, HIDP_LOG_ERROR);
    hidp_model_destroy(m);
}

int main(void)
{
    if (hidp_context_create(&CTX, 0) != 0) {
        tap_ok(0, "context");
        return tap_done();
    }
    test_model_chain();
    test_model_errors();
    test_model_conv_bn();
    test_model_residual();
    test_model_flatten();
    test_context();
    hidp_context_destroy(CTX);
    return tap_done();
}
