/*
 * fold.c - prepare-time evaluation of nodes whose inputs are all known: the shape arithmetic
 * exporters write around Reshape, Expand, Resize, Pad (Shape -> Gather -> Unsqueeze -> Concat ->
 * Reshape from PyTorch, Shape -> Slice -> Cast -> Mul ... from paddle2onnx), on int64 and small
 * float constants.
 *
 * Tensors here are small, so the code favours one obvious loop per op over speed: elements are
 * moved by flat index through hidp__unravel. Float arithmetic is done in float, as the runtime
 * kernels would. A dtype combination not handled returns 0 so that bind can try the op itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "../ops/op.h"
#include "../ops/op_util.h"

/* Folded tensors larger than this (elements) are refused: a shape computation that large is a
 * corrupt or hostile file, not a model. */
#define FOLD_MAX_ELEMS ((int64_t)1 << 28)

/* Ops moving or generating elements; the element-wise ones are listed further down. */
static const char *const fold_ops[] = {
    "Shape", "Size", "Identity", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape",
    "Flatten", "Transpose", "Expand", "Tile", "ConstantOfShape", "Range", "ReduceSum",
    "ReduceProd", "ReduceMin", "ReduceMax", "ReduceMean"};

static int ew_code(const char *t);

int hidp__fold_known(const char *op_type)
{
    for (size_t i = 0; i < sizeof fold_ops / sizeof fold_ops[0]; i++)
        if (strcmp(fold_ops[i], op_type) == 0)
            return 1;
    return ew_code(op_type) >= 0;
}

typedef struct fctx {
    hidp__graph *g;
    hidp__node *n;
    hidp__err *err;
} fctx;

static size_t esize(int dtype)
{
    return dtype == HIDP__DT_I64 ? 8 : 4;
}

/* Float to int64 without undefined behaviour: NaN and out-of-range values give 0. */
static int64_t f2i(double v)
{
    return v == v && fabs(v) < 9.2e18 ? (int64_t)v : 0;
}

static int64_t get_i(const hidp__value *v, int64_t i)
{
    return v->dtype == HIDP__DT_I64 ? ((const int64_t *)v->data)[i]
                                    : f2i(((const float *)v->data)[i]);
}

static float get_f(const hidp__value *v, int64_t i)
{
    return v->dtype == HIDP__DT_I64 ? (float)((const int64_t *)v->data)[i]
                                    : ((const float *)v->data)[i];
}

static int bad(fctx *c, int code, const char *what)
{
    return hidp__fail(c->err, code, "%s '%s': %s", c->n->op_type, c->n->name, what);
}

/* Sets output 0 of the node to a constant owning data, marks the node dead; returns 1. */
static int finish(fctx *c, int dtype, const hidp__shape *s, void *data)
{
    hidp__graph_set_const(c->g, c->n->out[0], dtype, s, data);
    c->n->dead = 1;
    return 1;
}

/* Allocates the output buffer for shape s; NULL after recording the error. */
static void *alloc_out(fctx *c, int dtype, const hidp__shape *s)
{
    int64_t count = hidp__shape_count(s);
    if (count < 0 || count > FOLD_MAX_ELEMS) {
        bad(c, HIDP_ESHAPE, "folded result is too large or has a negative dim");
        return NULL;
    }
    void *p = calloc((size_t)(count ? count : 1), esize(dtype));
    if (!p)
        bad(c, HIDP_ENOMEM, "out of memory");
    return p;
}

/* Input i (NULL if omitted). */
static const hidp__value *in(fctx *c, int i)
{
    return hidp__in(c->g, c->n, i);
}

/* Integer list from input i (if present) or else attribute attr; count, -1 if neither,
 * or -2 on a bad input. */
static int int_list(fctx *c, int i, const char *attr, int64_t *out, int max)
{
    const hidp__value *v = in(c, i);
    if (v) {
        int64_t k = hidp__shape_count(&v->shape);
        if (k < 0 || k > max || v->shape.ndim > 1)
            return -2;
        for (int64_t j = 0; j < k; j++)
            out[j] = get_i(v, j);
        return (int)k;
    }
    const int64_t *a;
    int k = hidp__attr_ints(c->n, attr, &a);
    if (k < 0 || k > max)
        return k < 0 ? -1 : -2;
    memcpy(out, a, (size_t)k * sizeof *a);
    return k;
}

