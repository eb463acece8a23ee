/*
 * bench_kernels_conv.c - `bench_kernels conv MODEL`: every Conv of a model measured alone.
 *
 * The model is loaded and prepared once, which folds BatchNorm into the convs, fuses their
 * activations and binds every shape. Then for each Conv of the prepared graph a model of that
 * one node is built in memory (its attributes, its folded weights and bias, its input shape, its
 * fused activation) and run through the public API on o->threads workers, so the figure is
 * what the engine's executor gets out of the conv kernel, isolated from its neighbours. The
 * same GEMM shape (M = output channels per group, N = output pixels, K = input channels per
 * group x kernel area; one product per group and batch item) is then timed with cblas_sgemm and
 * with hidp's sgemm: the conv at 100% of its own GEMM would mean im2col and the epilogue cost
 * nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/model.h"
#include "../ops/conv.h"
#include "bench_kernels.h"

/* Makes value `name` of g a constant copy of src (shape and data). */
static int const_copy(hidp__graph *g, const char *name, const hidp__value *src)
{
    int v = hidp__graph_value(g, name);
    if (v < 0)
        return -1;
    size_t bytes = (size_t)hidp__shape_count(&src->shape) * (src->dtype == HIDP__DT_I64 ? 8 : 4);
    void *d = malloc(bytes ? bytes : 1);
    if (!d)
        return -1;
    memcpy(d, src->data, bytes);
    hidp__graph_set_const(g, v, src->dtype, &src->shape, d);
    return v;
}

static int copy_attr(hidp__node *dst, const hidp__attr *a)
{
    switch (a->type) {
    case HIDP__ATTR_INT: return hidp__node_set_int(dst, a->name, a->i);
    case HIDP__ATTR_FLOAT: return hidp__node_set_float(dst, a->name, a->f);
    case HIDP__ATTR_STRING: return hidp__node_set_string(dst, a->name, a->s ? a->s : "");
    case HIDP__ATTR_INTS: return hidp__node_set_ints(dst, a->name, a->ints, a->n);
    case HIDP__ATTR_FLOATS: return hidp__node_set_floats(dst, a->name, a->floats, a->n);
    default: return 0; /* Conv has no tensor attributes */
    }
}

/* Builds, loads and prepares a model holding only conv node n of the prepared graph src, with
 * its fused activation; threads workers. The caller owns *out. */
static int one_conv(hidp_context *ctx, const hidp__graph *src, const hidp__node *n, int threads,
                    hidp_model **out)
{
    const hidp__value *xv = hidp__in(src, n, 0), *wv = hidp__in(src, n, 1);
    const hidp__value *bv = hidp__in(src, n, 2);
    hidp__graph g;
    hidp__graph_init(&g);
    g.opset = src->opset;
    int x = hidp__graph_value(&g, "x"), y = hidp__graph_value(&g, "y");
    int w = const_copy(&g, "w", wv), b = bv ? const_copy(&g, "b", bv) : -1;
    g.inputs = malloc(sizeof *g.inputs);
    g.outputs = malloc(sizeof *g.outputs);
    if (x < 0 || y < 0 || w < 0 || (bv && b < 0) || !g.inputs || !g.outputs)
        goto nomem;
    g.vals[x].flags = HIDP__VAL_INPUT;
    g.vals[x].decl = xv->shape;
    g.vals[y].flags = HIDP__VAL_OUTPUT;
    g.inputs[0] = x, g.n_inputs = 1;
    g.outputs[0] = y, g.n_outputs = 1;
    int ins[3] = {x, w, b};
    int k = hidp__graph_add_node(&g, n->name, "Conv", "", ins, bv ? 3 : 2, &y, 1);
    if (k < 0)
        goto nomem;
    for (int i = 0; i < n->n_attrs; i++)
        if (copy_attr(&g.nodes[k], &n->attrs[i]) != 0)
            goto nomem;
    int rc = hidp__model_from_graph(ctx, &g, out); /* takes g over */
    if (rc)
        return rc;
    for (int i = 0; i < (*out)->src.n_nodes; i++)
        if (!strcmp((*out)->src.nodes[i].op_type, "Conv"))
            (*out)->src.nodes[i].act = n->act;
    if ((rc = hidp_context_set_threads(ctx, threads)) == 0)
        rc = hidp_model_prepare(*out);
    if (rc) {
        hidp_model_destroy(*out);
        *out = NULL;
    }
    return rc;
nomem:
    hidp__graph_free(&g);
    return HIDP_ENOMEM;
}

