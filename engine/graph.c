/*
 * graph.c - building and querying the graph IR.
 *
 * Values are looked up by name with a linear scan: graphs have at most a few thousand values and
 * look-ups happen only at load time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

void hidp__graph_init(hidp__graph *g)
{
    memset(g, 0, sizeof *g);
}

static void attr_free(hidp__attr *a)
{
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
}

#include "../ops/op.h"

static void node_free(hidp__node *n)
{
    if (n->params) {
        if (n->op && n->op->destroy)
            n->op->destroy(n);
        else
            free(n->params);
        n->params = NULL;
    }
    for (int i = 0; i < n->n_attrs; i++)
        attr_free(&n->attrs[i]);
    free(n->attrs);
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->in);
    free(n->out);
}

void hidp__graph_free(hidp__graph *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        node_free(&g->nodes[i]);
    for (int i = 0; i < g->n_vals; i++) {
        free(g->vals[i].name);
        if ((g->vals[i].flags & (HIDP__VAL_CONST | HIDP__VAL_BORROWED)) == HIDP__VAL_CONST)
            free(g->vals[i].data);
    }
    free(g->nodes);
    free(g->vals);
    free(g->inputs);
    free(g->outputs);
    memset(g, 0, sizeof *g);
}

int hidp__values_overlap(const hidp__value *x, const hidp__value *y)
{
    if (!x->data || !y->data)
        return 0;
    const char *x0 = x->data, *y0 = y->data;
    const char *x1 = x0 + (size_t)hidp__shape_count(&x->shape) * sizeof(float);
    const char *y1 = y0 + (size_t)hidp__shape_count(&y->shape) * sizeof(float);
    return x0 < y1 && y0 < x1;
}

int hidp__graph_find(const hidp__graph *g, const char *name)
{
    for (int i = 0; i < g->n_vals; i++)
        if (strcmp(g->vals[i].name, name) == 0)
            return i;
    return -1;
}

static int add_value(hidp__graph *g, char *owned_name)
{
    if (!owned_name)
        return -1;
    if (g->n_vals == g->cap_vals) {
        int cap = g->cap_vals ? g->cap_vals * 2 : 64;
        hidp__value *v = realloc(g->vals, (size_t)cap * sizeof *v);
        if (!v) {
            free(owned_name);
            return -1;
        }
        g->vals = v;
        g->cap_vals = cap;
    }
    hidp__value *v = &g->vals[g->n_vals];
    memset(v, 0, sizeof *v);
    v->name = owned_name;
    v->dtype = HIDP__DT_F32;
    v->producer = -1;
    v->arena_off = -1;
    return g->n_vals++;
}

int hidp__graph_value(hidp__graph *g, const char *name)
{
    int i = hidp__graph_find(g, name);
    return i >= 0 ? i : add_value(g, strdup(name));
}

int hidp__graph_new_value(hidp__graph *g, const char *base)
{
    char buf[256];
    for (int k = g->n_vals;; k++) {
        snprintf(buf, sizeof buf, "%s__%d", base, k);
        if (hidp__graph_find(g, buf) < 0)
            return add_value(g, strdup(buf));
    }
}

static int *copy_ints(const int *src, int n)
{
    int *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    if (d && n > 0)
        memcpy(d, src, (size_t)n * sizeof *d);
    return d;
}

int hidp__graph_add_node(hidp__graph *g, const char *name, const char *op_type,
                         const char *domain, const int *in, int n_in, const int *out, int n_out)
{
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        hidp__node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn)
            return -1;
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    hidp__node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    char made[128];
    if (!name || !*name) {
        snprintf(made, sizeof made, "%s_%d", op_type, g->n_nodes);
        name = made;
    }
    n->name = strdup(name);
    n->op_type = strdup(op_type);
    n->domain = strdup(domain ? domain : "");
    n->in = copy_ints(in, n_in);
    n->out = copy_ints(out, n_out);
    n->n_in = n_in;
    n->n_out = n_out;
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
        node_free(n);
        return -1;
    }
    for (int i = 0; i < n_out; i++)
        if (out[i] >= 0)
            g->vals[out[i]].producer = g->n_nodes;
    return g->n_nodes++;
}

void hidp__graph_set_const(hidp__graph *g, int v, int dtype, const hidp__shape *shape, void *data)
{
    hidp__value *val = &g->vals[v];
    if ((val->flags & (HIDP__VAL_CONST | HIDP__VAL_BORROWED)) == HIDP__VAL_CONST)
        free(val->data);
    val->flags = (val->flags | HIDP__VAL_CONST) & ~(HIDP__VAL_INPUT | HIDP__VAL_BORROWED);
    val->dtype = dtype;
    val->shape = *shape;
    val->data = data;
    val->producer = -1;
}

static int attr_copy(hidp__attr *d, const hidp__attr *s)
{
    *d = *s;
    d->name = strdup(s->name);
    d->s = s->s ? strdup(s->s) : NULL;
    d->ints = s->ints ? malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *d->ints) : NULL;
    d->floats = s->floats ? malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *d->floats) : NULL;
    if (!d->name || (s->s && !d->s) || (s->ints && !d->ints) || (s->floats && !d->floats))
        return -1;
    if (s->ints && s->n > 0)
        memcpy(d->ints, s->ints, (size_t)s->n * sizeof *d->ints);
    if (s->floats && s->n > 0)
        memcpy(d->floats, s->floats, (size_t)s->n * sizeof *d->floats);
    return 0;
}

int hidp__graph_clone(hidp__graph *dst, const hidp__graph *src, hidp__err *err)
{
    hidp__graph_init(dst);
    dst->opset = src->opset;
    dst->vals = calloc((size_t)(src->n_vals > 0 ? src->n_vals : 1), sizeof *dst->vals);
    dst->nodes = calloc((size_t)(src->n_nodes > 0 ? src->n_nodes : 1), sizeof *dst->nodes);
    dst->inputs = copy_ints(src->inputs, src->n_inputs);
    dst->outputs = copy_ints(src->outputs, src->n_outputs);
    if (!dst->vals || !dst->nodes || !dst->inputs || !dst->outputs)
        goto fail;
    dst->cap_vals = src->n_vals > 0 ? src->n_vals : 1;
    dst->cap_nodes = src->n_nodes > 0 ? src->n_nodes : 1;
    dst->n_inputs = src->n_inputs;
    dst->n_outputs = src->n_outputs;
    for (int i = 0; i < src->n_vals; i++) {
        const hidp__value *sv = &src->vals[i];
        hidp__value *dv = &dst->vals[i];
        *dv = *sv;
        dv->name = strdup(sv->name);
        dst->n_vals = i + 1;
        if (!dv->name)
            goto fail;
        if (sv->flags & HIDP__VAL_CONST)
            dv->flags |= HIDP__VAL_BORROWED;
        else
            dv->data = NULL;
    }
    for (int i = 0; i < src->n_nodes; i++) {
        const hidp__node *sn = &src->nodes[i];
        hidp__node *dn = &dst->nodes[i];
        *dn = *sn;
        dn->params = NULL;
        dn->attrs = NULL;
        dn->n_attrs = 0;
        dn->name = strdup(sn->name);
        dn->op_type = strdup(sn->op_type);
        dn->domain = strdup(sn->domain);
        dn->in = copy_ints(sn->in, sn->n_in);
        dn->out = copy_ints(sn->out, sn->n_out);
        dst->n_nodes = i + 1;
        if (!dn->name || !dn->op_type || !dn->domain || !dn->in || !dn->out)
            goto fail;
        if (sn->n_attrs > 0) {
            dn->attrs = calloc((size_t)sn->n_attrs, sizeof *dn->attrs);
            if (!dn->attrs)
                goto fail;
            for (int k = 0; k < sn->n_attrs; k++) {
                dn->n_attrs = k + 1;
                if (attr_copy(&dn->attrs[k], &sn->attrs[k]) != 0)
                    goto fail;
            }
        }
    }
    return 0;
fail:
    hidp__graph_free(dst);
    return hidp__fail(err, HIDP_ENOMEM, "out of memory copying the graph");
}

int hidp__graph_uses(const hidp__graph *g, int v)
{
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            uses += n->in[k] == v;
    }
    return uses;
}

void hidp__graph_replace_uses(hidp__graph *g, int from, int to)
{
    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == from)
                n->in[k] = to;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == from)
            g->outputs[i] = to;
}

/* Kahn's algorithm over live nodes; ties keep file order, so a sorted file stays as it is. */
int hidp__graph_sort(hidp__graph *g, hidp__err *err)
{
    int n = g->n_nodes, rc = 0;
    char *ready = calloc((size_t)g->n_vals + 1, 1);
    char *placed = calloc((size_t)n + 1, 1);
    hidp__node *sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    int *remap = malloc((size_t)(n > 0 ? n : 1) * sizeof *remap);
    if (!ready || !placed || !sorted || !remap) {
        rc = hidp__fail(err, HIDP_ENOMEM, "out of memory sorting the graph");
        goto done;
    }
    /* Constants and graph inputs are there from the start; everything else once a live node
     * produces it (a value whose producer was removed is produced by nobody). */
    for (int v = 0; v < g->n_vals; v++)
        ready[v] = (g->vals[v].flags & (HIDP__VAL_CONST | HIDP__VAL_INPUT)) != 0;
    for (int i = 0; i < g->n_inputs; i++)
        ready[g->inputs[i]] = 1;
    int count = 0, live = 0;
    for (int i = 0; i < n; i++)
        live += !g->nodes[i].dead;
    while (count < live) {
        int progress = 0;
        for (int i = 0; i < n; i++) {
            hidp__node *nd = &g->nodes[i];
            if (nd->dead || placed[i])
                continue;
            int ok = 1;
            for (int k = 0; k < nd->n_in && ok; k++)
                ok = nd->in[k] < 0 || ready[nd->in[k]];
            if (!ok)
                continue;
            placed[i] = 1;
            remap[i] = count;
            sorted[count++] = *nd;
            for (int k = 0; k < nd->n_out; k++)
                if (nd->out[k] >= 0)
                    ready[nd->out[k]] = 1;
            progress = 1;
        }
        if (!progress) {
            for (int i = 0; i < n; i++) {
                hidp__node *nd = &g->nodes[i];
                if (nd->dead || placed[i])
                    continue;
                for (int k = 0; k < nd->n_in; k++)
                    if (nd->in[k] >= 0 && !ready[nd->in[k]]) {
                        const hidp__value *v = &g->vals[nd->in[k]];
                        int orphan = v->producer < 0 || v->producer >= n ||
                                     g->nodes[v->producer].dead;
                        rc = hidp__fail(err, HIDP_EFORMAT,
                                        orphan
                                            ? "node '%s' (%s): input '%s' is never produced"
                                            : "node '%s' (%s): input '%s' depends on a cycle",
                                        nd->name, nd->op_type, v->name);
                        goto done;
                    }
            }
            rc = hidp__fail(err, HIDP_EFORMAT, "graph has a cycle");
            goto done;
        }
    }
    /* Dead nodes are dropped here for good: their memory is released. */
    for (int i = 0; i < n; i++)
        if (g->nodes[i].dead)
            node_free(&g->nodes[i]);
    memcpy(g->nodes, sorted, (size_t)count * sizeof *sorted);
    g->n_nodes = count;
    for (int v = 0; v < g->n_vals; v++) {
        int p = g->vals[v].producer;
        if (p >= 0)
            g->vals[v].producer = placed[p] ? remap[p] : -1;
    }
done:
    free(ready);
    free(placed);
    free(sorted);
    free(remap);
    return rc;
}