/* ---- shape-only ops ---- */

static int fold_shape(fctx *c)
{
    const hidp__shape *s = &in(c, 0)->shape;
    int64_t r = s->ndim;
    if (strcmp(c->n->op_type, "Size") == 0) {
        hidp__shape os = {0, {0}};
        int64_t *d = alloc_out(c, HIDP__DT_I64, &os);
        if (!d)
            return c->err->code;
        d[0] = hidp__shape_count(s);
        return finish(c, HIDP__DT_I64, &os, d);
    }
    int64_t start = hidp__attr_int(c->n, "start", 0), end = hidp__attr_int(c->n, "end", r);
    start = start < 0 ? start + r : start;
    end = end < 0 ? end + r : end;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < start ? start : end > r ? r : end;
    int64_t len = end - start;
    hidp__shape os = hidp__shape_make(1, &len);
    int64_t *d = alloc_out(c, HIDP__DT_I64, &os);
    if (!d)
        return c->err->code;
    for (int64_t i = 0; i < len; i++)
        d[i] = s->d[start + i];
    return finish(c, HIDP__DT_I64, &os, d);
}

/* Same data, new shape s (Identity, Reshape, Flatten, Squeeze, Unsqueeze). */
static int same_data(fctx *c, const hidp__shape *s)
{
    const hidp__value *x = in(c, 0);
    if (hidp__shape_count(s) != hidp__shape_count(&x->shape))
        return bad(c, HIDP_ESHAPE, "new shape does not have the input's element count");
    void *d = alloc_out(c, x->dtype, s);
    if (!d)
        return c->err->code;
    memcpy(d, x->data, (size_t)hidp__shape_count(s) * esize(x->dtype));
    return finish(c, x->dtype, s, d);
}

static int fold_reshape(fctx *c)
{
    const hidp__value *x = in(c, 0), *sv = in(c, 1);
    const char *t = c->n->op_type;
    hidp__shape s = x->shape;
    if (strcmp(t, "Reshape") == 0) {
        int64_t k = sv ? hidp__shape_count(&sv->shape) : -1, known = 1;
        if (!sv || sv->dtype != HIDP__DT_I64 || k < 0 || k > HIDP_MAX_DIMS)
            return bad(c, HIDP_ESHAPE, "shape input must be a 1-D int64 tensor");
        int infer = -1, allowzero = (int)hidp__attr_int(c->n, "allowzero", 0);
        s.ndim = (int)k;
        for (int i = 0; i < k; i++) {
            int64_t d = get_i(sv, i);
            if (d == 0 && !allowzero)
                d = i < x->shape.ndim ? x->shape.d[i] : 1;
            if (d == -1 && infer < 0)
                infer = i;
            else if (d < 0 || (d > 0 && known > FOLD_MAX_ELEMS / d))
                return bad(c, HIDP_ESHAPE, "shape has a negative or huge dim");
            else
                known *= d;
            s.d[i] = d;
        }
        if (infer >= 0)
            s.d[infer] = known ? hidp__shape_count(&x->shape) / known : 0;
    } else if (strcmp(t, "Flatten") == 0) {
        int r = x->shape.ndim;
        int64_t axis = hidp__attr_int(c->n, "axis", 1), a = 1;
        axis = axis < 0 ? axis + r : axis;
        if (axis < 0 || axis > r)
            return bad(c, HIDP_ESHAPE, "axis out of range");
        for (int i = 0; i < axis; i++)
            a *= x->shape.d[i];
        int64_t dims[2] = {a, a ? hidp__shape_count(&x->shape) / a : 0};
        s = hidp__shape_make(2, dims);
    } else if (strcmp(t, "Squeeze") == 0 || strcmp(t, "Unsqueeze") == 0) {
        int64_t axes[HIDP_MAX_DIMS];
        int na = int_list(c, 1, "axes", axes, HIDP_MAX_DIMS), un = t[0] == 'U';
        int r = x->shape.ndim, rout = un ? r + (na > 0 ? na : 0) : r;
        char mark[HIDP_MAX_DIMS * 2] = {0};
        if (na == -2 || (un && (na < 0 || rout > HIDP_MAX_DIMS)))
            return bad(c, HIDP_ESHAPE, "bad axes");
        for (int i = 0; i < na; i++) {
            int a = hidp__norm_axis(axes[i], rout);
            if (a < 0 || mark[a] || (!un && x->shape.d[a] != 1))
                return bad(c, HIDP_ESHAPE, "axis out of range, repeated or not of size 1");
            mark[a] = 1;
        }
        s.ndim = 0;
        for (int i = 0, j = 0; i < rout; i++) {
            if (un)
                s.d[s.ndim++] = mark[i] ? 1 : x->shape.d[j++];
            else if (!(na > 0 ? mark[i] : x->shape.d[i] == 1))
                s.d[s.ndim++] = x->shape.d[i];
        }
    }
    return same_data(c, &s);
}

