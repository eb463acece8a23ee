/*
 * op_util.h - small helpers shared by the ops: integer division rounding either way, the
 * opset in effect, axis normalisation, reading constant integer inputs, numpy broadcasting and
 * walking the (n, c) planes of a slice. Everything is static inline so each op file takes only
 * what it uses.
 */
#ifndef HIDP_OP_UTIL_H
#define HIDP_OP_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

/* Integer division rounding down / up, for a positive divisor and any sign of a. */
static inline int64_t hidp__floordiv(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static inline int64_t hidp__ceildiv(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
static inline int64_t hidp__clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The default-domain opset of g. Graphs built by hand (tests) leave it 0: they get the newest
 * opset hidp implements. */
/* Replaces node n's params with a zeroed block of size bytes (parse may run again on a node);
 * NULL with a message naming the op and node when memory runs out. */
static inline void *hidp__params_new(hidp__node *n, size_t size, const char *op, hidp__err *err)
{
    void *p = calloc(1, size);
    if (!p) {
        hidp__fail(err, HIDP_ENOMEM, "%s '%s': out of memory", op, n->name);
        return NULL;
    }
    free(n->params);
    n->params = p;
    return p;
}

static inline int64_t hidp__opset(const hidp__graph *g)
{
    return g->opset > 0 ? g->opset : 17;
}

/* Shape of value v as "1x3x7x7" for messages (buf of at least 96 chars). */
static inline const char *hidp__fmt_shape(const hidp__value *v, char *buf, size_t len)
{
    return hidp__shape_format(&v->shape, buf, len);
}

/* Normalises a possibly negative axis against rank; returns -1 when out of [-rank, rank). */
static inline int hidp__norm_axis(int64_t axis, int rank)
{
    if (axis < 0)
        axis += rank;
    return axis < 0 || axis >= rank ? -1 : (int)axis;
}

/* Checks that node n has at least `need` inputs present (the first `need`) and at most `max`
 * inputs; fails with HIDP_EFORMAT naming op and node. */
static inline int hidp__check_inputs(const hidp__graph *g, const hidp__node *n, int need, int max,
                                     hidp__err *err)
{
    if (n->n_in < need || n->n_in > max || n->n_out < 1 || n->out[0] < 0)
        return hidp__fail(
            err, HIDP_EFORMAT,
            "%s '%s': has %d inputs and %d outputs, expected %d to %d inputs and an output",
            n->op_type, n->name, n->n_in, n->n_out, need, max);
    for (int i = 0; i < need; i++)
        if (!hidp__in(g, n, i))
            return hidp__fail(err, HIDP_EFORMAT, "%s '%s': input %d is missing", n->op_type,
                              n->name, i);
    return 0;
}

/* Input i must be a runtime fp32 tensor or an fp32 constant. */
static inline int hidp__check_f32(const hidp__graph *g, const hidp__node *n, int i, hidp__err *err)
{
    const hidp__value *v = hidp__in(g, n, i);
    if (v && v->dtype != HIDP__DT_F32)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': input %d ('%s') is not float32",
                          n->op_type, n->name, i, v->name);
    return 0;
}

/* Reads optional constant int64 input i of n into out[0..max): returns the element count, 0 if
 * the input is omitted (or empty), or a negative code if it is not a constant int64 tensor of at
 * most max elements. */
static inline int hidp__const_ints(const hidp__graph *g, const hidp__node *n, int i, int64_t *out,
                                   int max, hidp__err *err)
{
    const hidp__value *v = hidp__in(g, n, i);
    if (!v)
        return 0;
    if (!(v->flags & HIDP__VAL_CONST))
        return hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': input %d ('%s') must be a constant",
                          n->op_type, n->name, i, v->name);
    if (v->dtype != HIDP__DT_I64 || v->shape.ndim > 1)
        return hidp__fail(err, HIDP_ESHAPE, "%s '%s': input %d ('%s') must be a 1-D int64 tensor",
                          n->op_type, n->name, i, v->name);
    int64_t count = hidp__shape_count(&v->shape);
    if (count < 0 || count > max)
        return hidp__fail(err, HIDP_ESHAPE,
                          "%s '%s': input %d ('%s') has %lld elements, at most %d allowed",
                          n->op_type, n->name, i, v->name, (long long)count, max);
    if (count)
        memcpy(out, v->data, (size_t)count * sizeof(int64_t));
    return (int)count;
}

