/*
 * onnx_read.c - ONNX ModelProto -> graph IR, straight from the protobuf wire format.
 *
 * Every message is walked with a bounded cursor (pb.h). A GraphProto is walked several times
 * because its fields may come in any order while their meaning depends on each other: first
 * the whole structure is checked and the initializers are read, then the inputs (an input that
 * is also an initializer is a constant, not a runtime input), then the nodes, then the outputs.
 * Messages name the source and the place ("model.onnx: node 'conv1': attribute 'pads': ...");
 * the name of a message is looked up before its other fields so that it can be given even when
 * a field before it is the broken one.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "onnx.h"
#include "pb.h"

typedef struct rd {
    const char *src;
    hidp__graph *g;
    hidp__err *err;
    int release; /* the data is a file mapping: drop each tensor's pages once converted */
} rd;

/* A tensor's fields as found in the file, before conversion. */
typedef struct tens {
    int64_t dtype;
    hidp__pb_i64s dims, i32, i64, u64;
    hidp__pb_f32s f32;
    hidp__pb_f64s f64;
    const uint8_t *raw;
    size_t raw_n;
    int has_raw, external;
} tens;

static void tens_free(tens *t)
{
    free(t->dims.v);
    free(t->i32.v);
    free(t->i64.v);
    free(t->u64.v);
    free(t->f32.v);
    free(t->f64.v);
}