/* ---- element moves ---- */

static int fold_gather(fctx *c)
{
    const hidp__value *x = in(c, 0), *ix = in(c, 1);
    int r = x->shape.ndim, a = hidp__norm_axis(hidp__attr_int(c->n, "axis", 0), r);
    if (a < 0 || ix->dtype != HIDP__DT_I64 || r + ix->shape.ndim - 1 > HIDP_MAX_DIMS)
        return bad(c, HIDP_ESHAPE, "bad axis or indices");
    hidp__shape s = {0, {0}};
    for (int i = 0; i < a; i++)
        s.d[s.ndim++] = x->shape.d[i];
    for (int i = 0; i < ix->shape.ndim; i++)
        s.d[s.ndim++] = ix->shape.d[i];
    for (int i = a + 1; i < r; i++)
        s.d[s.ndim++] = x->shape.d[i];
    int64_t outer = 1, inner = 1, dim = x->shape.d[a], k = hidp__shape_count(&ix->shape);
    for (int i = 0; i < a; i++)
        outer *= x->shape.d[i];
    for (int i = a + 1; i < r; i++)
        inner *= x->shape.d[i];
    size_t es = esize(x->dtype);
    char *d = alloc_out(c, x->dtype, &s);
    if (!d)
        return c->err->code;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < k; j++) {
            int64_t idx = get_i(ix, j);
            idx = idx < 0 ? idx + dim : idx;
            if (idx < 0 || idx >= dim) {
                free(d);
                return bad(c, HIDP_ESHAPE, "index out of range");
            }
            memcpy(d + ((o * k + j) * inner) * es,
                   (const char *)x->data + ((o * dim + idx) * inner) * es, (size_t)inner * es);
        }
    return finish(c, x->dtype, &s, d);
}

/* Fills an output of shape s from input 0 seen with shape xs: output coordinate k reads input
 * coordinate perm[k] = start[k] + coord * step[k] (modulo the input dim when wrap is set). */
static int gather_coords(fctx *c, const hidp__shape *xs, const hidp__shape *s, const int *perm,
                         const int64_t *start, const int64_t *step, int wrap)
{
    const hidp__value *x = in(c, 0);
    size_t es = esize(x->dtype);
    int64_t count = hidp__shape_count(s), coord[HIDP_MAX_DIMS], xc[HIDP_MAX_DIMS];
    char *d = alloc_out(c, x->dtype, s);
    if (!d)
        return c->err->code;
    for (int64_t i = 0; i < count; i++) {
        hidp__unravel(i, s, coord);
        for (int k = 0; k < s->ndim; k++) {
            int64_t v = start[k] + coord[k] * step[k];
            xc[perm[k]] = wrap ? v % xs->d[perm[k]] : v;
        }
        int64_t off = 0;
        for (int k = 0; k < xs->ndim; k++)
            off = off * xs->d[k] + xc[k];
        memcpy(d + i * es, (const char *)x->data + off * es, es);
    }
    return finish(c, x->dtype, s, d);
}

