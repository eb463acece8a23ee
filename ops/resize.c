/*
 * resize.c - Resize of the H and W dims of an NCHW tensor: nearest and (bi)linear.
 *
 * Scales (opset 10: input 1; 11+: input 2) or sizes (11+: input 3) must be constants, with
 * scale 1 on N and C. Coordinates follow ONNX Runtime in float: an output index maps to an input
 * coordinate by coordinate_transformation_mode (opset 10: asymmetric), then to a pixel by
 * nearest_mode (opset 10: floor when upsampling, ceil when downsampling) or to two pixels and a
 * weight, clamped to the input. A dim with scale 1 maps identically. reshape tabulates the row
 * and column mappings; the kernel reads them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

enum { RS_NEAREST, RS_LINEAR };
enum { CT_HALF_PIXEL, CT_ASYMMETRIC, CT_ALIGN_CORNERS, CT_PYTORCH_HALF_PIXEL, CT_TF_HALF_PIXEL };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

/* One axis' mapping: output index i reads input i0[i] (and i1[i] with weight l[i] if linear). */
typedef struct rs_axis {
    int64_t in, out;
    float scale;
    int64_t *i0, *i1;
    float *l;
} rs_axis;

typedef struct rs_params {
    int mode, coord, nearest;
    rs_axis ax[2]; /* H, W */
} rs_params;

static void rs_axis_free(rs_axis *a)
{
    free(a->i0);
    free(a->i1);
    free(a->l);
    a->i0 = a->i1 = NULL;
    a->l = NULL;
}

static void rs_destroy(hidp__node *n)
{
    rs_params *p = n->params;
    if (p) {
        rs_axis_free(&p->ax[0]);
        rs_axis_free(&p->ax[1]);
        free(p);
    }
    n->params = NULL;
}

static int lookup(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int rs_parse(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    static const char *const modes[] = {"nearest", "linear"};
    static const char *const coords[] = {"half_pixel", "asymmetric", "align_corners",
                                         "pytorch_half_pixel", "tf_half_pixel_for_nn"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                           "ceil"};
    const char *mode = hidp__attr_string(n, "mode");
    const char *coord = hidp__attr_string(n, "coordinate_transformation_mode");
    const char *nearest = hidp__attr_string(n, "nearest_mode");
    int old = hidp__opset(g) < 11;
    int m = mode ? lookup(mode, modes, 2) : RS_NEAREST;
    int c = old || !coord ? (old ? CT_ASYMMETRIC : CT_HALF_PIXEL) : lookup(coord, coords, 5);
    int nm = old ? NM_SIMPLE : nearest ? lookup(nearest, nearests, 4) : NM_ROUND_PREFER_FLOOR;
    if (!old && coord && strcmp(coord, "tf_half_pixel_for_nearest") == 0)
        c = CT_TF_HALF_PIXEL;
    if (m < 0 || c < 0 || nm < 0)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "Resize '%s': %s '%s' is not supported", n->name,
                          m < 0   ? "mode"
                          : c < 0 ? "coordinate_transformation_mode"
                                  : "nearest_mode",
                          m < 0   ? mode
                          : c < 0 ? coord
                                  : nearest);
    const char *policy = hidp__attr_string(n, "keep_aspect_ratio_policy");
    if (hidp__attr_int(n, "antialias", 0) != 0 || hidp__node_attr(n, "axes") ||
        (policy && strcmp(policy, "stretch") != 0))
        return hidp__fail(err, HIDP_EUNSUPPORTED,
                          "Resize '%s': antialias, axes and keep_aspect_ratio_policy (opset 18) "
                          "are not supported",
                          n->name);
    rs_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "Resize '%s': out of memory", n->name);
    p->mode = m;
    p->coord = c;
    p->nearest = nm;
    if (n->params)
        rs_destroy(n);
    n->params = p;
    return 0;
}

/* Output coordinate x to input coordinate, as ONNX Runtime computes it (in float). */
static float rs_coord(int coord, float x, float scale, float len_out, float len_in)
{
    switch (coord) {
    case CT_ASYMMETRIC:
        return x / scale;
    case CT_ALIGN_CORNERS:
        return len_out == 1 ? 0.0f : x * (len_in - 1) / (len_out - 1);
    case CT_PYTORCH_HALF_PIXEL:
        return len_out > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case CT_TF_HALF_PIXEL:
        return (x + 0.5f) / scale;
    default:
        return (x + 0.5f) / scale - 0.5f;
    }
}

