/*
 * reshape.c - the ops that change only the shape: Flatten, Reshape, Squeeze, Unsqueeze.
 *
 * The data keeps its order, so a slice of the output is the same flat ranges of the input:
 * every kernel here is a copy of those ranges (skipped when the planner let the output alias
 * the input).
 */
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

/* Sets output 0 to shape `out` (same count as input 0, checked by the callers). */
static int set_out(hidp__graph *g, hidp__node *n, const hidp__shape *out)
{
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = *out;
    y->dtype = HIDP__DT_F32;
    n->flops = 0;
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

static int common_checks(const hidp__graph *g, const hidp__node *n, int max_in, hidp__err *err)
{
    int rc = hidp__check_inputs(g, n, 1, max_in, err);
    return rc ? rc : hidp__check_f32(g, n, 0, err);
}

/* ---- Flatten ---- */

static int flatten_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    int rc = common_checks(g, n, 1, err);
    if (rc)
        return rc;
    const hidp__shape *xs = &hidp__in(g, n, 0)->shape;
    int64_t axis = hidp__attr_int(n, "axis", 1);
    if (axis < 0)
        axis += xs->ndim;
    if (axis < 0 || axis > xs->ndim)
        return hidp__fail(err, HIDP_ESHAPE, "Flatten '%s': axis %lld is out of range for rank %d",
                          n->name, (long long)hidp__attr_int(n, "axis", 1), xs->ndim);
    int64_t d[2] = {1, 1};
    for (int k = 0; k < xs->ndim; k++)
        d[k >= axis] *= xs->d[k];
    hidp__shape out = hidp__shape_make(2, d);
    return set_out(g, n, &out);
}

/* ---- Reshape ---- */

static int reshape_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    int64_t want[HIDP_MAX_DIMS];
    int rc = common_checks(g, n, 2, err);
    if (rc)
        return rc;
    if (!hidp__in(g, n, 1))
        return hidp__fail(err, HIDP_EFORMAT, "Reshape '%s': input 1 (shape) is missing", n->name);
    int r = hidp__const_ints(g, n, 1, want, HIDP_MAX_DIMS, err);
    if (r < 0)
        return r;
    const hidp__value *x = hidp__in(g, n, 0);
    int allowzero = hidp__attr_int(n, "allowzero", 0) != 0;
    int64_t count = hidp__shape_count(&x->shape), known = 1;
    int infer = -1;
    hidp__shape out = hidp__shape_make(r, want);
    for (int k = 0; k < r; k++) {
        if (want[k] == 0 && !allowzero) {
            if (k >= x->shape.ndim)
                return hidp__fail(
                    err, HIDP_ESHAPE,
                    "Reshape '%s': shape[%d] is 0 (copy) but the input %s has rank %d", n->name, k,
                    hidp__fmt_shape(x, sx, sizeof sx), x->shape.ndim);
            out.d[k] = x->shape.d[k];
        } else if (want[k] == -1) {
            if (infer >= 0)
                return hidp__fail(err, HIDP_ESHAPE, "Reshape '%s': shape has more than one -1",
                                  n->name);
            infer = k;
            continue;
        } else if (want[k] < 0) {
            return hidp__fail(err, HIDP_ESHAPE, "Reshape '%s': shape[%d] is %lld", n->name, k,
                              (long long)want[k]);
        }
        known *= out.d[k];
    }
    if (infer >= 0) {
        if (known == 0 || count % known != 0)
            return hidp__fail(err, HIDP_ESHAPE,
                              "Reshape '%s': cannot infer the -1 dim of a shape with %lld known "
                              "elements from input %s",
                              n->name, (long long)known, hidp__fmt_shape(x, sx, sizeof sx));
        out.d[infer] = count / known;
        known *= out.d[infer];
    }
    if (known != count) {
        char so[96];
        return hidp__fail(err, HIDP_ESHAPE,
                          "Reshape '%s': input %s has %lld elements, shape %s has %lld", n->name,
                          hidp__fmt_shape(x, sx, sizeof sx), (long long)count,
                          hidp__shape_format(&out, so, sizeof so), (long long)known);
    }
    return set_out(g, n, &out);
}

/* ---- Squeeze / Unsqueeze: axes from an attribute before opset 13, else from input 1 ---- */

/* Reads the axes (absent: returns 0 and *present = 0). */
static int read_axes(const hidp__graph *g, const hidp__node *n, int64_t *axes, int *present,
                     hidp__err *err)
{
    *present = 0;
    if (hidp__opset(g) < 13) {
        const int64_t *a;
        int cnt = hidp__attr_ints(n, "axes", &a);
        if (cnt < 0)
            return 0;
        if (cnt > HIDP_MAX_DIMS)
            return hidp__fail(err, HIDP_ESHAPE, "%s '%s': %d axes, at most %d", n->op_type, n->name,
                              cnt, HIDP_MAX_DIMS);
        memcpy(axes, a, (size_t)cnt * sizeof *a);
        *present = 1;
        return cnt;
    }
    if (!hidp__in(g, n, 1))
        return 0;
    *present = 1;
    return hidp__const_ints(g, n, 1, axes, HIDP_MAX_DIMS, err);
}

