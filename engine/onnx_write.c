/*
 * onnx_write.c - graph IR -> ONNX ModelProto.
 *
 * Used to build test models and the model zoo, and to save a rewritten graph. What is written
 * reads back (onnx_read.c) as an equivalent graph: the live nodes in their order, with every
 * attribute; the constants those nodes use, as initializers with little-endian raw_data; the
 * runtime inputs with their declared shapes; the outputs with their bound shapes when known.
 * opset_import is written before the graph, so that a file cut short anywhere fails to read
 * instead of reading as a model without its opset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "onnx.h"
#include "pb.h"

static void put_tensor(hidp__pbw *w, uint32_t field, const hidp__value *v)
{
    size_t m = hidp__pbw_begin(w, field);
    size_t count = (size_t)hidp__shape_count(&v->shape);
    size_t esz = v->dtype == HIDP__DT_F32 ? 4 : 8;
    if (v->shape.ndim > 0)
        hidp__pbw_packed_int64(w, 1, v->shape.d, (size_t)v->shape.ndim);
    hidp__pbw_int(w, 2, v->dtype);
    hidp__pbw_string(w, 8, v->name);
    hidp__pbw_tag(w, 9, HIDP__PB_LEN);
    hidp__pbw_varint(w, count * esz);
    uint8_t *p = count ? hidp__pbw_reserve(w, count * esz) : NULL;
    for (size_t i = 0; p && i < count; i++) {
        if (esz == 4) {
            uint32_t u;
            memcpy(&u, (const float *)v->data + i, 4);
            hidp__put_le32(p + 4 * i, u);
        } else {
            hidp__put_le64(p + 8 * i, (uint64_t)((const int64_t *)v->data)[i]);
        }
    }
    hidp__pbw_end(w, m);
}

/* A ValueInfoProto for a float tensor; shape NULL leaves the shape out. Dynamic dims get a
 * dim_param: "N" for the batch dim, "D<i>" for the others. */
static void put_vinfo(hidp__pbw *w, uint32_t field, const char *name, int elem,
                      const hidp__shape *shape)
{
    size_t m = hidp__pbw_begin(w, field);
    hidp__pbw_string(w, 1, name);
    size_t type = hidp__pbw_begin(w, 2);
    size_t tt = hidp__pbw_begin(w, 1);
    hidp__pbw_int(w, 1, elem);
    if (shape) {
        size_t sh = hidp__pbw_begin(w, 2);
        for (int i = 0; i < shape->ndim; i++) {
            size_t dim = hidp__pbw_begin(w, 1);
            if (shape->d[i] >= 0) {
                hidp__pbw_int(w, 1, shape->d[i]);
            } else {
                char param[16];
                snprintf(param, sizeof param, i ? "D%d" : "N", i);
                hidp__pbw_string(w, 2, param);
            }
            hidp__pbw_end(w, dim);
        }
        hidp__pbw_end(w, sh);
    }
    hidp__pbw_end(w, tt);
    hidp__pbw_end(w, type);
    hidp__pbw_end(w, m);
}

static void put_attr(hidp__pbw *w, const hidp__graph *g, const hidp__attr *a)
{
    size_t m = hidp__pbw_begin(w, 5);
    hidp__pbw_string(w, 1, a->name);
    hidp__pbw_int(w, 20, a->type);
    switch (a->type) {
    case HIDP__ATTR_FLOAT: hidp__pbw_float(w, 2, a->f); break;
    case HIDP__ATTR_INT: hidp__pbw_int(w, 3, a->i); break;
    case HIDP__ATTR_STRING: hidp__pbw_string(w, 4, a->s ? a->s : ""); break;
    case HIDP__ATTR_TENSOR: put_tensor(w, 5, &g->vals[a->tensor]); break;
    case HIDP__ATTR_FLOATS: hidp__pbw_packed_float(w, 7, a->floats, (size_t)a->n); break;
    case HIDP__ATTR_INTS: hidp__pbw_packed_int64(w, 8, a->ints, (size_t)a->n); break;
    }
    hidp__pbw_end(w, m);
}

static void put_node(hidp__pbw *w, const hidp__graph *g, const hidp__node *n)
{
    size_t m = hidp__pbw_begin(w, 1);
    for (int i = 0; i < n->n_in; i++)
        hidp__pbw_string(w, 1, n->in[i] >= 0 ? g->vals[n->in[i]].name : "");
    for (int i = 0; i < n->n_out; i++)
        hidp__pbw_string(w, 2, n->out[i] >= 0 ? g->vals[n->out[i]].name : "");
    hidp__pbw_string(w, 3, n->name);
    hidp__pbw_string(w, 4, n->op_type);
    if (n->domain && n->domain[0])
        hidp__pbw_string(w, 7, n->domain);
    for (int i = 0; i < n->n_attrs; i++)
        put_attr(w, g, &n->attrs[i]);
    hidp__pbw_end(w, m);
}

