/*
 * rewrite.c - load-time graph rewrites: Constant nodes become constants, Identity and Dropout
 * disappear, BatchNormalization folds into the preceding Conv, activations fuse into their
 * producer. None of this depends on input shapes, so it runs once per load.
 *
 * Every pass marks removed nodes dead and keeps value->producer exact for live nodes; the final
 * hidp__graph_sort drops the dead nodes and renumbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "../ops/op.h"
#include "../ops/op_util.h"

static int is_default_domain(const hidp__node *n)
{
    return n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0;
}

static int is_op(const hidp__node *n, const char *op_type)
{
    return !n->dead && is_default_domain(n) && strcmp(n->op_type, op_type) == 0;
}

static int is_graph_output(const hidp__graph *g, int v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return 1;
    return 0;
}

/* Live reader count of v, counting a graph output as one more reader. */
static int readers(const hidp__graph *g, int v)
{
    return hidp__graph_uses(g, v) + is_graph_output(g, v);
}

static size_t dtype_size(int dtype)
{
    return dtype == HIDP__DT_I64 ? sizeof(int64_t) : sizeof(float);
}

/* Makes value v a constant holding a copy of count elements at src. */
static int set_const_copy(hidp__graph *g, int v, int dtype, const hidp__shape *shape,
                          const void *src, hidp__err *err)
{
    int64_t count = hidp__shape_count(shape);
    size_t bytes = (size_t)(count > 0 ? count : 0) * dtype_size(dtype);
    void *data = malloc(bytes ? bytes : 1);
    if (!data)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory making constant '%s'",
                          g->vals[v].name);
    if (bytes)
        memcpy(data, src, bytes);
    hidp__graph_set_const(g, v, dtype, shape, data);
    return 0;
}

static void recompute_producers(hidp__graph *g)
{
    for (int v = 0; v < g->n_vals; v++)
        g->vals[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                g->vals[n->out[k]].producer = i;
    }
}

/* ---- Constant ---- */

static int constant_node(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    if (n->n_out < 1 || n->out[0] < 0)
        return hidp__fail(err, HIDP_EFORMAT, "Constant '%s': has no output", n->name);
    int y = n->out[0];
    for (int i = 0; i < n->n_attrs; i++) {
        const hidp__attr *a = &n->attrs[i];
        hidp__shape s = {0, {0}};
        int rc;
        if (strcmp(a->name, "value") == 0 && a->type == HIDP__ATTR_TENSOR && a->tensor >= 0 &&
            (g->vals[a->tensor].flags & HIDP__VAL_CONST)) {
            /* Moved, not copied: some exporters put whole weight tensors in Constant nodes. The
             * attribute's value, read by nobody else, is left an empty tensor. */
            hidp__value *t = &g->vals[a->tensor];
            s = t->shape;
            void *data = t->data;
            if (!data && (data = malloc(1)) == NULL)
                return hidp__fail(err, HIDP_ENOMEM, "Constant '%s': out of memory", n->name);
            t->data = NULL;
            t->shape = hidp__shape_make(1, (int64_t[]){0});
            hidp__graph_set_const(g, y, t->dtype, &s, data);
            rc = 0;
        } else if (strcmp(a->name, "value_float") == 0 && a->type == HIDP__ATTR_FLOAT) {
            rc = set_const_copy(g, y, HIDP__DT_F32, &s, &a->f, err);
        } else if (strcmp(a->name, "value_int") == 0 && a->type == HIDP__ATTR_INT) {
            rc = set_const_copy(g, y, HIDP__DT_I64, &s, &a->i, err);
        } else if (strcmp(a->name, "value_floats") == 0 && a->type == HIDP__ATTR_FLOATS) {
            s.ndim = 1;
            s.d[0] = a->n;
            rc = set_const_copy(g, y, HIDP__DT_F32, &s, a->floats, err);
        } else if (strcmp(a->name, "value_ints") == 0 && a->type == HIDP__ATTR_INTS) {
            s.ndim = 1;
            s.d[0] = a->n;
            rc = set_const_copy(g, y, HIDP__DT_I64, &s, a->ints, err);
        } else {
            continue;
        }
        if (rc == 0)
            n->dead = 1;
        return rc;
    }
    return hidp__fail(err, HIDP_EUNSUPPORTED,
                      "Constant '%s': no numeric value attribute (value, value_float(s), "
                      "value_int(s)); strings and sparse tensors are not supported", n->name);
}