static int fold_slice(fctx *c)
{
    const hidp__value *x = in(c, 0);
    int r = x->shape.ndim, perm[HIDP_MAX_DIMS];
    int64_t st[HIDP_MAX_DIMS], en[HIDP_MAX_DIMS], ax[HIDP_MAX_DIMS], sp[HIDP_MAX_DIMS];
    int64_t start[HIDP_MAX_DIMS], step[HIDP_MAX_DIMS];
    int n1 = int_list(c, 1, "starts", st, HIDP_MAX_DIMS);
    int n2 = int_list(c, 2, "ends", en, HIDP_MAX_DIMS);
    int n3 = int_list(c, 3, "axes", ax, HIDP_MAX_DIMS);
    int n4 = in(c, 4) ? int_list(c, 4, "", sp, HIDP_MAX_DIMS) : -1;
    if (n1 < 0 || n2 != n1 || (n3 >= 0 && n3 != n1) || (n4 >= 0 && n4 != n1))
        return bad(c, HIDP_ESHAPE, "starts, ends, axes and steps do not match");
    hidp__shape s = x->shape;
    for (int i = 0; i < r; i++) {
        perm[i] = i;
        start[i] = 0;
        step[i] = 1;
    }
    for (int i = 0; i < n1; i++) {
        int a = hidp__norm_axis(n3 >= 0 ? ax[i] : i, r);
        int64_t dim = x->shape.d[a < 0 ? 0 : a], b = st[i], e = en[i], k = n4 >= 0 ? sp[i] : 1;
        if (a < 0 || k == 0 || k == INT64_MIN)
            return bad(c, HIDP_ESHAPE, "axis out of range or bad step");
        b = b < 0 ? b + dim : b;
        e = e < 0 ? e + dim : e;
        if (k > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
            s.d[a] = e > b ? (e - b - 1) / k + 1 : 0;
        } else {
            b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            s.d[a] = b > e ? (b - e - 1) / -k + 1 : 0;
        }
        start[a] = b;
        step[a] = k;
    }
    return gather_coords(c, &x->shape, &s, perm, start, step, 0);
}

static int fold_transpose(fctx *c)
{
    const hidp__value *x = in(c, 0);
    int r = x->shape.ndim, perm[HIDP_MAX_DIMS];
    int64_t p[HIDP_MAX_DIMS], zero[HIDP_MAX_DIMS] = {0}, one[HIDP_MAX_DIMS];
    int np = int_list(c, 99, "perm", p, HIDP_MAX_DIMS);
    hidp__shape s = x->shape;
    for (int i = 0; i < r; i++) {
        perm[i] = np >= 0 ? hidp__norm_axis(p[i], r) : r - 1 - i;
        one[i] = 1;
        if ((np >= 0 && np != r) || perm[i] < 0)
            return bad(c, HIDP_ESHAPE, "bad perm");
        s.d[i] = x->shape.d[perm[i]];
    }
    return gather_coords(c, &x->shape, &s, perm, zero, one, 0);
}

/* Expand (broadcast to a shape) and Tile (repeat): both read input coord = out coord mod dim. */
static int fold_expand_tile(fctx *c)
{
    const hidp__value *x = in(c, 0);
    int r = x->shape.ndim, perm[HIDP_MAX_DIMS];
    int64_t v[HIDP_MAX_DIMS], zero[HIDP_MAX_DIMS] = {0}, one[HIDP_MAX_DIMS];
    int k = int_list(c, 1, "", v, HIDP_MAX_DIMS);
    hidp__shape s;
    if (strcmp(c->n->op_type, "Tile") == 0) {
        if (k != r)
            return bad(c, HIDP_ESHAPE, "repeats must have one entry per dim");
        s = x->shape;
        for (int i = 0; i < r; i++) {
            if (v[i] < 0 || (v[i] > 0 && s.d[i] > FOLD_MAX_ELEMS / v[i]))
                return bad(c, HIDP_ESHAPE, "repeats are negative or huge");
            s.d[i] *= v[i];
        }
    } else {
        hidp__shape want = hidp__shape_make(k < 0 ? 0 : k, v);
        if (k < 0 || hidp__bcast_shape(&x->shape, &want, &s) != 0)
            return bad(c, HIDP_ESHAPE, "shape does not broadcast");
    }
    /* The input seen at the output's rank (leading 1s), which the copy loop walks. */
    hidp__shape xs = {s.ndim, {0}};
    for (int i = 0; i < s.ndim; i++) {
        int j = i - (s.ndim - r);
        xs.d[i] = j >= 0 ? x->shape.d[j] : 1;
        perm[i] = i;
        one[i] = 1;
    }
    return gather_coords(c, &xs, &s, perm, zero, one, 1);
}

