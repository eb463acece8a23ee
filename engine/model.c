/*
 * model.c - the model API: load (read + rewrites), input shapes, prepare (bind, plan, start the
 * workers), inputs, run, outputs and the per-layer description.
 *
 * The loaded graph (m->src) is never bound: each prepare binds a fresh copy whose constants
 * borrow src's data, so a model can be prepared again for another input shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "model.h"
#include "../sched/calib.h"
#include "../sched/place.h"
#include "onnx.h"
#include "passes.h"

static void unprepare(hidp_model *m)
{
    hidp__profile_stop(m);
    hidp__model_tune_stop(m);
    hidp__model_watch_stop(m);
    hidp__exec_destroy(m->exec);
    m->exec = NULL;
    hidp__plan_free(&m->plan);
    hidp__graph_free(&m->g);
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
    m->prepared = 0;
}

int hidp__model_from_graph(hidp_context *ctx, hidp__graph *g, hidp_model **out)
{
    hidp__err err = {0, ""};
    if (!ctx || !g || !out) {
        if (g)
            hidp__graph_free(g);
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp__model_from_graph: NULL argument");
    }
    *out = NULL;
    hidp_model *m = calloc(1, sizeof *m);
    if (!m) {
        hidp__graph_free(g);
        return hidp__ctx_fail(ctx, HIDP_ENOMEM, "out of memory loading the model");
    }
    m->ctx = ctx;
    m->src = *g;
    hidp__graph_init(g);
    int rc = hidp__rewrite_load(&m->src, &m->unsupported, &err);
    if (rc == 0) {
        size_t n = (size_t)(m->src.n_inputs > 0 ? m->src.n_inputs : 1);
        m->in_shape = calloc(n, sizeof *m->in_shape);
        m->in_set = calloc(n, 1);
        if (!m->in_shape || !m->in_set)
            rc = hidp__fail(&err, HIDP_ENOMEM, "out of memory loading the model");
    }
    if (rc) {
        hidp_model_destroy(m);
        return hidp__ctx_error(ctx, rc, &err);
    }
    hidp__log(ctx, HIDP_LOG_INFO, "loaded: %d nodes, %d inputs, %d outputs, opset %lld%s%s",
              m->src.n_nodes, m->src.n_inputs, m->src.n_outputs, (long long)m->src.opset,
              m->unsupported ? "; unsupported: " : "", m->unsupported ? m->unsupported : "");
    *out = m;
    return 0;
}

static int load(hidp_context *ctx, const char *path, const void *data, size_t size,
                hidp_model **out)
{
    hidp__err err = {0, ""};
    hidp__graph g;
    hidp__graph_init(&g);
    int rc = path ? hidp__onnx_read_file(path, &g, &err)
                  : hidp__onnx_read(data, size, "<memory>", &g, &err);
    if (rc) {
        hidp__graph_free(&g);
        return hidp__ctx_error(ctx, rc, &err);
    }
    return hidp__model_from_graph(ctx, &g, out);
}

int hidp_model_load(hidp_context *ctx, const char *path, hidp_model **out)
{
    if (!ctx || !out || !path)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_model_load: ctx, path and out must not "
                              "be NULL");
    *out = NULL;
    return load(ctx, path, NULL, 0, out);
}

int hidp_model_load_memory(hidp_context *ctx, const void *data, size_t size, hidp_model **out)
{
    if (!ctx || !out || (!data && size))
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_model_load_memory: ctx, data and out "
                              "must not be NULL");
    *out = NULL;
    return load(ctx, NULL, data, size, out);
}

void hidp_model_destroy(hidp_model *m)
{
    if (!m)
        return;
    unprepare(m);
    hidp__graph_free(&m->src);
    free(m->unsupported);
    free(m->in_shape);
    free(m->in_set);
    free(m);
}

int hidp_model_num_inputs(const hidp_model *m)
{
    return m ? m->src.n_inputs : HIDP_EINVAL;
}

int hidp_model_num_outputs(const hidp_model *m)
{
    return m ? m->src.n_outputs : HIDP_EINVAL;
}

static int tensor_info(const hidp_model *m, int index, int output, hidp_tensor_info *info)
{
    if (!m || !info)
        return m ? hidp__ctx_fail(m->ctx, HIDP_EINVAL, "tensor info: info is NULL") : HIDP_EINVAL;
    int count = output ? m->src.n_outputs : m->src.n_inputs;
    if (index < 0 || index >= count)
        return hidp__ctx_fail(m->ctx, HIDP_EINVAL, "%s index %d out of range (the model has "
                              "%d)", output ? "output" : "input", index, count);
    int v = output ? m->src.outputs[index] : m->src.inputs[index];
    const hidp__value *val = m->prepared ? &m->g.vals[v] : &m->src.vals[v];
    const hidp__shape *s = m->prepared ? &val->shape : &val->decl;
    if (!m->prepared && (val->flags & HIDP__VAL_CONST))
        s = &val->shape;
    memset(info, 0, sizeof *info);
    info->name = m->src.vals[v].name;
    info->ndim = s->ndim;
    for (int i = 0; i < s->ndim && i < HIDP_MAX_DIMS; i++)
        info->dims[i] = s->d[i];
    return 0;
}

int hidp_model_input_info(const hidp_model *m, int index, hidp_tensor_info *info)
{
    return tensor_info(m, index, 0, info);
}

int hidp_model_output_info(const hidp_model *m, int index, hidp_tensor_info *info)
{
    return tensor_info(m, index, 1, info);
}

int hidp_model_set_input_shape(hidp_model *m, int index, const int64_t *dims, int32_t ndim)
{
    hidp__err err = {0, ""};
    if (!m)
        return HIDP_EINVAL;
    if (index < 0 || index >= m->src.n_inputs)
        return hidp__ctx_fail(m->ctx, HIDP_EINVAL, "input index %d out of range (the model "
                              "has %d)", index, m->src.n_inputs);
    if (ndim < 0 || ndim > HIDP_MAX_DIMS || (!dims && ndim > 0))
        return hidp__ctx_fail(m->ctx, HIDP_EINVAL, "input '%s': rank %d is not in 0..%d",
                              m->src.vals[m->src.inputs[index]].name, (int)ndim, HIDP_MAX_DIMS);
    hidp__shape s = hidp__shape_make(ndim, dims);
    int rc = hidp__check_input_shape(&m->src.vals[m->src.inputs[index]], &s, &err);
    if (rc)
        return hidp__ctx_error(m->ctx, rc, &err);
    m->in_shape[index] = s;
    m->in_set[index] = 1;
    return 0;
}

/* The shape input i gets at prepare: as set, or as declared with dynamic dims 1. */
static int input_shape(hidp_model *m, int i, hidp__shape *s)
{
    const hidp__value *v = &m->src.vals[m->src.inputs[i]];
    if (m->in_set[i]) {
        *s = m->in_shape[i];
        return 0;
    }
    if (v->decl.ndim == 0)
        return hidp__ctx_fail(m->ctx, HIDP_ESHAPE, "input '%s': the model declares no shape; "
                              "set one with hidp_model_set_input_shape", v->name);
    *s = v->decl;
    for (int k = 0; k < s->ndim; k++)
        if (s->d[k] < 0)
            s->d[k] = 1;
    return 0;
}