static void run_work(void *arg, long count)
{
    for (long r = 0; r < count; r++)
        hidp_model_run(arg);
}

/* Loads MODEL: a readable file, else a zoo name. */
static int load(hidp_context *ctx, const kb_opts *o, const char *model, hidp_model **m)
{
    if (access(model, R_OK) == 0 || strchr(model, '/') || strstr(model, ".onnx"))
        return hidp_model_load(ctx, model, m);
    void *buf = NULL;
    size_t size = 0;
    int rc = hidp_zoo_build(ctx, model, o->seed, o->image, &buf, &size);
    if (rc == 0)
        rc = hidp_model_load_memory(ctx, buf, size, m);
    hidp_free(buf);
    return rc;
}

static const kb_col cols[] = {
    {"layer", 24, -1},    {"kernel", 8, -1},     {"cin", 4, 0},          {"cout", 4, 0},
    {"h", 3, 0},          {"w", 3, 0},           {"kh", 2, 0},           {"kw", 2, 0},
    {"s", 1, 0},          {"g", 4, 0},           {"gemm_m", 6, 0},       {"gemm_n", 6, 0},
    {"gemm_k", 6, 0},     {"batch", 5, 0},       {"mflop", 7, 1},        {"conv_ms", 7, 3},
    {"conv_gflops", 11, 1}, {"hidp_sgemm_gflops", 17, 1}, {"cblas_gflops", 12, 1},
    {"ratio", 5, 3},      {"vs_hidp", 7, 3},     {"peak_frac", 9, 3},    {"peak_gflops", 11, 1},
};
enum { NCOLS = (int)(sizeof cols / sizeof cols[0]) };

/* The kernel ops/conv.c chose (conv.h's HIDP__CONV_*). */
static const char *kind_name(int kind)
{
    switch (kind) {
    case HIDP__CONV_IM2COL: return "im2col";
    case HIDP__CONV_1X1: return "1x1";
    case HIDP__CONV_DEPTHWISE: return "dw";
    case HIDP__CONV_SHIFTED: return "shifted";
    case HIDP__CONV_WINOGRAD: return "winograd";
    default: return "other";
    }
}

/* Totals over the layers. */
typedef struct sums {
    double flops, conv_ms, hidp_ms, cblas_ms;
    int layers, grouped;
} sums;

/* Measures conv node n of the prepared graph g and prints its row. 0, or a HIDP_E* code. */
static int bench_layer(hidp_context *ctx, const kb_opts *o, const hidp__graph *g,
                       const hidp__node *n, sums *t)
{
    const hidp__conv_params *p = n->params;
    const hidp__conv_geom *ge = &p->g;
    hidp_model *one = NULL;
    float *x = NULL;
    int rc = one_conv(ctx, g, n, o->threads, &one);
    if (rc)
        goto done;
    size_t nx = (size_t)hidp__shape_count(&hidp__in(g, n, 0)->shape);
    if (!(x = malloc(nx * sizeof *x))) {
        rc = HIDP_ENOMEM;
        goto done;
    }
    kb_fill(x, nx, 5);
    if ((rc = hidp_model_set_input(one, 0, x, nx)) != 0)
        goto done;
    /* With several workers the first runs after a prepare are tuning trials (some with the
     * layer on one worker alone): timed with them, -t 2 gave the figures of one thread. */
    const int tuned = hidp_model_tune(one);
    if (tuned < 0) {
        rc = tuned;
        goto done;
    }
    double conv_ms = kb_time_ms(o, run_work, one);
    int64_t gm = ge->mg, gn = ge->oh * ge->ow, gk = ge->cg * ge->kh * ge->kw;
    int64_t batch = ge->n * ge->group;
    kb_gemm_times gt;
    if (kb_gemm_time(o, gm, gn, gk, batch, &gt) != 0) {
        rc = HIDP_ENOMEM;
        goto done;
    }
    double fl = 2.0 * (double)gm * (double)gn * (double)gk * (double)batch;
    double peak = o->peak * o->threads;
    double gc = kb_gflops(fl, conv_ms), gb = kb_gflops(fl, gt.cblas_ms);
    double gh = kb_gflops(fl, gt.hidp_ms);
    kb_val v[NCOLS] = {
        {n->name, 0},          {kind_name(p->kind), 0}, {NULL, (double)ge->c},
        {NULL, (double)ge->m}, {NULL, (double)ge->h},   {NULL, (double)ge->w},
        {NULL, (double)ge->kh}, {NULL, (double)ge->kw}, {NULL, (double)ge->sh},
        {NULL, (double)ge->group}, {NULL, (double)gm},  {NULL, (double)gn},
        {NULL, (double)gk},    {NULL, (double)batch},   {NULL, fl / 1e6},
        {NULL, conv_ms},       {NULL, gc},              {NULL, gh},
        {NULL, gb},            {NULL, gc / gb},         {NULL, gc / gh},
        {NULL, gc / peak},     {NULL, peak},
    };
    kb_row(o, "conv", cols, NCOLS, v);
    t->flops += fl, t->conv_ms += conv_ms, t->hidp_ms += gt.hidp_ms, t->cblas_ms += gt.cblas_ms;
    t->layers++;
    t->grouped += ge->group > 1;
done:
    free(x);
    hidp_model_destroy(one);
    return rc;
}