static int fold_concat(fctx *c)
{
    const hidp__value *x0 = in(c, 0);
    int r = x0->shape.ndim, a = hidp__norm_axis(hidp__attr_int(c->n, "axis", 0), r);
    if (a < 0)
        return bad(c, HIDP_ESHAPE, "axis out of range");
    hidp__shape s = x0->shape;
    s.d[a] = 0;
    for (int i = 0; i < c->n->n_in; i++) {
        const hidp__value *x = in(c, i);
        if (!x)
            continue;
        if (x->dtype != x0->dtype)
            return 0;
        for (int k = 0; k < r; k++)
            if (x->shape.ndim != r || (k != a && x->shape.d[k] != s.d[k]))
                return bad(c, HIDP_ESHAPE, "inputs' shapes differ off the axis");
        s.d[a] += x->shape.d[a];
    }
    int64_t outer = 1, inner = 1, at = 0;
    for (int i = 0; i < a; i++)
        outer *= s.d[i];
    for (int i = a + 1; i < r; i++)
        inner *= s.d[i];
    size_t es = esize(x0->dtype);
    char *d = alloc_out(c, x0->dtype, &s);
    if (!d)
        return c->err->code;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < c->n->n_in; i++) {
            const hidp__value *x = in(c, i);
            if (!x)
                continue;
            size_t chunk = (size_t)(x->shape.d[a] * inner) * es;
            memcpy(d + at, (const char *)x->data + (size_t)o * chunk, chunk);
            at += (int64_t)chunk;
        }
    return finish(c, x0->dtype, &s, d);
}

/* ---- generators ---- */

static int fold_constant_of_shape(fctx *c)
{
    const hidp__value *sv = in(c, 0);
    int64_t k = hidp__shape_count(&sv->shape), dims[HIDP_MAX_DIMS];
    if (k < 0 || k > HIDP_MAX_DIMS || sv->dtype != HIDP__DT_I64)
        return bad(c, HIDP_ESHAPE, "shape input must be a 1-D int64 tensor");
    for (int i = 0; i < k; i++)
        dims[i] = get_i(sv, i);
    hidp__shape s = hidp__shape_make((int)k, dims);
    const hidp__attr *va = hidp__node_attr(c->n, "value");
    const hidp__value *v = va && va->tensor >= 0 ? &c->g->vals[va->tensor] : NULL;
    if (v && (!v->data || hidp__shape_count(&v->shape) < 1))
        return bad(c, HIDP_EFORMAT, "value attribute is empty");
    int dtype = v ? v->dtype : HIDP__DT_F32;
    void *d = alloc_out(c, dtype, &s);
    if (!d)
        return c->err->code;
    for (int64_t i = 0; v && i < hidp__shape_count(&s); i++) {
        if (dtype == HIDP__DT_I64)
            ((int64_t *)d)[i] = get_i(v, 0);
        else
            ((float *)d)[i] = get_f(v, 0);
    }
    return finish(c, dtype, &s, d);
}

static int fold_range(fctx *c)
{
    const hidp__value *a = in(c, 0), *b = in(c, 1), *dl = in(c, 2);
    int dtype = a->dtype;
    if (hidp__shape_count(&a->shape) < 1 || hidp__shape_count(&b->shape) < 1 ||
        hidp__shape_count(&dl->shape) < 1)
        return bad(c, HIDP_ESHAPE, "start, limit and delta must be scalars");
    double start = get_f(a, 0), limit = get_f(b, 0), delta = get_f(dl, 0);
    if (dtype == HIDP__DT_I64) {
        start = (double)get_i(a, 0);
        limit = (double)get_i(b, 0);
        delta = (double)get_i(dl, 0);
    }
    if (delta == 0)
        return bad(c, HIDP_ESHAPE, "delta is zero");
    double n = ceil((limit - start) / delta);
    int64_t count = n > 0 ? (n < (double)FOLD_MAX_ELEMS ? (int64_t)n : FOLD_MAX_ELEMS + 1) : 0;
    hidp__shape s = hidp__shape_make(1, &count);
    void *d = alloc_out(c, dtype, &s);
    if (!d)
        return c->err->code;
    for (int64_t i = 0; i < count; i++) {
        if (dtype == HIDP__DT_I64)
            ((int64_t *)d)[i] =
                (int64_t)((uint64_t)get_i(a, 0) + (uint64_t)i * (uint64_t)get_i(dl, 0));
        else
            ((float *)d)[i] = (float)(start + (double)i * delta);
    }
    return finish(c, dtype, &s, d);
}

/* ---- element-wise ---- */

/* Element-wise ops, decoded once per node. Integer arithmetic wraps (unsigned) instead of
 * overflowing: a hostile file must not reach undefined behaviour. */