static int64_t rs_nearest(int mode, float x, int down)
{
    switch (mode) {
    case NM_ROUND_PREFER_CEIL:
        return (int64_t)roundf(x);
    case NM_FLOOR:
        return (int64_t)floorf(x);
    case NM_CEIL:
        return (int64_t)ceilf(x);
    case NM_SIMPLE:
        return down ? (int64_t)ceilf(x) : (int64_t)x;
    default:
        return x == (float)(int64_t)x + 0.5f ? (int64_t)floorf(x) : (int64_t)roundf(x);
    }
}

static int rs_axis_setup(const rs_params *p, rs_axis *a)
{
    size_t cnt = (size_t)(a->out ? a->out : 1);
    rs_axis_free(a);
    a->i0 = malloc(cnt * sizeof(int64_t));
    a->i1 = malloc(cnt * sizeof(int64_t));
    a->l = malloc(cnt * sizeof(float));
    if (!a->i0 || !a->i1 || !a->l)
        return -1;
    for (int64_t i = 0; i < a->out; i++) {
        float xo = a->scale == 1.0f
                       ? (float)i
                       : rs_coord(p->coord, (float)i, a->scale, (float)a->out, (float)a->in);
        if (p->mode == RS_NEAREST) {
            int64_t k = a->scale == 1.0f ? i : rs_nearest(p->nearest, xo, a->scale < 1.0f);
            k = k < 0 ? 0 : k >= a->in ? a->in - 1 : k;
            a->i0[i] = a->i1[i] = k;
            a->l[i] = 0.0f;
        } else {
            xo = xo < 0.0f ? 0.0f : xo > (float)(a->in - 1) ? (float)(a->in - 1) : xo;
            int64_t k = (int64_t)xo;
            k = k >= a->in ? a->in - 1 : k;
            a->i0[i] = k;
            a->i1[i] = k + 1 < a->in ? k + 1 : a->in - 1;
            a->l[i] = a->i1[i] == k ? 0.0f : xo - (float)k;
        }
    }
    return 0;
}

static int rs_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    rs_params *p = n->params;
    int old = hidp__opset(g) < 11;
    int rc = hidp__check_inputs(g, n, 1, old ? 2 : 4, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    if (x->shape.ndim != 4)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "Resize '%s': input %s is not 4-D (NCHW)",
                          n->name, hidp__fmt_shape(x, sx, sizeof sx));
    const hidp__value *vs = hidp__in(g, n, old ? 1 : 2), *vz = old ? NULL : hidp__in(g, n, 3);
    int64_t sizes[4];
    float scales[4];
    int nsizes = 0, nscales = 0;
    if (vz) {
        nsizes = hidp__const_ints(g, n, 3, sizes, 4, err);
        if (nsizes < 0)
            return nsizes;
    }
    if (vs && !(vs->flags & HIDP__VAL_CONST))
        return hidp__fail(err, HIDP_EUNSUPPORTED, "Resize '%s': scales ('%s') must be a constant",
                          n->name, vs->name);
    if (vs) {
        int64_t cnt = hidp__shape_count(&vs->shape);
        if (vs->dtype != HIDP__DT_F32 || (cnt != 0 && cnt != 4))
            return hidp__fail(err, HIDP_ESHAPE, "Resize '%s': scales must be 4 floats", n->name);
        nscales = (int)cnt;
        if (cnt)
            memcpy(scales, vs->data, sizeof scales);
    }
    if ((nsizes == 0) == (nscales == 0) || (nsizes != 0 && nsizes != 4))
        return hidp__fail(err, HIDP_ESHAPE, "Resize '%s': needs either 4 scales or 4 sizes",
                          n->name);
    hidp__shape out = x->shape;
    for (int k = 0; k < 4; k++) {
        float sc;
        if (nsizes) {
            out.d[k] = sizes[k];
            sc = x->shape.d[k] ? (float)sizes[k] / (float)x->shape.d[k] : 1.0f;
        } else {
            sc = scales[k];
            out.d[k] = (int64_t)(sc * (float)x->shape.d[k]);
        }
        if (!(sc > 0.0f) || out.d[k] < 0)
            return hidp__fail(err, HIDP_ESHAPE, "Resize '%s': scale %g for dim %d of input %s",
                              n->name, (double)sc, k, hidp__fmt_shape(x, sx, sizeof sx));
        if (k < 2 && (sc != 1.0f || out.d[k] != x->shape.d[k]))
            return hidp__fail(
                err, HIDP_EUNSUPPORTED,
                "Resize '%s': only H and W may be resized (dim %d of input %s has scale %g)",
                n->name, k, hidp__fmt_shape(x, sx, sizeof sx), (double)sc);
        if (k >= 2) {
            if (x->shape.d[k] == 0 && out.d[k] != 0)
                return hidp__fail(err, HIDP_ESHAPE, "Resize '%s': cannot resize empty dim %d",
                                  n->name, k);
            p->ax[k - 2].in = x->shape.d[k];
            p->ax[k - 2].out = out.d[k];
            p->ax[k - 2].scale = sc;
        }
    }
    if (rs_axis_setup(p, &p->ax[0]) || rs_axis_setup(p, &p->ax[1]))
        return hidp__fail(err, HIDP_ENOMEM, "Resize '%s': out of memory", n->name);
    hidp__value *y = hidp__out(g, n, 0);
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = (double)hidp__shape_count(&out) * (p->mode == RS_LINEAR ? 6 : 1);
    n->weights = 0;
    n->scratch = 0;
    return 0;
}