int kb_conv_main(const kb_opts *o, const char *model)
{
    hidp_context *ctx = NULL;
    hidp_model *m = NULL;
    sums t = {0, 0, 0, 0, 0, 0};
    int rc = hidp_context_create(&ctx, 0), status = 1;
    if (rc) {
        fprintf(stderr, "bench_kernels: cannot create a context: %s\n", hidp_strerror(rc));
        return 1;
    }
    if ((rc = load(ctx, o, model, &m)) != 0 || (rc = hidp_model_prepare(m)) != 0) {
        fprintf(stderr, "bench_kernels: %s: %s\n", model, hidp_context_last_error(ctx));
        goto done;
    }
    const hidp__graph *g = &m->g;
    int total = 0, done_n = 0, progress = isatty(2) && o->format == KB_TABLE ? 0 : -1;
    for (int i = 0; i < g->n_nodes; i++)
        total += !g->nodes[i].dead && g->nodes[i].op && !strcmp(g->nodes[i].op_type, "Conv");
    kb_meta(o, "conv");
    kb_note(o, "model %s: %d convs, each run alone as a one-node model on %d thread%s; "
            "ratio = conv / cblas_sgemm and vs_hidp = conv / hidp sgemm on the conv's GEMM "
            "(gemm_m x gemm_n x gemm_k, batch = groups x N products)", model, total, o->threads,
            o->threads > 1 ? "s" : "");
    kb_header(o, cols, NCOLS);
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        if (n->dead || !n->op || strcmp(n->op_type, "Conv"))
            continue;
        const hidp__value *w = hidp__in(g, n, 1), *b = hidp__in(g, n, 2);
        if (!w || !(w->flags & HIDP__VAL_CONST) || (b && !(b->flags & HIDP__VAL_CONST)) ||
            !((const hidp__conv_params *)n->params)->resolved) {
            kb_note(o, "%s: weights computed at run time, skipped", n->name);
            continue;
        }
        if (progress >= 0)
            fprintf(stderr, "\r[%d/%d] %-40.40s", ++done_n, total, n->name);
        if ((rc = bench_layer(ctx, o, g, n, &t)) != 0) {
            fprintf(stderr, "\nbench_kernels: conv '%s': %s\n", n->name,
                    hidp_context_last_error(ctx)[0] ? hidp_context_last_error(ctx)
                                                    : hidp_strerror(rc));
            goto done;
        }
    }
    if (progress >= 0)
        fprintf(stderr, "\r%60s\r", "");
    if (t.layers) {
        double peak = o->peak * o->threads;
        double gc = kb_gflops(t.flops, t.conv_ms), gb = kb_gflops(t.flops, t.cblas_ms);
        double gh = kb_gflops(t.flops, t.hidp_ms);
        kb_val v[NCOLS];
        for (int i = 0; i < NCOLS; i++)
            v[i] = (kb_val){NULL, NAN};
        v[0].s = "TOTAL";
        v[1].s = "";
        v[14].v = t.flops / 1e6, v[15].v = t.conv_ms, v[16].v = gc, v[17].v = gh, v[18].v = gb;
        v[19].v = gc / gb, v[20].v = gc / gh, v[21].v = gc / peak, v[22].v = peak;
        kb_row(o, "total", cols, NCOLS, v);
        if (t.grouped)
            kb_note(o, "%d grouped conv%s: the GEMM figures are one product per group (a "
                    "depthwise conv's are tiny, so the sgemm baseline is weak there)",
                    t.grouped, t.grouped > 1 ? "s" : "");
    }
    status = 0;
done:
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    return status;
}