/* Where the workers of this prepare run and their shares (sched/place.h), or none (pl->workers
 * 0: unbound, equal shares) for one unplaced worker, reference runs, or a board whose topology
 * hwloc cannot read. The topology is loaded once per context and calibrated on first use. */
static int place_workers(hidp_model *m, hidp__placement *pl, hidp__err *err)
{
    hidp_context *ctx = m->ctx;
    memset(pl, 0, sizeof *pl);
    if (m->reference || (ctx->threads == 1 && !ctx->cores))
        return 0;
    if (!ctx->topo && !ctx->topo_failed) {
        hidp__err why = {0, ""};
        ctx->topo = calloc(1, sizeof *ctx->topo);
        if (!ctx->topo || hidp__topo_load(ctx->topo, &why) != 0) {
            free(ctx->topo);
            ctx->topo = NULL;
            ctx->topo_failed = 1;
            hidp__log(ctx, HIDP_LOG_WARN, "workers left unplaced: %s", why.msg);
        }
    }
    if (!ctx->topo)
        return ctx->cores ? hidp__fail(err, HIDP_EUNSUPPORTED, "cores '%s': this board's "
                                       "topology could not be read", ctx->cores)
                          : 0;
    if (ctx->split == HIDP_SPLIT_CALIBRATED && !ctx->calibrated) {
        ctx->calibrated = 1; /* tried once per context: a failure means equal shares */
        hidp__err why = {0, ""};
        const int mode = ctx->topo->this_system ? HIDP_CALIB_AUTO : HIDP_CALIB_CACHED;
        if (hidp__calibrate(ctx->topo, mode, &why) != 0)
            hidp__log(ctx, HIDP_LOG_WARN, "equal shares: %s", why.msg);
    }
    return hidp__place(ctx->topo, ctx->threads, ctx->cores, ctx->split, pl, err);
}