static void rs_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const rs_params *p = n->params;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    const hidp__shape *xs = &hidp__in(g, n, 0)->shape;
    const rs_axis *ah = &p->ax[0], *aw = &p->ax[1];
    int64_t ih = xs->d[2], iw = xs->d[3], oh = ah->out, ow = aw->out, nc = xs->d[1];
    for (int64_t b = 0; b < xs->d[0]; b++)
        for (int64_t c = s.c0; c < s.c1; c++) {
            const float *xp = x + (b * nc + c) * ih * iw;
            float *yp = y + (b * nc + c) * oh * ow;
            for (int64_t h = s.h0; h < s.h1; h++) {
                float *row = yp + h * ow;
                const float *r0 = xp + ah->i0[h] * iw;
                if (p->mode == RS_NEAREST) {
                    for (int64_t w = 0; w < ow; w++)
                        row[w] = r0[aw->i0[w]];
                    continue;
                }
                const float *r1 = xp + ah->i1[h] * iw;
                float ly = ah->l[h];
                for (int64_t w = 0; w < ow; w++) {
                    int64_t x0 = aw->i0[w], x1 = aw->i1[w];
                    float lx = aw->l[w];
                    float top = r0[x0] + (r0[x1] - r0[x0]) * lx;
                    float bot = r1[x0] + (r1[x1] - r1[x0]) * lx;
                    row[w] = top + (bot - top) * ly;
                }
            }
        }
}

/* The reference: each output pixel from the definitions, coordinates computed on the spot. */
static float ref_pick(const rs_params *p, const rs_axis *a, int64_t i, int64_t *k0, int64_t *k1)
{
    if (a->scale == 1.0f) {
        *k0 = *k1 = i;
        return 0.0f;
    }
    float xo = rs_coord(p->coord, (float)i, a->scale, (float)a->out, (float)a->in);
    if (p->mode == RS_NEAREST) {
        int64_t k = rs_nearest(p->nearest, xo, a->scale < 1.0f);
        *k0 = *k1 = k < 0 ? 0 : k > a->in - 1 ? a->in - 1 : k;
        return 0.0f;
    }
    float cl = fminf(fmaxf(xo, 0.0f), (float)(a->in - 1));
    *k0 = (int64_t)floorf(cl);
    *k1 = *k0 + 1 < a->in ? *k0 + 1 : *k0;
    return cl - (float)*k0;
}

static void rs_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const rs_params *p = n->params;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    const hidp__shape *xs = &hidp__in(g, n, 0)->shape;
    int64_t ih = xs->d[2], iw = xs->d[3], oh = p->ax[0].out, ow = p->ax[1].out, nc = xs->d[1];
    for (int64_t b = 0; b < xs->d[0]; b++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < ow; w++) {
                    int64_t y0, y1, x0, x1;
                    double ly = ref_pick(p, &p->ax[0], h, &y0, &y1);
                    double lx = ref_pick(p, &p->ax[1], w, &x0, &x1);
                    const float *xp = x + (b * nc + c) * ih * iw;
                    double v = (1 - ly) * ((1 - lx) * xp[y0 * iw + x0] + lx * xp[y0 * iw + x1]) +
                               ly * ((1 - lx) * xp[y1 * iw + x0] + lx * xp[y1 * iw + x1]);
                    y[((b * nc + c) * oh + h) * ow + w] = (float)v;
                }
}

const hidp__op_def hidp__op_resize = {"Resize", 0,          rs_parse,   rs_reshape,
                                      rs_run,   rs_run_ref, rs_destroy, NULL};