enum { E_ADD, E_SUB, E_MUL, E_DIV, E_MOD, E_MIN, E_MAX, E_EQ, E_LT, E_GT, E_LE, E_GE, E_AND,
       E_OR, E_WHERE, U_NEG, U_ABS, U_NOT, U_FLOOR, U_CEIL, U_ROUND, U_SQRT, U_CAST, E_COUNT };
static const char *const ew_names[E_COUNT] = {
    "Add", "Sub", "Mul", "Div", "Mod", "Min", "Max", "Equal", "Less", "Greater", "LessOrEqual",
    "GreaterOrEqual", "And", "Or", "Where", "Neg", "Abs", "Not", "Floor", "Ceil", "Round",
    "Sqrt", "Cast"};

static int ew_code(const char *t)
{
    for (int i = 0; i < E_COUNT; i++)
        if (strcmp(ew_names[i], t) == 0)
            return i;
    return -1;
}

/* Comparisons and logic, for ints and floats alike (ints compare exactly below 2^53, far
 * beyond any shape). */
static int compare(int op, double a, double b)
{
    switch (op) {
    case E_EQ: return a == b;
    case E_LT: return a < b;
    case E_GT: return a > b;
    case E_LE: return a <= b;
    case E_GE: return a >= b;
    case E_AND: return a != 0 && b != 0;
    }
    return a != 0 || b != 0;
}

/* One element of an arithmetic op on ints; *ok = 0 where the result is undefined. */
static int64_t ibin(int op, int64_t a, int64_t b, int fmod_, int *ok)
{
    switch (op) {
    case E_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
    case E_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
    case E_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
    case E_MIN: return a < b ? a : b;
    case E_MAX: return a > b ? a : b;
    }
    if (b == 0 || (a == INT64_MIN && b == -1)) {
        *ok = 0;
        return 0;
    }
    if (op == E_DIV)
        return a / b; /* truncation, as ONNX Runtime */
    int64_t m = a % b;
    return fmod_ || m == 0 || (m < 0) == (b < 0) ? m : m + b; /* Mod: sign of the divisor */
}

static float fbin(int op, float a, float b, int fmod_)
{
    switch (op) {
    case E_ADD: return a + b;
    case E_SUB: return a - b;
    case E_MUL: return a * b;
    case E_DIV: return a / b;
    case E_MIN: return a < b ? a : b;
    case E_MAX: return a > b ? a : b;
    }
    float m = fmodf(a, b);
    return fmod_ || m == 0 || (m < 0) == (b < 0) ? m : m + b;
}

/* Binary ops and Where (cond, x, y), with numpy broadcasting. */
static int fold_binary(fctx *c, int op)
{
    int where = op == E_WHERE, nin = where ? 3 : 2;
    const hidp__value *v[3] = {in(c, 0), in(c, 1), where ? in(c, 2) : NULL};
    if (c->n->n_in != nin || !v[0] || !v[1] || (where && !v[2]))
        return 0; /* variadic Min/Max with 3+ inputs: left to an op, if any */
    /* Where works in the dtype of x and y; the rest in float unless both are ints. */
    const hidp__value *a = where ? v[1] : v[0], *b = where ? v[2] : v[1];
    int ints = a->dtype == HIDP__DT_I64 && b->dtype == HIDP__DT_I64;
    int odt = ints || (op >= E_EQ && op <= E_OR) ? HIDP__DT_I64 : HIDP__DT_F32;
    if (where && a->dtype != b->dtype)
        return 0;
    hidp__shape s = v[0]->shape, t2;
    for (int i = 1; i < nin; i++) {
        if (hidp__bcast_shape(&s, &v[i]->shape, &t2) != 0)
            return bad(c, HIDP_ESHAPE, "input shapes do not broadcast");
        s = t2;
    }
    int64_t st[3][HIDP_MAX_DIMS], coord[HIDP_MAX_DIMS];
    for (int i = 0; i < nin; i++)
        hidp__bcast_strides(&v[i]->shape, &s, st[i]);
    void *d = alloc_out(c, odt, &s);
    if (!d)
        return c->err->code;
    int fmod_ = (int)hidp__attr_int(c->n, "fmod", 0), ok = 1;
    int64_t count = hidp__shape_count(&s), *di = d;
    float *df = d;
    for (int64_t i = 0; i < count; i++) {
        int64_t off[3] = {0, 0, 0};
        hidp__unravel(i, &s, coord);
        for (int k = 0; k < s.ndim; k++)
            for (int j = 0; j < nin; j++)
                off[j] += coord[k] * st[j][k];
        int64_t ai = where ? off[1] : off[0], bi = where ? off[2] : off[1];
        int pick_a = where && get_i(v[0], off[0]) != 0;
        if (where && ints)
            di[i] = pick_a ? get_i(a, ai) : get_i(b, bi);
        else if (where)
            df[i] = pick_a ? get_f(a, ai) : get_f(b, bi);
        else if (op >= E_EQ)
            di[i] = ints ? compare(op, (double)get_i(a, ai), (double)get_i(b, bi))
                         : compare(op, get_f(a, ai), get_f(b, bi));
        else if (ints)
            di[i] = ibin(op, get_i(a, ai), get_i(b, bi), fmod_, &ok);
        else
            df[i] = fbin(op, get_f(a, ai), get_f(b, bi), fmod_);
    }
    if (!ok) {
        free(d);
        return bad(c, HIDP_ESHAPE, "integer division by zero or overflow");
    }
    return finish(c, odt, &s, d);
}