static int prepare(hidp_model *m, hidp__err *err)
{
    int rc, n_in = m->src.n_inputs;
    hidp__shape *shapes = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *shapes);
    if (!shapes)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory preparing the model");
    for (int i = 0; i < n_in; i++)
        if ((rc = input_shape(m, i, &shapes[i])) != 0) {
            free(shapes);
            *err = m->ctx->err;
            return rc;
        }
    rc = hidp__graph_clone(&m->g, &m->src, err);
    if (rc == 0)
        rc = hidp__parse_ops(&m->g, err);
    if (rc == 0)
        rc = hidp__bind(&m->g, shapes, err);
    free(shapes);
    if (rc == 0 && (rc = hidp__fuse_residual(&m->g, err)) > 0)
        rc = 0;
    hidp__placement pl = {0};
    if (rc == 0)
        rc = place_workers(m, &pl, err);
    /* Stripes are for a slower second worker that can be taken back from (engine/
     * exec_stripe.c); the memory plan keeps their inputs and outputs whole while one runs. */
    hidp__stripe *stripes = NULL;
    int n_stripes = 0;
    if (rc == 0 && pl.workers == 2 && pl.weight[1] < pl.weight[0] && !m->reference &&
        !m->ctx->no_take_back && !m->ctx->no_stripes &&
        (n_stripes = hidp__stripe_find(&m->g, &stripes)) < 0)
        rc = hidp__fail(err, HIDP_ENOMEM, "out of memory preparing the model");
    if (rc == 0)
        rc = hidp__plan_memory(&m->g, stripes, n_stripes, &m->plan, err);
    if (rc == 0)
        rc = hidp__exec_create(&m->exec, &m->g, m->ctx->threads, m->plan.scratch_floats,
                               m->reference, pl.workers ? &pl : NULL, m->ctx->topo, err);
    hidp__placement_free(&pl);
    if (rc == 0 && n_stripes > 0 && hidp__exec_stripes(m->exec, stripes, n_stripes) != 0)
        rc = hidp__fail(err, HIDP_ENOMEM, "out of memory preparing the model");
    if (rc == 0 && n_stripes > 0) {
        int layers = 0;
        for (int s = 0; s < n_stripes; s++)
            layers += stripes[s].end - stripes[s].first;
        hidp__log(m->ctx, HIDP_LOG_DEBUG, "stripes: %d, of %d layers in all", n_stripes, layers);
    }
    free(stripes);
    if (rc)
        return rc;
    hidp__exec_help(m->exec, !m->ctx->no_take_back);
    m->layers = malloc((size_t)(m->g.n_nodes > 0 ? m->g.n_nodes : 1) * sizeof *m->layers);
    if (!m->layers)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory preparing the model");
    for (int i = 0; i < m->g.n_nodes; i++)
        m->layers[m->n_layers++] = i;
    m->backoff = 1.0;
    return m->ctx->no_tuning ? 0 : hidp__model_tune_start(m, err);
}

int hidp_model_prepare(hidp_model *m)
{
    hidp__err err = {0, ""};
    if (!m)
        return HIDP_EINVAL;
    unprepare(m);
    if (m->unsupported)
        return hidp__ctx_fail(m->ctx, HIDP_EUNSUPPORTED, "the model uses ops hidp does not "
                              "implement: %s", m->unsupported);
    int rc = prepare(m, &err);
    if (rc) {
        unprepare(m);
        return hidp__ctx_error(m->ctx, rc, &err);
    }
    m->prepared = 1;
    hidp__log(m->ctx, HIDP_LOG_DEBUG, "prepared: %d layers on %d threads%s; arena %zu bytes for "
              "%d values (%zu without reuse); scratch %zu floats per worker", m->n_layers,
              hidp__exec_threads(m->exec), m->reference ? " (reference kernels)" : "",
              m->plan.arena_bytes, m->plan.n_values, m->plan.values_bytes,
              m->plan.scratch_floats);
    return 0;
}