static int failf(rd *r, int code, const char *fmt, ...) HIDP__PRINTF(3, 4);
static int failf(rd *r, int code, const char *fmt, ...)
{
    char what[HIDP__ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hidp__fail(r->err, code, "%s: %s", r->src, what);
}

/* A protobuf-level failure (pb.h code) inside `what`. */
static int pbfail(rd *r, int pbrc, const char *what)
{
    if (pbrc == HIDP__PB_ENOMEM)
        return failf(r, HIDP_ENOMEM, "%s: out of memory", what);
    return failf(r, HIDP_EFORMAT, "%s: %s", what, hidp__pb_strerror(pbrc));
}

static int oom(rd *r, const char *what)
{
    return pbfail(r, HIDP__PB_ENOMEM, what);
}

/* Writes "<kind> '<name>'" into buf, the name being string field `field` of message c, or
 * "<kind> #<index>" when it has none. Best effort, for messages: stops quietly at the first
 * malformed field; control bytes become '?'; long names are cut. Returns whether a name was
 * found. */
static int label(char *buf, size_t n, const char *kind, hidp__pb c, uint32_t field, int index)
{
    char name[160] = "";
    uint32_t f;
    int w;
    while (hidp__pb_more(&c) && !hidp__pb_tag(&c, &f, &w)) {
        hidp__pb s;
        if (f != field || w != HIDP__PB_LEN) {
            if (hidp__pb_skip(&c, w))
                break;
        } else if (hidp__pb_len(&c, &s)) {
            break;
        } else {
            size_t k = (size_t)(s.end - s.p) < sizeof name ? (size_t)(s.end - s.p)
                                                           : sizeof name - 1;
            for (size_t i = 0; i < k; i++)
                name[i] = s.p[i] < 0x20 ? '?' : (char)s.p[i];
            name[k] = '\0';
        }
    }
    if (name[0])
        snprintf(buf, n, "%s '%s'", kind, name);
    else
        snprintf(buf, n, "%s #%d", kind, index);
    return name[0] != 0;
}

static const char *dtype_name(int64_t t)
{
    static const char *const names[] = {"undefined", "float32", "uint8", "int8", "uint16",
                                        "int16", "int32", "int64", "string", "bool", "float16",
                                        "float64", "uint32", "uint64", "complex64",
                                        "complex128", "bfloat16"};
    return t >= 0 && t < (int64_t)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

/* Bytes per element in raw_data for the types hidp converts; 0 for the others. */
static int dtype_size(int64_t t)
{
    switch (t) {
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 1: case 6: case 12: return 4;
    case 7: case 11: case 13: return 8;
    }
    return 0;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | man << 13;
    } else if (exp) {
        u = sign | (exp + 112) << 23 | man << 13;
    } else if (man) {
        /* Subnormal half: normalise into a float. */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        u = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ff) << 13;
    } else {
        u = sign;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int tensor_parse(rd *r, hidp__pb c, const char *what, tens *t)
{
    uint32_t f;
    int w, rc = 0;
    memset(t, 0, sizeof *t);
    while (!rc && hidp__pb_more(&c)) {
        hidp__pb s;
        int64_t v;
        if ((rc = hidp__pb_tag(&c, &f, &w)))
            break;
        switch (f) {
        case 1: rc = hidp__pb_add_varints(&c, w, &t->dims); break;
        case 2: rc = hidp__pb_get_int(&c, w, &t->dtype); break;
        case 4: rc = hidp__pb_add_floats(&c, w, &t->f32); break;
        case 5: rc = hidp__pb_add_varints(&c, w, &t->i32); break;
        case 7: rc = hidp__pb_add_varints(&c, w, &t->i64); break;
        case 10: rc = hidp__pb_add_doubles(&c, w, &t->f64); break;
        case 11: rc = hidp__pb_add_varints(&c, w, &t->u64); break;
        case 9:
            if (!(rc = hidp__pb_get_msg(&c, w, &s))) {
                t->raw = s.p;
                t->raw_n = (size_t)(s.end - s.p);
                t->has_raw = 1;
            }
            break;
        case 14:
            if (!(rc = hidp__pb_get_int(&c, w, &v)))
                t->external = v == 1;
            break;
        default: rc = hidp__pb_skip(&c, w); break;
        }
    }
    return rc ? pbfail(r, rc, what) : 0;
}

/* Converts a parsed tensor into a constant buffer (dtype F32 or I64) with its shape. */
static int tensor_data(rd *r, const tens *t, const char *what, int *dtype, hidp__shape *shape,
                       void **data)
{
    if (t->external)
        return failf(r, HIDP_EUNSUPPORTED,
                     "%s: external data not supported (hidp reads self-contained .onnx files)",
                     what);
    int esz = dtype_size(t->dtype);
    if (!esz)
        return failf(r, HIDP_EUNSUPPORTED, "%s: data type %lld (%s) not supported", what,
                     (long long)t->dtype, dtype_name(t->dtype));
    if (t->dims.n > HIDP_MAX_DIMS)
        return failf(r, HIDP_EUNSUPPORTED, "%s: %zu dims; hidp handles at most %d", what,
                     t->dims.n, HIDP_MAX_DIMS);
    for (size_t i = 0; i < t->dims.n; i++)
        if (t->dims.v[i] < 0)
            return failf(r, HIDP_EFORMAT, "%s: negative dim %lld", what,
                         (long long)t->dims.v[i]);
    *shape = hidp__shape_make((int)t->dims.n, t->dims.v);
    int64_t count = hidp__shape_count(shape);
    if (count < 0)
        return failf(r, HIDP_EFORMAT, "%s: element count overflows", what);
    int is_f32 = t->dtype == 1 || t->dtype == 10 || t->dtype == 11 || t->dtype == 16;
    /* Typed values live in the field their type maps to. */
    const hidp__pb_i64s *ints = t->dtype == 7 ? &t->i64
                                : (t->dtype == 12 || t->dtype == 13) ? &t->u64 : &t->i32;
    size_t have = t->dtype == 1 ? t->f32.n : t->dtype == 11 ? t->f64.n : ints->n;
    if (t->has_raw) {
        if (t->raw_n % (size_t)esz || t->raw_n / (size_t)esz != (uint64_t)count)
            return failf(r, HIDP_EFORMAT,
                         "%s: raw_data has %zu bytes, expected %lld elements of %d bytes", what,
                         t->raw_n, (long long)count, esz);
    } else if (have != (uint64_t)count) {
        return failf(r, HIDP_EFORMAT, "%s: has %zu values, expected %lld", what, have,
                     (long long)count);
    }
    /* count is now bounded by the data in the file. */
    size_t n = (size_t)count;
    void *out = malloc((n ? n : 1) * (is_f32 ? sizeof(float) : sizeof(int64_t)));
    if (!out)
        return oom(r, what);
    float *of = out;
    int64_t *oi = out;
    const uint8_t *p = t->raw;
    for (size_t i = 0; i < n; i++) {
        if (t->has_raw) {
            const uint8_t *e = p + i * (size_t)esz;
            uint32_t u32 = esz == 4 ? hidp__le32(e) : 0;
            uint16_t u16 = esz == 2 ? (uint16_t)(e[0] | e[1] << 8) : 0;
            double d;
            switch (t->dtype) {
            case 1: memcpy(&of[i], &u32, 4); break;
            case 10: of[i] = half_to_float(u16); break;
            case 16: u32 = (uint32_t)u16 << 16; memcpy(&of[i], &u32, 4); break;
            case 11: { uint64_t u = hidp__le64(e); memcpy(&d, &u, 8); of[i] = (float)d; } break;
            case 2: case 9: oi[i] = e[0]; break;
            case 3: oi[i] = (int8_t)e[0]; break;
            case 4: oi[i] = u16; break;
            case 5: oi[i] = (int16_t)u16; break;
            case 6: oi[i] = (int32_t)u32; break;
            case 12: oi[i] = u32; break;
            default: oi[i] = (int64_t)hidp__le64(e); break; /* 7, 13 */
            }
        } else {
            switch (t->dtype) {
            case 1: of[i] = t->f32.v[i]; break;
            case 11: of[i] = (float)t->f64.v[i]; break;
            /* int32_data carries 16-bit floats as their bit patterns. */
            case 10: of[i] = half_to_float((uint16_t)ints->v[i]); break;
            case 16: { uint32_t u = (uint32_t)(uint16_t)ints->v[i] << 16; memcpy(&of[i], &u, 4); }
                break;
            default: oi[i] = ints->v[i]; break;
            }
        }
    }
    /* The converted copy is what hidp keeps: with the file mapped, its pages go now, so loading
     * never holds the weights twice (VGG-16's 553 MB were 1.1 GB at the peak). */
    if (r->release && t->has_raw)
        hidp__release_pages(t->raw, t->raw_n);
    *dtype = is_f32 ? HIDP__DT_F32 : HIDP__DT_I64;
    *data = out;
    return 0;
}

/* Reads a TensorProto from c into value v (a new constant). */
static int tensor_read(rd *r, hidp__pb c, const char *what, int v)
{
    tens t;
    int dtype = 0;
    hidp__shape shape;
    void *data = NULL;
    int rc = tensor_parse(r, c, what, &t);
    if (!rc && !(rc = tensor_data(r, &t, what, &dtype, &shape, &data)))
        hidp__graph_set_const(r->g, v, dtype, &shape, data);
    tens_free(&t);
    return rc;
}

static int read_initializer(rd *r, hidp__pb c, int index)
{
    char what[200], *name = NULL;
    int rc = 0, v;
    uint32_t f;
    int w;
    if (!label(what, sizeof what, "initializer", c, 8, index))
        return failf(r, HIDP_EFORMAT, "%s: has no name", what);
    for (hidp__pb walk = c; !rc && hidp__pb_more(&walk);)
        if (!(rc = hidp__pb_tag(&walk, &f, &w)))
            rc = f == 8 ? hidp__pb_get_string(&walk, w, &name) : hidp__pb_skip(&walk, w);
    if (rc)
        rc = pbfail(r, rc, what);
    else if ((v = hidp__graph_value(r->g, name)) < 0)
        rc = oom(r, what);
    else
        rc = tensor_read(r, c, what, v);
    free(name);
    return rc;
}

static int read_attr(rd *r, hidp__pb c, int ni, int index)
{
    char kind[200], what[400];
    snprintf(kind, sizeof kind, "node '%s': attribute", r->g->nodes[ni].name);
    label(what, sizeof what, kind, c, 1, index);

    uint32_t f;
    int w, rc = 0;
    int64_t type = 0, iv = 0;
    float fv = 0;
    char *s = NULL, *aname = NULL;
    int has_f = 0, has_i = 0, has_t = 0, n_floats = 0, n_ints = 0;
    hidp__pb_f32s floats = {0};
    hidp__pb_i64s ints = {0};
    hidp__pb tc = {0};
    while (!rc && hidp__pb_more(&c)) {
        if ((rc = hidp__pb_tag(&c, &f, &w)))
            break;
        switch (f) {
        case 1: rc = hidp__pb_get_string(&c, w, &aname); break;
        case 2: rc = hidp__pb_get_float(&c, w, &fv); has_f = 1; break;
        case 3: rc = hidp__pb_get_int(&c, w, &iv); has_i = 1; break;
        case 4: rc = hidp__pb_get_string(&c, w, &s); break;
        case 5: rc = hidp__pb_get_msg(&c, w, &tc); has_t = 1; break;
        case 7: rc = hidp__pb_add_floats(&c, w, &floats); n_floats = 1; break;
        case 8: rc = hidp__pb_add_varints(&c, w, &ints); n_ints = 1; break;
        case 20: rc = hidp__pb_get_int(&c, w, &type); break;
        default: rc = hidp__pb_skip(&c, w); break;
        }
    }
    if (rc) {
        rc = pbfail(r, rc, what);
        goto done;
    }
    if (!aname || !aname[0]) {
        rc = failf(r, HIDP_EFORMAT, "%s: has no name", what);
        goto done;
    }
    if (type == 0) /* Old files leave the type out: take it from the field that is set. */
        type = has_t ? HIDP__ATTR_TENSOR : n_ints ? HIDP__ATTR_INTS
             : n_floats ? HIDP__ATTR_FLOATS : s ? HIDP__ATTR_STRING
             : has_i ? HIDP__ATTR_INT : has_f ? HIDP__ATTR_FLOAT : 0;
    if (floats.n > INT_MAX || ints.n > INT_MAX) {
        rc = failf(r, HIDP_EFORMAT, "%s: too many values", what);
        goto done;
    }
    hidp__node *n = &r->g->nodes[ni];
    switch (type) {
    case HIDP__ATTR_FLOAT: rc = hidp__node_set_float(n, aname, fv); break;
    case HIDP__ATTR_INT: rc = hidp__node_set_int(n, aname, iv); break;
    case HIDP__ATTR_STRING: rc = hidp__node_set_string(n, aname, s ? s : ""); break;
    case HIDP__ATTR_FLOATS: rc = hidp__node_set_floats(n, aname, floats.v, (int)floats.n); break;
    case HIDP__ATTR_INTS: rc = hidp__node_set_ints(n, aname, ints.v, (int)ints.n); break;
    case HIDP__ATTR_TENSOR: {
        if (!has_t) {
            rc = failf(r, HIDP_EFORMAT, "%s: type TENSOR but no tensor", what);
            goto done;
        }
        char base[400];
        snprintf(base, sizeof base, "%s_%s", n->name, aname);
        int v = hidp__graph_find(r->g, base) < 0 ? hidp__graph_value(r->g, base)
                                                  : hidp__graph_new_value(r->g, base);
        if (v < 0) {
            rc = oom(r, what);
            goto done;
        }
        if (!(rc = tensor_read(r, tc, what, v)))
            rc = hidp__node_set_tensor(&r->g->nodes[ni], aname, v);
        break;
    }
    /* Graphs, sparse tensors, type protos and lists of strings, tensors or graphs: the ops
     * that take them (If, Loop, Scan...) are not implemented, and the engine names the op. */
    case 5: case 8: case 9: case 10: case 11: case 12: case 13: case 14: break;
    case 0: rc = failf(r, HIDP_EFORMAT, "%s: has no value", what); goto done;
    default:
        rc = failf(r, HIDP_EFORMAT, "%s: unknown attribute type %lld", what, (long long)type);
        goto done;
    }
    if (rc == HIDP_ENOMEM)
        rc = oom(r, what);
done:
    free(aname);
    free(s);
    free(floats.v);
    free(ints.v);
    return rc;
}

/* Reads a value name field ("" means an omitted optional value: -1). */
static int name_value(rd *r, hidp__pb *c, int wire, const char *what, int *out)
{
    char *s = NULL;
    int rc = hidp__pb_get_string(c, wire, &s);
    if (rc)
        return pbfail(r, rc, what);
    *out = s[0] ? hidp__graph_value(r->g, s) : -1;
    rc = s[0] && *out < 0 ? oom(r, what) : 0;
    free(s);
    return rc;
}

static int read_node(rd *r, hidp__pb c, int index)
{
    char what[200];
    label(what, sizeof what, "node", c, 3, index);
    uint32_t f;
    int w, rc = 0, n_in = 0, n_out = 0, ni;
    char *name = NULL, *op_type = NULL, *domain = NULL;
    int *in = NULL, *out = NULL;
    hidp__pb walk = c;
    /* First pass: the strings and the counts. */
    while (!rc && hidp__pb_more(&walk)) {
        if ((rc = hidp__pb_tag(&walk, &f, &w)))
            break;
        if (f == 1 || f == 2 || f == 5) {
            hidp__pb s; /* names are read in the second pass, attributes in the third */
            if (!(rc = hidp__pb_get_msg(&walk, w, &s)))
                n_in += f == 1, n_out += f == 2;
        } else if (f == 3 || f == 4 || f == 7) {
            rc = hidp__pb_get_string(&walk, w, f == 3 ? &name : f == 4 ? &op_type : &domain);
        } else {
            rc = hidp__pb_skip(&walk, w);
        }
    }
    if (rc) {
        rc = pbfail(r, rc, what);
        goto done;
    }
    if (!op_type || !op_type[0]) {
        rc = failf(r, HIDP_EFORMAT, "%s: has no op_type", what);
        goto done;
    }
    in = malloc((size_t)(n_in ? n_in : 1) * sizeof *in);
    out = malloc((size_t)(n_out ? n_out : 1) * sizeof *out);
    if (!in || !out) {
        rc = oom(r, what);
        goto done;
    }
    /* Second pass: the value names, in order. */
    n_in = n_out = 0;
    walk = c;
    while (!rc && hidp__pb_more(&walk)) {
        if ((rc = hidp__pb_tag(&walk, &f, &w)) ||
            (f != 1 && f != 2 && (rc = hidp__pb_skip(&walk, w))))
            rc = pbfail(r, rc, what);
        else if (f == 1)
            rc = name_value(r, &walk, w, what, &in[n_in++]);
        else if (f == 2)
            rc = name_value(r, &walk, w, what, &out[n_out++]);
    }
    if (rc)
        goto done;
    const char *dom = domain && strcmp(domain, "ai.onnx") != 0 ? domain : "";
    ni = hidp__graph_add_node(r->g, name, op_type, dom, in, n_in, out, n_out);
    if (ni < 0) {
        rc = oom(r, what);
        goto done;
    }
    /* Third pass: the attributes, now that the node exists to hold them. */
    int k = 0;
    walk = c;
    while (!rc && hidp__pb_more(&walk)) {
        hidp__pb s;
        if ((rc = hidp__pb_tag(&walk, &f, &w)) ||
            (rc = f == 5 ? hidp__pb_len(&walk, &s) : hidp__pb_skip(&walk, w)))
            rc = pbfail(r, rc, what);
        else if (f == 5)
            rc = read_attr(r, s, ni, k++);
    }
done:
    free(name);
    free(op_type);
    free(domain);
    free(in);
    free(out);
    return rc;
}

/* A ValueInfoProto: name, element type (0 if absent) and shape (ndim -1 if absent). */
typedef struct vinfo {
    char *name;
    int64_t elem;
    int not_tensor;
    hidp__shape shape;
} vinfo;

static int read_shape(hidp__pb c, hidp__shape *shape, int64_t *bad_dim)
{
    uint32_t f;
    int w, rc = 0;
    shape->ndim = 0;
    while (!rc && hidp__pb_more(&c)) {
        hidp__pb dim;
        if ((rc = hidp__pb_tag(&c, &f, &w)))
            break;
        if (f != 1) {
            rc = hidp__pb_skip(&c, w);
            continue;
        }
        if ((rc = hidp__pb_get_msg(&c, w, &dim)))
            break;
        int64_t d = -1; /* dim_param or nothing: dynamic */
        while (!rc && hidp__pb_more(&dim)) {
            if (!(rc = hidp__pb_tag(&dim, &f, &w)))
                rc = f == 1 ? hidp__pb_get_int(&dim, w, &d) : hidp__pb_skip(&dim, w);
            if (!rc && f == 1 && d < 0)
                *bad_dim = d;
        }
        if (shape->ndim < HIDP_MAX_DIMS)
            shape->d[shape->ndim] = d;
        shape->ndim++; /* may pass HIDP_MAX_DIMS: the caller refuses it */
    }
    return rc;
}

static int read_vinfo(hidp__pb c, vinfo *vi, int64_t *bad_dim)
{
    uint32_t f;
    int w, rc = 0;
    while (!rc && hidp__pb_more(&c)) {
        hidp__pb type, tt;
        if ((rc = hidp__pb_tag(&c, &f, &w)))
            break;
        if (f == 1) {
            rc = hidp__pb_get_string(&c, w, &vi->name);
            continue;
        }
        if (f != 2) {
            rc = hidp__pb_skip(&c, w);
            continue;
        }
        if ((rc = hidp__pb_get_msg(&c, w, &type)))
            break;
        while (!rc && hidp__pb_more(&type)) {
            if ((rc = hidp__pb_tag(&type, &f, &w)))
                break;
            if (f != 1) {
                /* sequence, map, optional, sparse: not a plain tensor */
                vi->not_tensor |= f == 4 || f == 5 || f == 8 || f == 9;
                rc = hidp__pb_skip(&type, w);
                continue;
            }
            if ((rc = hidp__pb_get_msg(&type, w, &tt)))
                break;
            while (!rc && hidp__pb_more(&tt)) {
                hidp__pb sh;
                if ((rc = hidp__pb_tag(&tt, &f, &w)))
                    break;
                if (f == 1)
                    rc = hidp__pb_get_int(&tt, w, &vi->elem);
                else if (f != 2)
                    rc = hidp__pb_skip(&tt, w);
                else if (!(rc = hidp__pb_get_msg(&tt, w, &sh)))
                    rc = read_shape(sh, &vi->shape, bad_dim);
            }
        }
    }
    return rc;
}

/* Reads graph input or output #index; *v gets its value index, or -1 for an input that is an
 * initializer (a constant, not a runtime input). */
static int read_io(rd *r, hidp__pb c, int is_input, int index, int *v)
{
    char what[200];
    label(what, sizeof what, is_input ? "graph input" : "graph output", c, 1, index);
    vinfo vi;
    memset(&vi, 0, sizeof vi);
    vi.shape.ndim = -1;
    int64_t bad_dim = 0;
    int rc = read_vinfo(c, &vi, &bad_dim);
    if (rc) {
        rc = pbfail(r, rc, what);
        goto done;
    }
    if (!vi.name || !vi.name[0]) {
        rc = failf(r, HIDP_EFORMAT, "%s: has no name", what);
        goto done;
    }
    *v = hidp__graph_find(r->g, vi.name);
    if (is_input && *v >= 0 && (r->g->vals[*v].flags & HIDP__VAL_CONST)) {
        *v = -1;
        goto done;
    }
    if (bad_dim < 0) {
        rc = failf(r, HIDP_EFORMAT, "%s: negative dim %lld", what, (long long)bad_dim);
        goto done;
    }
    if (is_input && vi.not_tensor) {
        rc = failf(r, HIDP_EUNSUPPORTED, "input '%s' is not a tensor", vi.name);
        goto done;
    }
    if (is_input && vi.elem != 0 && vi.elem != 1) {
        rc = failf(r, HIDP_EUNSUPPORTED, "input '%s' has type %s; hidp takes float32 inputs",
                   vi.name, dtype_name(vi.elem));
        goto done;
    }
    if (is_input && vi.shape.ndim > HIDP_MAX_DIMS) {
        rc = failf(r, HIDP_EUNSUPPORTED, "input '%s' has %d dims; hidp handles at most %d",
                   vi.name, vi.shape.ndim, HIDP_MAX_DIMS);
        goto done;
    }
    if (*v < 0 && (*v = hidp__graph_value(r->g, vi.name)) < 0) {
        rc = oom(r, what);
        goto done;
    }
    hidp__value *val = &r->g->vals[*v];
    val->flags |= is_input ? HIDP__VAL_INPUT : HIDP__VAL_OUTPUT;
    /* An input without a shape in the file gets rank 0; the caller binds its shape. */
    if (is_input)
        val->decl = hidp__shape_make(vi.shape.ndim < 0 ? 0 : vi.shape.ndim, vi.shape.d);
done:
    free(vi.name);
    return rc;
}

static void add_index(int *list, int *n, int v)
{
    for (int i = 0; i < *n; i++)
        if (list[i] == v)
            return;
    list[(*n)++] = v;
}

static int read_graph(rd *r, hidp__pb c)
{
    uint32_t f;
    int w, rc = 0, counts[16] = {0};
    hidp__pb walk = c, s;
    /* Pass 0: the structure of every field, and how many of each. */
    while (!rc && hidp__pb_more(&walk)) {
        if (!(rc = hidp__pb_tag(&walk, &f, &w)))
            rc = hidp__pb_skip(&walk, w);
        if (!rc && (f == 1 || f == 5 || f == 11 || f == 12 || f == 15))
            rc = hidp__pb_want(w, HIDP__PB_LEN);
        if (!rc && f < 16)
            counts[f]++;
    }
    if (rc)
        return pbfail(r, rc, "graph");
    if (counts[15])
        return failf(r, HIDP_EUNSUPPORTED, "graph: sparse initializers not supported");
    hidp__graph *g = r->g;
    g->inputs = malloc((size_t)(counts[11] + 1) * sizeof *g->inputs);
    g->outputs = malloc((size_t)(counts[12] + 1) * sizeof *g->outputs);
    if (!g->inputs || !g->outputs)
        return oom(r, "graph");
    static const uint32_t order[] = {5, 11, 1, 12};
    for (int pass = 0; pass < 4 && !rc; pass++) {
        int k = 0;
        walk = c;
        while (!rc && hidp__pb_more(&walk)) {
            int v = -1;
            if ((rc = hidp__pb_tag(&walk, &f, &w)))
                break;
            if (f != order[pass]) {
                rc = hidp__pb_skip(&walk, w);
                continue;
            }
            if ((rc = hidp__pb_len(&walk, &s)))
                break;
            int frc = f == 5 ? read_initializer(r, s, k++)
                    : f == 1 ? read_node(r, s, k++) : read_io(r, s, f == 11, k++, &v);
            if (frc)
                return frc;
            if ((f == 11 || f == 12) && v >= 0)
                add_index(f == 11 ? g->inputs : g->outputs,
                          f == 11 ? &g->n_inputs : &g->n_outputs, v);
        }
    }
    /* pass 0 checked the structure, so the walks above cannot fail on it */
    return rc ? pbfail(r, rc, "graph") : 0;
}

static int read_opset(hidp__pb c, int *is_default, int64_t *version)
{
    uint32_t f;
    int w, rc = 0;
    char *domain = NULL;
    *version = 0;
    while (!rc && hidp__pb_more(&c)) {
        if (!(rc = hidp__pb_tag(&c, &f, &w)))
            rc = f == 1 ? hidp__pb_get_string(&c, w, &domain)
               : f == 2 ? hidp__pb_get_int(&c, w, version) : hidp__pb_skip(&c, w);
    }
    *is_default = !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
    free(domain);
    return rc;
}

static int read_model(const void *data, size_t size, const char *source_name, int release,
                      hidp__graph *g, hidp__err *err)
{
    rd r = {source_name ? source_name : "<memory>", g, err, release};
    if (size == 0)
        return hidp__fail(err, HIDP_EFORMAT, "'%s' is not an ONNX model (empty file)", r.src);
    if (size > HIDP__ONNX_MAX_BYTES)
        return hidp__fail(err, HIDP_EFORMAT, "%s: larger than 2 GiB, the protobuf limit", r.src);
    if (size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0)
        return hidp__fail(err, HIDP_EFORMAT, "'%s' is not an ONNX model (it is a NumPy .npy file)",
                          r.src);
    hidp__pb c = hidp__pb_make(data, size), gc = {0};
    int seen = 0, has_graph = 0, has_opset = 0, rc = 0;
    int64_t opset = 0;
    while (hidp__pb_more(&c)) {
        const uint8_t *at = c.p;
        uint32_t f;
        int w;
        int64_t v;
        if (!(rc = hidp__pb_tag(&c, &f, &w))) {
            if (f == 1) {
                if (!(rc = hidp__pb_get_int(&c, w, &v)))
                    seen |= v > 0 && v < 100; /* a plausible ir_version */
            } else if (f == 7 || f == 8) {
                hidp__pb s;
                if (!(rc = hidp__pb_get_msg(&c, w, &s))) {
                    int dflt;
                    if (f == 7) {
                        gc = s;
                        has_graph = 1;
                    } else if (!(rc = read_opset(s, &dflt, &v)) && dflt) {
                        opset = v;
                        has_opset = 1;
                    }
                }
            } else {
                rc = hidp__pb_skip(&c, w);
            }
        }
        if (rc && !seen)
            return hidp__fail(err, HIDP_EFORMAT, "'%s' is not an ONNX model (%s at byte %zu)",
                              r.src, hidp__pb_strerror(rc), (size_t)(at - (const uint8_t *)data));
        if (rc)
            return failf(&r, HIDP_EFORMAT, "truncated or corrupted model: %s at byte %zu",
                         hidp__pb_strerror(rc), (size_t)(at - (const uint8_t *)data));
    }
    if (!has_graph)
        return seen ? failf(&r, HIDP_EFORMAT, "model has no graph")
                    : hidp__fail(err, HIDP_EFORMAT, "'%s' is not an ONNX model (no graph)", r.src);
    if (!has_opset)
        return failf(&r, HIDP_EFORMAT, "model has no opset_import for the default domain");
    if (opset < HIDP__OPSET_MIN || opset > HIDP__OPSET_MAX)
        return failf(&r, HIDP_EUNSUPPORTED, "opset %lld not supported (hidp reads opsets %d to %d)",
                     (long long)opset, HIDP__OPSET_MIN, HIDP__OPSET_MAX);
    g->opset = opset;
    return read_graph(&r, gc);
}

int hidp__onnx_read(const void *data, size_t size, const char *source_name, hidp__graph *g,
                    hidp__err *err)
{
    return read_model(data, size, source_name, 0, g, err);
}

int hidp__onnx_read_file(const char *path, hidp__graph *g, hidp__err *err)
{
    const void *mapped = NULL;
    void *data = NULL;
    size_t size;
    int rc = hidp__map_file(path, HIDP__ONNX_MAX_BYTES, &mapped, &size, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        rc = read_model(mapped, size, path, 1, g, err);
        hidp__unmap_file(mapped, size);
        return rc;
    }
    if ((rc = hidp__read_file(path, HIDP__ONNX_MAX_BYTES, &data, &size, err)) != 0)
        return rc;
    rc = read_model(data, size, path, 0, g, err);
    free(data);
    return rc;
}