static float funary(int op, float a)
{
    switch (op) {
    case U_NEG: return -a;
    case U_ABS: return fabsf(a);
    case U_NOT: return a == 0;
    case U_FLOOR: return floorf(a);
    case U_CEIL: return ceilf(a);
    case U_ROUND: return nearbyintf(a); /* half to even, as ONNX says */
    case U_SQRT: return sqrtf(a);
    }
    return a;
}

/* Unary ops and Cast. Cast: float, float16, double and bfloat16 become fp32; every integer type
 * and bool int64 (strings cannot be folded). */
static int fold_unary(fctx *c, int op)
{
    const hidp__value *x = in(c, 0);
    int64_t count = hidp__shape_count(&x->shape), to = hidp__attr_int(c->n, "to", 1);
    int to_bool = op == U_CAST && to == 9, ints = x->dtype == HIDP__DT_I64;
    int odt = op != U_CAST ? x->dtype
                           : to == 1 || to == 10 || to == 11 || to == 16 ? HIDP__DT_F32
                                                                         : HIDP__DT_I64;
    if ((op == U_CAST && to == 8) || (ints && op == U_SQRT))
        return 0;
    void *d = alloc_out(c, odt, &x->shape);
    if (!d)
        return c->err->code;
    for (int64_t i = 0; i < count; i++) {
        int64_t r = 0;
        float f = 0;
        if (ints) {
            int64_t a = get_i(x, i);
            r = op == U_NEG || (op == U_ABS && a < 0) ? (int64_t)(0 - (uint64_t)a)
                : op == U_NOT ? a == 0
                : to_bool ? a != 0
                : a;
            f = (float)r;
        } else {
            float a = get_f(x, i);
            f = funary(op, a);
            r = to_bool ? a != 0 : f2i(f);
        }
        if (odt == HIDP__DT_I64)
            ((int64_t *)d)[i] = r;
        else
            ((float *)d)[i] = f;
    }
    return finish(c, odt, &x->shape, d);
}

enum { R_SUM, R_PROD, R_MIN, R_MAX, R_MEAN };