static int const_ok(const hidp__graph *g, int v, const char *use, hidp__err *err)
{
    const hidp__value *val = v >= 0 && v < g->n_vals ? &g->vals[v] : NULL;
    if (!val || !(val->flags & HIDP__VAL_CONST))
        return hidp__fail(err, HIDP_EINVAL, "cannot write %s: not a constant", use);
    int64_t count = hidp__shape_count(&val->shape);
    if (count < 0 || (count > 0 && !val->data) ||
        (val->dtype != HIDP__DT_F32 && val->dtype != HIDP__DT_I64))
        return hidp__fail(err, HIDP_EINVAL, "cannot write constant '%s': no valid data",
                          val->name);
    return 0;
}

/* Marks the constants that live nodes read or that are graph outputs, and checks every value
 * the file will name. */
static int check_graph(const hidp__graph *g, char *need, hidp__err *err)
{
    int rc;
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= g->n_vals || n->in[k] < -1)
                return hidp__fail(err, HIDP_EINVAL, "node '%s': bad input index", n->name);
            else if (n->in[k] >= 0)
                need[n->in[k]] = (g->vals[n->in[k]].flags & HIDP__VAL_CONST) != 0;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= g->n_vals || n->out[k] < -1)
                return hidp__fail(err, HIDP_EINVAL, "node '%s': bad output index", n->name);
        for (int k = 0; k < n->n_attrs; k++) {
            char use[300];
            snprintf(use, sizeof use, "node '%s': attribute '%s'", n->name, n->attrs[k].name);
            if (n->attrs[k].type == HIDP__ATTR_TENSOR &&
                (rc = const_ok(g, n->attrs[k].tensor, use, err)))
                return rc;
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        need[g->outputs[i]] = (g->vals[g->outputs[i]].flags & HIDP__VAL_CONST) != 0;
    for (int v = 0; v < g->n_vals; v++)
        if (need[v] && (rc = const_ok(g, v, g->vals[v].name, err)))
            return rc;
    return 0;
}

int hidp__onnx_write(const hidp__graph *g, void **data, size_t *size, hidp__err *err)
{
    hidp__pbw w = {0};
    int rc;
    char *need = calloc((size_t)g->n_vals + 1, 1);
    *data = NULL;
    *size = 0;
    if (!need)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory writing ONNX");
    if ((rc = check_graph(g, need, err)))
        goto done;

    hidp__pbw_int(&w, 1, 8); /* ir_version */
    hidp__pbw_string(&w, 2, "hidp");
    size_t m = hidp__pbw_begin(&w, 8);
    hidp__pbw_int(&w, 2, g->opset > 0 ? g->opset : 13);
    hidp__pbw_end(&w, m);

    size_t gm = hidp__pbw_begin(&w, 7);
    hidp__pbw_string(&w, 2, "hidp");
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead)
            put_node(&w, g, &g->nodes[i]);
    for (int v = 0; v < g->n_vals; v++)
        if (need[v])
            put_tensor(&w, 5, &g->vals[v]);
    for (int i = 0; i < g->n_inputs; i++) {
        const hidp__value *v = &g->vals[g->inputs[i]];
        put_vinfo(&w, 11, v->name, HIDP__DT_F32, &v->decl);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const hidp__value *v = &g->vals[g->outputs[i]];
        int known = v->shape.ndim > 0 && hidp__shape_count(&v->shape) >= 0;
        put_vinfo(&w, 12, v->name, v->dtype, known ? &v->shape : NULL);
    }
    hidp__pbw_end(&w, gm);
    if (w.failed) {
        rc = hidp__fail(err, HIDP_ENOMEM, "out of memory writing ONNX");
        goto done;
    }
    *data = w.buf;
    *size = w.len;
    w.buf = NULL;
done:
    hidp__pbw_free(&w);
    free(need);
    return rc;
}

int hidp__onnx_write_file(const hidp__graph *g, const char *path, hidp__err *err)
{
    void *data;
    size_t size;
    int rc = hidp__onnx_write(g, &data, &size, err);
    if (rc) {
        if (err) {
            char why[HIDP__ERRLEN];
            snprintf(why, sizeof why, "%s", err->msg);
            hidp__fail(err, rc, "%s: %s", path, why);
        }
        return rc;
    }
    rc = hidp__write_file_atomic(path, data, size, err);
    free(data);
    return rc;
}