/* Value of input/output index, or -1 after recording why not. */
static int io_value(const hidp_model *m, int index, int output, const char *fn)
{
    int count = output ? m->src.n_outputs : m->src.n_inputs;
    if (!m->prepared) {
        hidp__ctx_fail(m->ctx, HIDP_ESTATE, "%s: the model is not prepared (call "
                       "hidp_model_prepare first)", fn);
        return -1;
    }
    if (index < 0 || index >= count) {
        hidp__ctx_fail(m->ctx, HIDP_EINVAL, "%s: %s index %d out of range (the model has %d)",
                       fn, output ? "output" : "input", index, count);
        return -1;
    }
    return output ? m->g.outputs[index] : m->g.inputs[index];
}

int hidp_model_set_input(hidp_model *m, int index, const float *data, size_t count)
{
    if (!m)
        return HIDP_EINVAL;
    int v = io_value(m, index, 0, "hidp_model_set_input");
    if (v < 0)
        return m->ctx->err.code;
    const hidp__value *val = &m->g.vals[v];
    size_t want = (size_t)hidp__shape_count(&val->shape);
    char buf[128];
    if (!data)
        return hidp__ctx_fail(m->ctx, HIDP_EINVAL, "input '%s': data is NULL", val->name);
    if (count != want)
        return hidp__ctx_fail(m->ctx, HIDP_ESHAPE, "input '%s': got %zu floats, its bound shape "
                              "%s holds %zu", val->name, count,
                              hidp__shape_format(&val->shape, buf, sizeof buf), want);
    memcpy(val->data, data, count * sizeof *data);
    return 0;
}

int hidp_model_output(const hidp_model *m, int index, const float **data, size_t *count)
{
    if (!m || !data || !count)
        return m ? hidp__ctx_fail(m->ctx, HIDP_EINVAL, "hidp_model_output: data and count must "
                                  "not be NULL") : HIDP_EINVAL;
    int v = io_value(m, index, 1, "hidp_model_output");
    if (v < 0)
        return m->ctx->err.code;
    *data = m->g.vals[v].data;
    *count = (size_t)hidp__shape_count(&m->g.vals[v].shape);
    return 0;
}

int hidp_model_num_layers(const hidp_model *m)
{
    if (!m)
        return HIDP_EINVAL;
    return m->prepared ? m->n_layers : 0;
}

/* "Relu", or "Add+Relu" when a residual Add was folded in (engine/residual.c). */
static const char *fused_name(const hidp__node *n)
{
    if (n->n_in < 4 || n->in[3] < 0)
        return hidp__act_name(n->act.kind);
    switch (n->act.kind) {
    case HIDP__ACT_NONE: return "Add";
    case HIDP__ACT_RELU: return "Add+Relu";
    case HIDP__ACT_CLIP: return "Add+Clip";
    default: return "Add+act";
    }
}

int hidp_model_layer_info(const hidp_model *m, int index, hidp_layer_info *info)
{
    if (!m || !info)
        return m ? hidp__ctx_fail(m->ctx, HIDP_EINVAL, "hidp_model_layer_info: info is NULL")
                 : HIDP_EINVAL;
    if (!m->prepared)
        return hidp__ctx_fail(m->ctx, HIDP_ESTATE, "hidp_model_layer_info: the model is not "
                              "prepared");
    if (index < 0 || index >= m->n_layers)
        return hidp__ctx_fail(m->ctx, HIDP_EINVAL, "layer index %d out of range (the model "
                              "has %d)", index, m->n_layers);
    const hidp__node *n = &m->g.nodes[m->layers[index]];
    const hidp__value *y = hidp__out(&m->g, n, 0);
    memset(info, 0, sizeof *info);
    info->name = n->name;
    info->op_type = n->op_type;
    info->fused = fused_name(n);
    if (y) {
        info->ndim = y->shape.ndim;
        for (int i = 0; i < y->shape.ndim && i < HIDP_MAX_DIMS; i++)
            info->dims[i] = y->shape.d[i];
    }
    info->mflops = n->flops / 1e6;
    info->params = n->weights;
    if (n->op && n->op->describe)
        n->op->describe(&m->g, n, info->detail, sizeof info->detail);
    return 0;
}

int hidp__model_set_reference(hidp_model *m, int on)
{
    m->reference = on != 0;
    return 0;
}

size_t hidp__model_arena_bytes(const hidp_model *m)
{
    return m->prepared ? m->plan.arena_bytes : 0;
}

size_t hidp__model_values_bytes(const hidp_model *m)
{
    return m->prepared ? m->plan.values_bytes : 0;
}