static int squeeze_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    int64_t axes[HIDP_MAX_DIMS];
    int present, rc = common_checks(g, n, 2, err);
    if (rc)
        return rc;
    int cnt = read_axes(g, n, axes, &present, err);
    if (cnt < 0)
        return cnt;
    const hidp__value *x = hidp__in(g, n, 0);
    int r = x->shape.ndim, drop[HIDP_MAX_DIMS] = {0};
    for (int i = 0; i < cnt; i++) {
        int a = hidp__norm_axis(axes[i], r);
        if (a < 0)
            return hidp__fail(err, HIDP_ESHAPE,
                              "Squeeze '%s': axis %lld is out of range for input %s", n->name,
                              (long long)axes[i], hidp__fmt_shape(x, sx, sizeof sx));
        if (x->shape.d[a] != 1)
            return hidp__fail(err, HIDP_ESHAPE, "Squeeze '%s': dim %d of input %s is not 1",
                              n->name, a, hidp__fmt_shape(x, sx, sizeof sx));
        drop[a] = 1;
    }
    if (!present || cnt == 0)
        for (int k = 0; k < r; k++)
            drop[k] = x->shape.d[k] == 1;
    hidp__shape out;
    memset(&out, 0, sizeof out);
    for (int k = 0; k < r; k++)
        if (!drop[k])
            out.d[out.ndim++] = x->shape.d[k];
    return set_out(g, n, &out);
}

static int unsqueeze_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    int64_t axes[HIDP_MAX_DIMS];
    int present, rc = common_checks(g, n, 2, err);
    if (rc)
        return rc;
    int cnt = read_axes(g, n, axes, &present, err);
    if (cnt < 0)
        return cnt;
    const hidp__value *x = hidp__in(g, n, 0);
    int r = x->shape.ndim + cnt, ins[HIDP_MAX_DIMS] = {0};
    if (!present || cnt == 0)
        return hidp__fail(err, HIDP_EFORMAT, "Unsqueeze '%s': axes are missing", n->name);
    if (r > HIDP_MAX_DIMS)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "Unsqueeze '%s': output rank %d is above %d",
                          n->name, r, HIDP_MAX_DIMS);
    for (int i = 0; i < cnt; i++) {
        int a = hidp__norm_axis(axes[i], r);
        if (a < 0 || ins[a])
            return hidp__fail(err, HIDP_ESHAPE,
                              "Unsqueeze '%s': axis %lld is out of range or repeated for input %s",
                              n->name, (long long)axes[i], hidp__fmt_shape(x, sx, sizeof sx));
        ins[a] = 1;
    }
    hidp__shape out;
    memset(&out, 0, sizeof out);
    out.ndim = r;
    for (int k = 0, j = 0; k < r; k++)
        out.d[k] = ins[k] ? 1 : x->shape.d[j++];
    return set_out(g, n, &out);
}

/* ---- kernels, shared by all four ---- */

static void copy_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    if (x == y)
        return;
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    if (s.c0 == 0 && s.c1 == v.c && s.h0 == 0 && s.h1 == v.h) {
        memcpy(y, x, (size_t)(v.n * v.c * v.h * v.w) * sizeof(float));
        return;
    }
    int64_t len = hidp__slice_run(v, s);
    for (int64_t ni = 0; ni < v.n; ni++)
        for (int64_t ci = s.c0; ci < s.c1; ci++) {
            int64_t off = hidp__plane_off(v, s, ni, ci);
            memcpy(y + off, x + off, (size_t)len * sizeof(float));
        }
}

/* The reference: each element by its output coordinates, read at the input's flat index. */
static void copy_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    for (int64_t in = 0; in < v.n; in++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    int64_t i = ((in * v.c + c) * v.h + h) * v.w + w;
                    y[i] = x[i];
                }
}

const hidp__op_def hidp__op_flatten = {"Flatten",    0,    NULL, flatten_reshape, copy_run,
                                       copy_run_ref, NULL, NULL};
const hidp__op_def hidp__op_reshape = {"Reshape",    0,    NULL, reshape_reshape, copy_run,
                                       copy_run_ref, NULL, NULL};
const hidp__op_def hidp__op_squeeze = {"Squeeze",    0,    NULL, squeeze_reshape, copy_run,
                                       copy_run_ref, NULL, NULL};
const hidp__op_def hidp__op_unsqueeze = {"Unsqueeze",  0,    NULL, unsqueeze_reshape, copy_run,
                                         copy_run_ref, NULL, NULL};