int hidp__rewrite_constants(hidp__graph *g, hidp__err *err)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (is_op(&g->nodes[i], "Constant")) {
            int rc = constant_node(g, &g->nodes[i], err);
            if (rc)
                return rc;
        }
    return 0;
}

/* ---- Identity, Dropout ---- */

static int remove_copy(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0)
        return 0;
    /* Dropout's mask output, if someone reads it, keeps the node (it stays unsupported). */
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0 && readers(g, n->out[k]) > 0)
            return 0;
    int x = n->in[0], y = n->out[0];
    if (!is_graph_output(g, y)) {
        n->dead = 1;
        g->vals[y].producer = -1;
        hidp__graph_replace_uses(g, y, x);
        return 0;
    }
    /* y is a graph output, so its name is what the caller asks for: keep y and make x's producer
     * write y instead. */
    const hidp__value *xv = &g->vals[x];
    int p = xv->producer;
    if (p >= 0 && !(xv->flags & (HIDP__VAL_CONST | HIDP__VAL_INPUT)) && !is_graph_output(g, x)) {
        hidp__node *pn = &g->nodes[p];
        for (int k = 0; k < pn->n_out; k++)
            if (pn->out[k] == x)
                pn->out[k] = y;
        n->dead = 1;
        g->vals[y].producer = p;
        g->vals[x].producer = -1;
        hidp__graph_replace_uses(g, x, y);
        return 0;
    }
    if (xv->flags & HIDP__VAL_CONST) {
        hidp__shape s = xv->shape;
        int rc = set_const_copy(g, y, xv->dtype, &s, g->vals[x].data, err);
        if (rc == 0)
            n->dead = 1;
        return rc;
    }
    /* A graph input or another output copied to an output: left to bind, which reports it. */
    return 0;
}

