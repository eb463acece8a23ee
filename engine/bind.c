/*
 * bind.c - prepare-time shape binding: inputs take their shapes, then each node in order is
 * either folded into a constant (its inputs are all known) or asked by its op for its output
 * shape. Afterwards nodes nobody needs are dropped, so the executor runs only real work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "../ops/op.h"

/* "1x3x?x?" with ? for dynamic dims. */
static char *format_decl(const hidp__shape *s, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    if (s->ndim == 0)
        snprintf(buf, len, "scalar");
    for (int i = 0; i < s->ndim && at < len; i++) {
        int w = s->d[i] < 0 ? snprintf(buf + at, len - at, i ? "x?" : "?")
                            : snprintf(buf + at, len - at, i ? "x%lld" : "%lld",
                                       (long long)s->d[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
    return buf;
}

int hidp__check_input_shape(const hidp__value *v, const hidp__shape *s, hidp__err *err)
{
    char got[128], want[128];
    int ok = s->ndim >= 0 && s->ndim <= HIDP_MAX_DIMS;
    for (int i = 0; ok && i < s->ndim; i++)
        ok = s->d[i] >= 1;
    if (!ok || hidp__shape_count(s) < 0 || hidp__shape_count(s) > HIDP__MAX_ELEMS)
        return hidp__fail(err, HIDP_ESHAPE, "input '%s': shape %s has a dim < 1 or is too large",
                          v->name, hidp__shape_format(s, got, sizeof got));
    if (v->decl.ndim == 0)
        return 0; /* the file declares no shape: anything goes, the ops check it */
    ok = v->decl.ndim == s->ndim;
    for (int i = 0; ok && i < s->ndim; i++)
        ok = v->decl.d[i] < 0 || v->decl.d[i] == s->d[i];
    if (!ok)
        return hidp__fail(err, HIDP_ESHAPE, "input '%s': got shape %s, model expects %s",
                          v->name, hidp__shape_format(s, got, sizeof got),
                          format_decl(&v->decl, want, sizeof want));
    return 0;
}

/* Runs the op's reference kernel once over the whole output and keeps the result as a
 * constant (a float node whose inputs are all constants: weights preprocessing, mostly). */
static int fold_with_op(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    int rc = n->op->reshape(g, n, err);
    if (rc)
        return rc;
    hidp__value *y = &g->vals[n->out[0]];
    int64_t count = hidp__shape_count(&y->shape);
    if (y->dtype != HIDP__DT_F32 || count < 0)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': cannot fold its output '%s'",
                          n->op_type, n->name, y->name);
    float *data = malloc((size_t)(count ? count : 1) * sizeof *data);
    float *scratch = malloc((n->scratch ? n->scratch : 1) * sizeof *scratch);
    if (!data || !scratch) {
        free(data);
        free(scratch);
        return hidp__fail(err, HIDP_ENOMEM, "%s '%s': out of memory folding", n->op_type,
                          n->name);
    }
    y->data = data;
    hidp__slice all = hidp__slice_all(g, n);
    n->op->run_ref(g, n, all, scratch);
    if (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT))
        hidp__act_apply_slice(g, n, all);
    free(scratch);
    hidp__shape s = y->shape;
    hidp__graph_set_const(g, n->out[0], HIDP__DT_F32, &s, data);
    n->dead = 1;
    return 0;
}

static int is_default_domain(const hidp__node *n)
{
    return n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0;
}

/* The first input of n that is not a constant, or NULL. */
static const hidp__value *runtime_input(const hidp__graph *g, const hidp__node *n)
{
    for (int i = 0; i < n->n_in; i++) {
        const hidp__value *v = hidp__in(g, n, i);
        if (v && !(v->flags & HIDP__VAL_CONST))
            return v;
    }
    return NULL;
}

static int bind_node(hidp__graph *g, int i, hidp__err *err)
{
    hidp__node *n = &g->nodes[i];
    const hidp__value *rt = runtime_input(g, n);
    int multi = 0;
    for (int k = 1; k < n->n_out; k++)
        multi |= n->out[k] >= 0;
    int shape_of = is_default_domain(n) &&
                   (strcmp(n->op_type, "Shape") == 0 || strcmp(n->op_type, "Size") == 0);
    if (!rt || shape_of) {
        if (is_default_domain(n) && hidp__fold_known(n->op_type)) {
            int rc = hidp__fold_node(g, i, err);
            if (rc)
                return rc < 0 ? rc : 0;
        }
        if (n->op && !rt && !multi)
            return fold_with_op(g, n, err);
    }
    if (n->n_out < 1 || n->out[0] < 0)
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': has no output", n->op_type, n->name);
    if (!n->op) {
        if (rt && is_default_domain(n) && hidp__fold_known(n->op_type))
            return hidp__fail(err, HIDP_EUNSUPPORTED,
                              "%s '%s': input '%s' is computed at run time, and hidp evaluates "
                              "%s only on values known at prepare (shape arithmetic)",
                              n->op_type, n->name, rt->name, n->op_type);
        return hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': hidp cannot evaluate this node "
                          "with these inputs", n->op_type, n->name);
    }
    int rc = n->op->reshape(g, n, err);
    if (rc)
        return rc;
    for (int k = 0; k < n->n_out; k++) {
        const hidp__value *y = hidp__out(g, n, k);
        int64_t count = y ? hidp__shape_count(&y->shape) : 0;
        if (y && y->dtype != HIDP__DT_F32)
            return hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': output '%s' is not float32",
                              n->op_type, n->name, y->name);
        if (count < 0 || count > HIDP__MAX_ELEMS)
            return hidp__fail(err, HIDP_ESHAPE, "%s '%s': output '%s' has a negative or huge "
                              "shape", n->op_type, n->name, y->name);
    }
    return 0;
}

/* Drops live nodes none of whose outputs reach a graph output (g is in topological order). */
static int drop_unused(hidp__graph *g, hidp__err *err)
{
    char *need = calloc((size_t)g->n_vals + 1, 1);
    if (!need)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_outputs; i++)
        need[g->outputs[i]] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        hidp__node *n = &g->nodes[i];
        if (n->dead)
            continue;
        int used = 0;
        for (int k = 0; k < n->n_out; k++)
            used |= n->out[k] >= 0 && need[n->out[k]];
        if (!used) {
            n->dead = 1;
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                need[n->in[k]] = 1;
    }
    free(need);
    return 0;
}

int hidp__bind(hidp__graph *g, const hidp__shape *shapes, hidp__err *err)
{
    int rc;
    for (int i = 0; i < g->n_inputs; i++) {
        hidp__value *v = &g->vals[g->inputs[i]];
        if ((rc = hidp__check_input_shape(v, &shapes[i], err)) != 0)
            return rc;
        v->shape = shapes[i];
        v->dtype = HIDP__DT_F32;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead && (rc = bind_node(g, i, err)) != 0)
            return rc;
    for (int i = 0; i < g->n_outputs; i++) {
        const hidp__value *v = &g->vals[g->outputs[i]];
        int p = v->producer;
        if (!(v->flags & (HIDP__VAL_CONST | HIDP__VAL_INPUT)) && (p < 0 || g->nodes[p].dead))
            return hidp__fail(err, HIDP_EFORMAT, "graph output '%s' is never produced",
                              v->name);
        if (v->dtype != HIDP__DT_F32)
            return hidp__fail(err, HIDP_EUNSUPPORTED, "graph output '%s' is not float32",
                              v->name);
    }
    if ((rc = drop_unused(g, err)) != 0)
        return rc;
    return hidp__graph_sort(g, err);
}