const hidp__attr *hidp__node_attr(const hidp__node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t hidp__attr_int(const hidp__node *n, const char *name, int64_t dflt)
{
    const hidp__attr *a = hidp__node_attr(n, name);
    return a && a->type == HIDP__ATTR_INT ? a->i : dflt;
}

float hidp__attr_float(const hidp__node *n, const char *name, float dflt)
{
    const hidp__attr *a = hidp__node_attr(n, name);
    if (a && a->type == HIDP__ATTR_FLOAT)
        return a->f;
    return a && a->type == HIDP__ATTR_INT ? (float)a->i : dflt;
}

const char *hidp__attr_string(const hidp__node *n, const char *name)
{
    const hidp__attr *a = hidp__node_attr(n, name);
    return a && a->type == HIDP__ATTR_STRING ? a->s : NULL;
}

int hidp__attr_ints(const hidp__node *n, const char *name, const int64_t **out)
{
    const hidp__attr *a = hidp__node_attr(n, name);
    if (!a || a->type != HIDP__ATTR_INTS)
        return -1;
    *out = a->ints;
    return a->n;
}

int hidp__attr_floats(const hidp__node *n, const char *name, const float **out)
{
    const hidp__attr *a = hidp__node_attr(n, name);
    if (!a || a->type != HIDP__ATTR_FLOATS)
        return -1;
    *out = a->floats;
    return a->n;
}

/* Returns a cleared attribute slot called name (an existing one is emptied and reused). */
static hidp__attr *attr_slot(hidp__node *n, const char *name, int type)
{
    hidp__attr *a = (hidp__attr *)hidp__node_attr(n, name);
    if (a) {
        attr_free(a);
    } else {
        hidp__attr *na = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *na);
        if (!na)
            return NULL;
        n->attrs = na;
        a = &n->attrs[n->n_attrs++];
    }
    memset(a, 0, sizeof *a);
    a->tensor = -1;
    a->type = type;
    a->name = strdup(name);
    if (!a->name) {
        n->n_attrs--;
        return NULL;
    }
    return a;
}