static int fold_reduce(fctx *c)
{
    static const char *const names[] = {"Sum", "Prod", "Min", "Max", "Mean"};
    const hidp__value *x = in(c, 0);
    int r = x->shape.ndim, keep = (int)hidp__attr_int(c->n, "keepdims", 1), op = 0;
    while (op < R_MEAN && strcmp(c->n->op_type + 6, names[op]) != 0)
        op++;
    int64_t axes[HIDP_MAX_DIMS], coord[HIDP_MAX_DIMS];
    int na = int_list(c, 1, "axes", axes, HIDP_MAX_DIMS);
    char mark[HIDP_MAX_DIMS] = {0};
    if (na == -2)
        return bad(c, HIDP_ESHAPE, "bad axes");
    if (na <= 0 && hidp__attr_int(c->n, "noop_with_empty_axes", 0))
        return same_data(c, &x->shape);
    for (int i = 0; i < r; i++)
        mark[i] = na <= 0;
    for (int i = 0; i < na; i++) {
        int a = hidp__norm_axis(axes[i], r);
        if (a < 0)
            return bad(c, HIDP_ESHAPE, "axis out of range");
        mark[a] = 1;
    }
    hidp__shape s = {0, {0}}, ks = x->shape;
    for (int i = 0; i < r; i++) {
        if (mark[i])
            ks.d[i] = 1;
        if (!mark[i] || keep)
            s.d[s.ndim++] = ks.d[i];
    }
    int64_t oc = hidp__shape_count(&ks), count = hidp__shape_count(&x->shape);
    double *acc = malloc((size_t)(oc > 0 ? oc : 1) * sizeof *acc);
    void *d = acc ? alloc_out(c, x->dtype, &s) : NULL;
    if (!d) {
        free(acc);
        return acc ? c->err->code : bad(c, HIDP_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < oc; i++)
        acc[i] = op == R_PROD ? 1 : op == R_MIN ? INFINITY : op == R_MAX ? -INFINITY : 0;
    for (int64_t i = 0; i < count; i++) {
        hidp__unravel(i, &x->shape, coord);
        int64_t o = 0;
        for (int k = 0; k < r; k++)
            o = o * ks.d[k] + (mark[k] ? 0 : coord[k]);
        double v = x->dtype == HIDP__DT_I64 ? (double)get_i(x, i) : get_f(x, i);
        acc[o] = op == R_PROD ? acc[o] * v
                 : op == R_MIN ? (v < acc[o] ? v : acc[o])
                 : op == R_MAX ? (v > acc[o] ? v : acc[o])
                 : acc[o] + v;
    }
    for (int64_t i = 0; i < oc; i++) {
        double v = op == R_MEAN && oc ? acc[i] / (double)(count / oc) : acc[i];
        if (x->dtype == HIDP__DT_I64)
            ((int64_t *)d)[i] = f2i(v);
        else
            ((float *)d)[i] = (float)v;
    }
    free(acc);
    return finish(c, x->dtype, &s, d);
}

int hidp__fold_node(hidp__graph *g, int node, hidp__err *err)
{
    fctx c = {g, &g->nodes[node], err};
    hidp__node *n = c.n;
    const char *t = n->op_type;
    if (n->n_out < 1 || n->out[0] < 0 || !hidp__fold_known(t))
        return 0;
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0)
            return 0;
    if (!strcmp(t, "Shape") || !strcmp(t, "Size"))
        return in(&c, 0) ? fold_shape(&c) : bad(&c, HIDP_EFORMAT, "input is missing");
    if (!strcmp(t, "Range") ? n->n_in < 3 || !in(&c, 1) || !in(&c, 2)
                            : n->n_in < 1 || !in(&c, 0))
        return bad(&c, HIDP_EFORMAT, "inputs are missing");
    for (int i = 0; i < n->n_in; i++) {
        const hidp__value *v = in(&c, i);
        if (v && (!(v->flags & HIDP__VAL_CONST) || (!v->data && hidp__shape_count(&v->shape))))
            return 0;
    }
    int op = ew_code(t);
    if (!strcmp(t, "Identity") || ((op == E_MIN || op == E_MAX) && n->n_in == 1))
        return same_data(&c, &in(&c, 0)->shape);
    if (!strcmp(t, "Reshape") || !strcmp(t, "Flatten") || !strcmp(t, "Squeeze") ||
        !strcmp(t, "Unsqueeze"))
        return fold_reshape(&c);
    if (!strcmp(t, "Gather"))
        return in(&c, 1) ? fold_gather(&c) : 0;
    if (!strcmp(t, "Slice"))
        return fold_slice(&c);
    if (!strcmp(t, "Transpose"))
        return fold_transpose(&c);
    if (!strcmp(t, "Expand") || !strcmp(t, "Tile"))
        return fold_expand_tile(&c);
    if (!strcmp(t, "Concat"))
        return fold_concat(&c);
    if (!strcmp(t, "ConstantOfShape"))
        return fold_constant_of_shape(&c);
    if (!strcmp(t, "Range"))
        return fold_range(&c);
    if (!strncmp(t, "Reduce", 6))
        return fold_reduce(&c);
    if (op >= 0 && op <= E_WHERE)
        return fold_binary(&c, op);
    return op >= 0 && n->n_in == 1 ? fold_unary(&c, op) : 0;
}