int hidp__rewrite_identity(hidp__graph *g, hidp__err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *n = &g->nodes[i];
        if (is_op(n, "Identity") || is_op(n, "Dropout")) {
            int rc = remove_copy(g, n, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

void hidp__resolve_ops(hidp__graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *n = &g->nodes[i];
        const hidp__op_def *d = is_default_domain(n) ? hidp__op_find(n->op_type) : NULL;
        /* An op registered without kernels (work in progress) counts as absent. */
        n->op = d && d->reshape && d->run && d->run_ref ? d : NULL;
    }
}

/* ---- BatchNormalization into Conv ---- */

/* Constant fp32 input i of n with exactly count elements, or NULL. */
static const float *const_vec(const hidp__graph *g, const hidp__node *n, int i, int64_t count)
{
    const hidp__value *v = hidp__in(g, n, i);
    if (!v || !(v->flags & HIDP__VAL_CONST) || v->dtype != HIDP__DT_F32 || !v->data ||
        hidp__shape_count(&v->shape) != count)
        return NULL;
    return v->data;
}

/* Adds a constant fp32 value named after base, owning data. Returns its index or < 0. */
static int add_const(hidp__graph *g, const char *base, const hidp__shape *s, float *data,
                     hidp__err *err)
{
    int v = hidp__graph_new_value(g, base);
    if (v < 0) {
        free(data);
        return hidp__fail(err, HIDP_ENOMEM, "out of memory adding constant '%s'", base);
    }
    hidp__graph_set_const(g, v, HIDP__DT_F32, s, data);
    return v;
}

static int fold_one_bn(hidp__graph *g, int bi, hidp__err *err)
{
    hidp__node *bn = &g->nodes[bi];
    if (bn->n_in < 5 || bn->n_out < 1 || bn->in[0] < 0 || bn->out[0] < 0 ||
        hidp__attr_int(bn, "training_mode", 0) != 0)
        return 0;
    for (int k = 1; k < bn->n_out; k++)
        if (bn->out[k] >= 0 && readers(g, bn->out[k]) > 0)
            return 0;
    int x = bn->in[0], p = g->vals[x].producer;
    if (p < 0 || !is_op(&g->nodes[p], "Conv") || g->nodes[p].n_out != 1 ||
        g->nodes[p].out[0] != x || readers(g, x) != 1)
        return 0;
    const hidp__node *conv = &g->nodes[p];
    const hidp__value *wv = hidp__in(g, conv, 1);
    if (!wv || !(wv->flags & HIDP__VAL_CONST) || wv->dtype != HIDP__DT_F32 || !wv->data ||
        wv->shape.ndim < 3)
        return 0;
    int64_t c = wv->shape.d[0], wcount = hidp__shape_count(&wv->shape);
    const float *scale = const_vec(g, bn, 1, c), *shift = const_vec(g, bn, 2, c);
    const float *mean = const_vec(g, bn, 3, c), *var = const_vec(g, bn, 4, c);
    const float *bias = conv->n_in > 2 && conv->in[2] >= 0 ? const_vec(g, conv, 2, c) : NULL;
    if (!scale || !shift || !mean || !var || c <= 0 || wcount < 0)
        return 0;
    if (conv->n_in > 2 && conv->in[2] >= 0 && !bias)
        return 0;
    double eps = hidp__attr_float(bn, "epsilon", 1e-5f);
    int64_t per = wcount / c;
    float *w2 = malloc((size_t)wcount * sizeof *w2);
    float *b2 = malloc((size_t)c * sizeof *b2);
    if (!w2 || !b2) {
        free(w2);
        free(b2);
        return hidp__fail(err, HIDP_ENOMEM, "Conv '%s': out of memory folding '%s'",
                          conv->name, bn->name);
    }
    const float *w = wv->data;
    for (int64_t o = 0; o < c; o++) {
        double s = scale[o] / sqrt((double)var[o] + eps);
        for (int64_t k = 0; k < per; k++)
            w2[o * per + k] = (float)(w[o * per + k] * s);
        b2[o] = (float)(((bias ? bias[o] : 0.0) - mean[o]) * s + shift[o]);
    }
    hidp__shape ws = wv->shape, bs = hidp__shape_make(1, &c);
    char base[200];
    snprintf(base, sizeof base, "%.180s.bn_weight", g->nodes[p].name);
    int wi = add_const(g, base, &ws, w2, err);
    if (wi < 0) {
        free(b2);
        return wi;
    }
    snprintf(base, sizeof base, "%.180s.bn_bias", g->nodes[p].name);
    int bi2 = add_const(g, base, &bs, b2, err);
    if (bi2 < 0)
        return bi2;
    /* Values may have moved (realloc): take the node pointers again. */
    hidp__node *cv = &g->nodes[p];
    bn = &g->nodes[bi];
    if (cv->n_in < 3) {
        int *in = realloc(cv->in, 3 * sizeof *in);
        if (!in)
            return hidp__fail(err, HIDP_ENOMEM, "Conv '%s': out of memory", cv->name);
        in[2] = -1;
        if (cv->n_in < 2)
            in[1] = -1;
        cv->in = in;
        cv->n_in = 3;
    }
    cv->in[1] = wi;
    cv->in[2] = bi2;
    int y = bn->out[0];
    cv->out[0] = y;
    g->vals[y].producer = p;
    g->vals[x].producer = -1;
    bn->dead = 1;
    return 1;
}

int hidp__fold_batchnorm(hidp__graph *g, hidp__err *err)
{
    int folded = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!is_op(&g->nodes[i], "BatchNormalization"))
            continue;
        int rc = fold_one_bn(g, i, err);
        if (rc < 0)
            return rc;
        folded += rc;
    }
    return folded;
}