int hidp__node_set_int(hidp__node *n, const char *name, int64_t v)
{
    hidp__attr *a = attr_slot(n, name, HIDP__ATTR_INT);
    if (!a)
        return HIDP_ENOMEM;
    a->i = v;
    return 0;
}

int hidp__node_set_float(hidp__node *n, const char *name, float v)
{
    hidp__attr *a = attr_slot(n, name, HIDP__ATTR_FLOAT);
    if (!a)
        return HIDP_ENOMEM;
    a->f = v;
    return 0;
}

int hidp__node_set_string(hidp__node *n, const char *name, const char *v)
{
    hidp__attr *a = attr_slot(n, name, HIDP__ATTR_STRING);
    if (!a || !(a->s = strdup(v)))
        return HIDP_ENOMEM;
    return 0;
}

int hidp__node_set_ints(hidp__node *n, const char *name, const int64_t *v, int count)
{
    hidp__attr *a = attr_slot(n, name, HIDP__ATTR_INTS);
    if (!a || !(a->ints = malloc((size_t)(count > 0 ? count : 1) * sizeof *v)))
        return HIDP_ENOMEM;
    if (count > 0)
        memcpy(a->ints, v, (size_t)count * sizeof *v);
    a->n = count;
    return 0;
}

int hidp__node_set_floats(hidp__node *n, const char *name, const float *v, int count)
{
    hidp__attr *a = attr_slot(n, name, HIDP__ATTR_FLOATS);
    if (!a || !(a->floats = malloc((size_t)(count > 0 ? count : 1) * sizeof *v)))
        return HIDP_ENOMEM;
    if (count > 0)
        memcpy(a->floats, v, (size_t)count * sizeof *v);
    a->n = count;
    return 0;
}

int hidp__node_set_tensor(hidp__node *n, const char *name, int value)
{
    hidp__attr *a = attr_slot(n, name, HIDP__ATTR_TENSOR);
    if (!a)
        return HIDP_ENOMEM;
    a->tensor = value;
    return 0;
}