/* Numpy broadcasting of a against out (dims aligned to the right): the element stride of a along
 * each dim of out, 0 where a is broadcast. The caller checked compatibility. */
static inline void hidp__bcast_strides(const hidp__shape *a, const hidp__shape *out,
                                       int64_t *strides)
{
    int64_t st = 1;
    int off = out->ndim - a->ndim;
    for (int i = out->ndim - 1; i >= 0; i--) {
        int j = i - off;
        if (j < 0 || a->d[j] == 1) {
            strides[i] = 0;
        } else {
            strides[i] = st;
        }
        if (j >= 0)
            st *= a->d[j];
    }
}

/* The broadcast shape of a and b into *out; 0 on success, -1 if they are incompatible. */
static inline int hidp__bcast_shape(const hidp__shape *a, const hidp__shape *b, hidp__shape *out)
{
    int r = a->ndim > b->ndim ? a->ndim : b->ndim;
    memset(out, 0, sizeof *out);
    out->ndim = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return -1;
        out->d[i] = da == 1 ? db : da;
    }
    return 0;
}

/* The shape of rank >= 4 whose dims 0, 1, 2 and 3.. are the n, c, h and w dims of the view4 of
 * s (ranks 0-3 padded with 1s the way hidp__shape_view4 reads them: [C] -> [1, C, 1, 1]).
 * map[k] is the dim of s that dim k of *e comes from, or -1 for an inserted 1. */
static inline void hidp__expand4(const hidp__shape *s, hidp__shape *e, int *map)
{
    static const int pad[4][4] = {{-1, -1, -1, -1}, {-1, 0, -1, -1}, {0, 1, -1, -1}, {0, 1, 2, -1}};
    if (s->ndim >= 4) {
        *e = *s;
        for (int k = 0; k < s->ndim; k++)
            map[k] = k;
        return;
    }
    memset(e, 0, sizeof *e);
    e->ndim = 4;
    for (int k = 0; k < 4; k++) {
        map[k] = pad[s->ndim][k];
        e->d[k] = map[k] < 0 ? 1 : s->d[map[k]];
    }
}

/* The box of coordinates of a slice in the expanded shape e (see hidp__expand4): all of dims 0
 * and 3.., channels [c0, c1) of dim 1 and rows [h0, h1) of dim 2. Returns 0 if it is empty. */
static inline int hidp__slice_box(const hidp__shape *e, hidp__slice s, int64_t *lo, int64_t *hi)
{
    int nonempty = 1;
    for (int k = 0; k < e->ndim; k++) {
        lo[k] = 0;
        hi[k] = e->d[k];
    }
    lo[1] = s.c0;
    hi[1] = s.c1;
    lo[2] = s.h0;
    hi[2] = s.h1;
    for (int k = 0; k < e->ndim; k++)
        if (lo[k] >= hi[k])
            nonempty = 0;
    return nonempty;
}

/* Advances the coordinates cur over the box [lo, hi) of dims 0..nd-1 (last dim fastest);
 * returns 0 after the last one. With nd == 0 there is exactly one (empty) coordinate. */
static inline int hidp__box_next(int nd, const int64_t *lo, const int64_t *hi, int64_t *cur)
{
    for (int k = nd - 1; k >= 0; k--) {
        if (++cur[k] < hi[k])
            return 1;
        cur[k] = lo[k];
    }
    return 0;
}

/* Row-major element strides of shape s. */
static inline void hidp__strides(const hidp__shape *s, int64_t *st)
{
    int64_t acc = 1;
    for (int k = s->ndim - 1; k >= 0; k--) {
        st[k] = acc;
        acc *= s->d[k];
    }
}

/* Splits a flat index of an element in shape s into coordinates. */
static inline void hidp__unravel(int64_t idx, const hidp__shape *s, int64_t *coord)
{
    for (int i = s->ndim - 1; i >= 0; i--) {
        int64_t d = s->d[i] > 0 ? s->d[i] : 1;
        coord[i] = idx % d;
        idx /= d;
    }
}

/* Where slice s starts in the (n, c) plane of a tensor viewed as v (its row h0): the slice
 * holds hidp__slice_run(v, s) contiguous elements of each plane from there. */
static inline int64_t hidp__plane_off(hidp__view4 v, hidp__slice s, int64_t n, int64_t c)
{
    return ((n * v.c + c) * v.h + s.h0) * v.w;
}

static inline int64_t hidp__slice_run(hidp__view4 v, hidp__slice s)
{
    return (s.h1 - s.h0) * v.w;
}

#endif