/* ---- activation fusion ---- */

const char *hidp__act_name(int kind)
{
    switch (kind) {
    case HIDP__ACT_RELU: return "Relu";
    case HIDP__ACT_CLIP: return "Clip";
    case HIDP__ACT_LEAKY_RELU: return "LeakyRelu";
    case HIDP__ACT_SIGMOID: return "Sigmoid";
    case HIDP__ACT_HARD_SIGMOID: return "HardSigmoid";
    case HIDP__ACT_HARD_SWISH: return "HardSwish";
    case HIDP__ACT_SILU: return "SiLU";
    }
    return "";
}

/* Clip bound from optional constant scalar input i; 0 if it is computed at run time. */
static int clip_bound(const hidp__graph *g, const hidp__node *n, int i, float *dst)
{
    const hidp__value *v = hidp__in(g, n, i);
    if (!v)
        return 1;
    if (!(v->flags & HIDP__VAL_CONST) || !v->data || hidp__shape_count(&v->shape) != 1)
        return 0;
    *dst = v->dtype == HIDP__DT_I64 ? (float)*(const int64_t *)v->data : *(const float *)v->data;
    return 1;
}

int hidp__act_of_node(const hidp__graph *g, const hidp__node *n, hidp__act *act)
{
    memset(act, 0, sizeof *act);
    if (n->dead || !is_default_domain(n) || n->n_in < 1 || n->n_out != 1)
        return 0;
    const char *t = n->op_type;
    if (strcmp(t, "Relu") == 0) {
        act->kind = HIDP__ACT_RELU;
    } else if (strcmp(t, "Sigmoid") == 0) {
        act->kind = HIDP__ACT_SIGMOID;
    } else if (strcmp(t, "HardSwish") == 0) {
        act->kind = HIDP__ACT_HARD_SWISH;
    } else if (strcmp(t, "LeakyRelu") == 0) {
        act->kind = HIDP__ACT_LEAKY_RELU;
        act->alpha = hidp__attr_float(n, "alpha", 0.01f);
    } else if (strcmp(t, "HardSigmoid") == 0) {
        act->kind = HIDP__ACT_HARD_SIGMOID;
        act->alpha = hidp__attr_float(n, "alpha", 0.2f);
        act->beta = hidp__attr_float(n, "beta", 0.5f);
    } else if (strcmp(t, "Clip") == 0) {
        act->kind = HIDP__ACT_CLIP;
        act->alpha = -INFINITY;
        act->beta = INFINITY;
        if (hidp__opset(g) < 11) {
            act->alpha = hidp__attr_float(n, "min", -INFINITY);
            act->beta = hidp__attr_float(n, "max", INFINITY);
        } else if (!clip_bound(g, n, 1, &act->alpha) || !clip_bound(g, n, 2, &act->beta)) {
            return 0;
        }
    } else {
        return 0;
    }
    return 1;
}

/* The Mul that, with the Sigmoid node s, computes x * sigmoid(x) (EfficientNet's SiLU, as
 * PyTorch exports it), or NULL. */
static hidp__node *silu_mul(hidp__graph *g, const hidp__node *s)
{
    if (s->dead || !is_default_domain(s) || !is_op(s, "Sigmoid") || s->n_in != 1 ||
        s->n_out != 1 || s->out[0] < 0 || readers(g, s->out[0]) != 1)
        return NULL;
    const int x = s->in[0], y = s->out[0];
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *m = &g->nodes[i];
        if (!m->dead && is_default_domain(m) && is_op(m, "Mul") && m->n_in == 2 &&
            m->n_out == 1 && ((m->in[0] == x && m->in[1] == y) || (m->in[0] == y && m->in[1] == x)))
            return m;
    }
    return NULL;
}

/* Sigmoid(x) and Mul(x, that) into a SiLU activation on x's producer, when the pair are x's
 * only readers: one pass over the layer's output in its epilogue instead of three. */
static int fuse_silu(hidp__graph *g)
{
    int fused = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *s = &g->nodes[i], *m = silu_mul(g, s);
        if (!m || s->in[0] < 0 || m->out[0] < 0)
            continue;
        const int x = s->in[0], p = g->vals[x].producer;
        if (p < 0 || g->nodes[p].dead)
            continue;
        hidp__node *pn = &g->nodes[p];
        if (!pn->op || !(pn->op->flags & HIDP__OP_CAN_FUSE) || pn->act.kind != HIDP__ACT_NONE ||
            pn->n_out < 1 || pn->out[0] != x || readers(g, x) != 2)
            continue;
        pn->act.kind = HIDP__ACT_SILU;
        pn->out[0] = m->out[0];
        g->vals[m->out[0]].producer = p;
        g->vals[x].producer = -1;
        g->vals[s->out[0]].producer = -1;
        s->dead = m->dead = 1;
        fused++;
    }
    return fused;
}

int hidp__fuse_activations(hidp__graph *g, hidp__err *err)
{
    (void)err;
    int fused = fuse_silu(g);
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *a = &g->nodes[i];
        hidp__act act;
        if (!hidp__act_of_node(g, a, &act) || a->in[0] < 0 || a->out[0] < 0)
            continue;
        int x = a->in[0], p = g->vals[x].producer;
        if (p < 0 || g->nodes[p].dead)
            continue;
        hidp__node *pn = &g->nodes[p];
        if (!pn->op || !(pn->op->flags & HIDP__OP_CAN_FUSE) || pn->act.kind != HIDP__ACT_NONE ||
            pn->n_out < 1 || pn->out[0] != x || readers(g, x) != 1)
            continue;
        pn->act = act;
        pn->out[0] = a->out[0];
        g->vals[a->out[0]].producer = p;
        g->vals[x].producer = -1;
        a->dead = 1;
        fused++;
    }
    return fused;
}

int hidp__parse_ops(hidp__graph *g, hidp__err *err)
{
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *n = &g->nodes[i];
        if (n->dead || !n->op || !n->op->parse)
            continue;
        int rc = n->op->parse(g, n, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Appends "Op (node 'name')" for every node that is neither an op nor foldable. */
static int list_unsupported(const hidp__graph *g, char **out, hidp__err *err)
{
    size_t len = 0, cap = 0;
    char *s = NULL;
    *out = NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        if (n->dead || n->op || (is_default_domain(n) && hidp__fold_known(n->op_type)))
            continue;
        size_t need = strlen(n->domain) + strlen(n->op_type) + strlen(n->name) + 20;
        if (len + need >= cap) {
            size_t ncap = (cap ? cap * 2 : 256) + need;
            char *ns = realloc(s, ncap);
            if (!ns) {
                free(s);
                return hidp__fail(err, HIDP_ENOMEM, "out of memory listing unsupported ops");
            }
            s = ns;
            cap = ncap;
        }
        len += (size_t)snprintf(s + len, cap - len, "%s%s%s%s (node '%s')", len ? ", " : "",
                                is_default_domain(n) ? "" : n->domain,
                                is_default_domain(n) ? "" : ".", n->op_type, n->name);
    }
    *out = s;
    return 0;
}

int hidp__rewrite_load(hidp__graph *g, char **unsupported, hidp__err *err)
{
    int rc;
    *unsupported = NULL;
    recompute_producers(g);
    if ((rc = hidp__rewrite_constants(g, err)) != 0 || (rc = hidp__rewrite_identity(g, err)) != 0)
        return rc;
    hidp__resolve_ops(g);
    if ((rc = hidp__fold_batchnorm(g, err)) < 0 || (rc = hidp__fuse_activations(g, err)) < 0)
        return rc;
    if ((rc = hidp__graph_sort(g, err)) != 0)
        return rc;
    if ((rc = list_unsupported(g, unsupported, err)) != 0)
        return rc;
    if ((rc = hidp__parse_ops(g, err)) != 0) {
        free(*unsupported);
        *unsupported = NULL;
    }
    return rc;
}
