/*
 * pool.c - MaxPool, AveragePool (2-D, NCHW) and GlobalAveragePool, GlobalMaxPool.
 *
 * Output sizes follow ONNX Runtime: floor((in + pads - dilated kernel) / stride) + 1, or ceil in
 * ceil_mode, where a last window that would start in the right padding is dropped (the PyTorch
 * rule). AveragePool divides by the window's elements inside the input (count_include_pad=0) or
 * inside the padded input (count_include_pad=1; with ceil_mode a window running past the right
 * pad counts only up to it). Elements outside the input never take part in a max.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "op_util.h"

enum { POOL_MAX, POOL_AVG, POOL_GLOBAL_AVG, POOL_GLOBAL_MAX };
enum { AP_NOTSET, AP_SAME_UPPER, AP_SAME_LOWER, AP_VALID };

typedef struct pool_params {
    int kind;
    int auto_pad, ceil_mode, include_pad;
    int64_t k[2], st[2], dil[2];
    int64_t pads[4];      /* top, left, bottom, right as written */
    int64_t pb[2], pe[2]; /* resolved begin / end pads per spatial dim (reshape) */
} pool_params;

/* Reads a 2-element int attribute (default dflt for both), failing if it has another size. */
static int two_ints(const hidp__node *n, const char *name, int64_t dflt, int64_t *out, int cnt_want,
                    hidp__err *err)
{
    const int64_t *a;
    int cnt = hidp__attr_ints(n, name, &a);
    if (cnt < 0) {
        for (int i = 0; i < cnt_want; i++)
            out[i] = dflt;
        return 0;
    }
    if (cnt != cnt_want)
        return hidp__fail(err, HIDP_EUNSUPPORTED,
                          "%s '%s': %s has %d values, expected %d (only 2-D pooling is supported)",
                          n->op_type, n->name, name, cnt, cnt_want);
    memcpy(out, a, (size_t)cnt * sizeof *a);
    return 0;
}

static int pool_parse_common(hidp__graph *g, hidp__node *n, int kind, hidp__err *err)
{
    (void)g;
    pool_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "%s '%s': out of memory", n->op_type, n->name);
    p->kind = kind;
    free(n->params);
    n->params = p;
    if (n->n_out > 1 && n->out[1] >= 0)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': the Indices output is not supported",
                          n->op_type, n->name);
    if (kind == POOL_GLOBAL_AVG || kind == POOL_GLOBAL_MAX)
        return 0;
    int rc;
    if (!hidp__node_attr(n, "kernel_shape"))
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': attribute kernel_shape is missing",
                          n->op_type, n->name);
    if ((rc = two_ints(n, "kernel_shape", 1, p->k, 2, err)) ||
        (rc = two_ints(n, "strides", 1, p->st, 2, err)) ||
        (rc = two_ints(n, "dilations", 1, p->dil, 2, err)) ||
        (rc = two_ints(n, "pads", 0, p->pads, 4, err)))
        return rc;
    for (int i = 0; i < 2; i++)
        if (p->k[i] < 1 || p->st[i] < 1 || p->dil[i] < 1 || p->pads[i] < 0 || p->pads[i + 2] < 0)
            return hidp__fail(
                err, HIDP_EFORMAT,
                "%s '%s': kernel, strides and dilations must be positive and pads not negative",
                n->op_type, n->name);
    if (kind == POOL_AVG && (p->dil[0] != 1 || p->dil[1] != 1))
        return hidp__fail(err, HIDP_EUNSUPPORTED, "AveragePool '%s': dilations are not supported",
                          n->name);
    p->ceil_mode = hidp__attr_int(n, "ceil_mode", 0) != 0;
    p->include_pad = hidp__attr_int(n, "count_include_pad", 0) != 0;
    const char *ap = hidp__attr_string(n, "auto_pad");
    if (!ap || strcmp(ap, "NOTSET") == 0)
        p->auto_pad = AP_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        p->auto_pad = AP_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        p->auto_pad = AP_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        p->auto_pad = AP_VALID;
    else
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': auto_pad '%s' is not valid", n->op_type,
                          n->name, ap);
    return 0;
}

static int parse_max(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    return pool_parse_common(g, n, POOL_MAX, err);
}
static int parse_avg(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    return pool_parse_common(g, n, POOL_AVG, err);
}
static int parse_gavg(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    return pool_parse_common(g, n, POOL_GLOBAL_AVG, err);
}
static int parse_gmax(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    return pool_parse_common(g, n, POOL_GLOBAL_MAX, err);
}

/* Output size of one spatial dim; sets the resolved pads. Returns -1 if no window fits. */
static int64_t pool_out_size(pool_params *p, int i, int64_t in)
{
    int64_t keff = (p->k[i] - 1) * p->dil[i] + 1, s = p->st[i];
    if (p->auto_pad == AP_SAME_UPPER || p->auto_pad == AP_SAME_LOWER) {
        int64_t out = hidp__ceildiv(in, s);
        int64_t total = (out - 1) * s + keff - in;
        total = total < 0 ? 0 : total;
        p->pb[i] = p->auto_pad == AP_SAME_UPPER ? total / 2 : total - total / 2;
        p->pe[i] = total - p->pb[i];
        return out;
    }
    p->pb[i] = p->auto_pad == AP_VALID ? 0 : p->pads[i];
    p->pe[i] = p->auto_pad == AP_VALID ? 0 : p->pads[i + 2];
    int64_t span = in + p->pb[i] + p->pe[i] - keff;
    if (span < 0)
        return -1;
    int64_t out = (p->ceil_mode ? hidp__ceildiv(span, s) : span / s) + 1;
    if (p->ceil_mode && (out - 1) * s >= in + p->pb[i])
        out--;
    return out;
}

/* MaxPool works row by row: the input rows under an output row are first maxed into one (unit
 * stride, vector max), and that row is then split by column phase (padded column j*sw + f at
 * phase f, position j; padding -FLT_MAX), so that every tap kx is a unit-stride run of one phase,
 * maxed into the output row 8 lanes at a time. (The strided scalar loop of pool_row ran
 * resnet18's 3x3/2 pool at 2.7 G elements/s; splitting every input row, then maxing all nine
 * taps of the window into the output row, took ResNet-50's 3x3/2 pool 0.58 ms on the Intel VM.) */
static int64_t phase_len(const pool_params *p, int64_t ow)
{
    const int64_t wp = (ow - 1) * p->st[1] + (p->k[1] - 1) * p->dil[1] + 1; /* padded columns */
    return hidp__ceildiv(wp, p->st[1]);
}

/* The maxed row (iw floats, rounded up to a cache line) and its phases. */
static size_t max_plane_scratch(const pool_params *p, int64_t iw, int64_t ow)
{
    return (size_t)((iw + 15) / 16 * 16 + p->st[1] * phase_len(p, ow));
}

static int pool_reshape(hidp__graph *g, hidp__node *n, hidp__err *err)
{
    char sx[96];
    pool_params *p = n->params;
    int rc = hidp__check_inputs(g, n, 1, 1, err);
    if (rc == 0)
        rc = hidp__check_f32(g, n, 0, err);
    if (rc)
        return rc;
    const hidp__value *x = hidp__in(g, n, 0);
    hidp__value *y = hidp__out(g, n, 0);
    hidp__shape out = x->shape;
    int global = p->kind == POOL_GLOBAL_AVG || p->kind == POOL_GLOBAL_MAX;
    if (global ? x->shape.ndim < 3 : x->shape.ndim != 4)
        return hidp__fail(err, global ? HIDP_ESHAPE : HIDP_EUNSUPPORTED,
                          "%s '%s': input %s must be %s", n->op_type, n->name,
                          hidp__fmt_shape(x, sx, sizeof sx),
                          global ? "at least 3-D" : "4-D (NCHW)");
    if (global) {
        for (int k = 2; k < out.ndim; k++)
            out.d[k] = 1;
    } else {
        for (int i = 0; i < 2; i++) {
            out.d[2 + i] = pool_out_size(p, i, x->shape.d[2 + i]);
            if (out.d[2 + i] < 1)
                return hidp__fail(err, HIDP_ESHAPE,
                                  "%s '%s': kernel %lldx%lld does not fit input %s with its pads",
                                  n->op_type, n->name, (long long)p->k[0], (long long)p->k[1],
                                  hidp__fmt_shape(x, sx, sizeof sx));
        }
    }
    y->shape = out;
    y->dtype = HIDP__DT_F32;
    n->flops = global ? (double)hidp__shape_count(&x->shape)
                      : (double)hidp__shape_count(&out) * (double)(p->k[0] * p->k[1]);
    n->weights = 0;
    n->scratch = p->kind == POOL_MAX ? max_plane_scratch(p, x->shape.d[3], out.d[3]) : 0;
    return 0;
}

/* Kernel rows [k0, k1) whose input index start + k * d lies in [0, len). */
static void valid_taps(int64_t start, int64_t d, int64_t k, int64_t len, int64_t *k0, int64_t *k1)
{
    *k0 = start < 0 ? hidp__ceildiv(-start, d) : 0;
    int64_t hi = len - start <= 0 ? 0 : hidp__ceildiv(len - start, d);
    *k1 = hi < k ? hi : k;
    if (*k1 < *k0)
        *k1 = *k0;
}

/* One output row: each valid kernel tap (ky, kx) is folded into the whole row at once, so the
 * inner loop runs over output columns with no bounds checks, no data-dependent branches and
 * independent iterations. */
static void pool_row(const pool_params *p, const float *xp, int64_t ih, int64_t iw, float *orow,
                     int64_t ow, int64_t h)
{
    int64_t sw = p->st[1], dw = p->dil[1], hs = h * p->st[0] - p->pb[0], ky0, ky1;
    int is_max = p->kind == POOL_MAX;
    valid_taps(hs, p->dil[0], p->k[0], ih, &ky0, &ky1);
    for (int64_t w = 0; w < ow; w++)
        orow[w] = is_max ? -FLT_MAX : 0.0f;
    for (int64_t ky = ky0; ky < ky1; ky++) {
        const float *irow = xp + (hs + ky * p->dil[0]) * iw;
        for (int64_t kx = 0; kx < p->k[1]; kx++) {
            /* Output columns whose tap kx lands inside the input row. */
            int64_t off = kx * dw - p->pb[1], w0, w1;
            valid_taps(off, sw, ow, iw, &w0, &w1);
            if (is_max) {
                for (int64_t w = w0; w < w1; w++) {
                    float v = irow[w * sw + off], m = orow[w];
                    orow[w] = v > m ? v : m;
                }
            } else {
                for (int64_t w = w0; w < w1; w++)
                    orow[w] += irow[w * sw + off];
            }
        }
    }
    if (is_max)
        return;
    int64_t hcount = ky1 - ky0;
    if (p->include_pad)
        hcount = (hs + p->k[0] < ih + p->pe[0] ? hs + p->k[0] : ih + p->pe[0]) - hs;
    for (int64_t w = 0; w < ow; w++) {
        int64_t ws = w * sw - p->pb[1], kx0, kx1, wcount;
        valid_taps(ws, 1, p->k[1], iw, &kx0, &kx1);
        wcount = kx1 - kx0;
        if (p->include_pad)
            wcount = (ws + p->k[1] < iw + p->pe[1] ? ws + p->k[1] : iw + p->pe[1]) - ws;
        int64_t cnt = hcount * wcount;
        orow[w] = cnt > 0 ? orow[w] / (float)cnt : 0.0f;
    }
}

/* o[i] = max(o[i], src[i]): blocks of 8 lanes with restrict, which GCC's -O2 turns into vector
 * max instructions (without restrict it assumes overlap and stays scalar). */
static void max_into(float *restrict o, const float *restrict src, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            const float v = src[i + j], m = o[i + j];
            o[i + j] = v > m ? v : m;
        }
    for (; i < n; i++)
        o[i] = src[i] > o[i] ? src[i] : o[i];
}

/* Splits input row irow by column phase into ph (sw phases of pl floats, -FLT_MAX padding). */
static void split_row(const pool_params *p, const float *irow, int64_t iw, int64_t pl, float *ph)
{
    const int64_t sw = p->st[1];
    for (int64_t f = 0; f < sw; f++, ph += pl) {
        /* positions [j0, j1) of phase f hold input columns j * sw + f - pb */
        int64_t j0 = f < p->pb[1] ? hidp__ceildiv(p->pb[1] - f, sw) : 0;
        int64_t j1 = iw - 1 + p->pb[1] - f < 0 ? 0 : (iw - 1 + p->pb[1] - f) / sw + 1;
        j0 = j0 < pl ? j0 : pl;
        j1 = j1 < j0 ? j0 : j1 < pl ? j1 : pl;
        const float *src = irow + j0 * sw + f - p->pb[1];
        for (int64_t j = 0; j < j0; j++)
            ph[j] = -FLT_MAX;
        if (sw == 2) /* a constant stride, which the vectoriser turns into shuffles */
            for (int64_t j = j0; j < j1; j++)
                ph[j] = src[(j - j0) * 2];
        else
            for (int64_t j = j0; j < j1; j++)
                ph[j] = src[(j - j0) * sw];
        for (int64_t j = j1; j < pl; j++)
            ph[j] = -FLT_MAX;
    }
}

/* Output rows [h0, h1) of one MaxPool plane: for each, the input rows of its window are maxed
 * into one row, which is split by phase, and each tap kx is then a vector max into the output
 * row. NaNs are passed over, as the window's taps one by one would (max_into keeps the running
 * value unless the new one is greater). */
static void max_plane(const pool_params *p, const float *xp, int64_t ih, int64_t iw, float *yp,
                      int64_t ow, int64_t h0, int64_t h1, float *scratch)
{
    const int64_t sw = p->st[1], dw = p->dil[1], pl = phase_len(p, ow);
    float *vrow = scratch, *phases = scratch + (iw + 15) / 16 * 16;
    for (int64_t h = h0; h < h1; h++) {
        const int64_t hs = h * p->st[0] - p->pb[0];
        float *orow = yp + h * ow;
        int64_t ky0, ky1;
        valid_taps(hs, p->dil[0], p->k[0], ih, &ky0, &ky1);
        for (int64_t w = 0; w < iw; w++)
            vrow[w] = -FLT_MAX;
        for (int64_t ky = ky0; ky < ky1; ky++)
            max_into(vrow, xp + (hs + ky * p->dil[0]) * iw, iw);
        split_row(p, vrow, iw, pl, phases);
        for (int64_t w = 0; w < ow; w++)
            orow[w] = -FLT_MAX;
        for (int64_t kx = 0; kx < p->k[1]; kx++)
            max_into(orow, phases + (kx * dw % sw) * pl + kx * dw / sw, ow);
    }
}

static void pool_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    const pool_params *p = n->params;
    const hidp__shape *xs = &hidp__in(g, n, 0)->shape;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    int64_t ih = xs->d[2], iw = xs->d[3];
    for (int64_t b = 0; b < v.n; b++)
        for (int64_t c = s.c0; c < s.c1; c++) {
            const float *xp = x + (b * v.c + c) * ih * iw;
            float *yp = y + (b * v.c + c) * v.h * v.w;
            if (p->kind == POOL_MAX)
                max_plane(p, xp, ih, iw, yp, v.w, s.h0, s.h1, scratch);
            else
                for (int64_t h = s.h0; h < s.h1; h++)
                    pool_row(p, xp, ih, iw, yp + h * v.w, v.w, h);
        }
}

/* The reference: every tap of every window, checked against the input and the padded input. */
static void pool_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const pool_params *p = n->params;
    const hidp__shape *xs = &hidp__in(g, n, 0)->shape;
    const float *x = hidp__in_f32(g, n, 0);
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    int64_t ih = xs->d[2], iw = xs->d[3];
    for (int64_t b = 0; b < v.n; b++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++)
                for (int64_t w = 0; w < v.w; w++) {
                    double m = -FLT_MAX, sum = 0;
                    int64_t inside = 0, padded = 0;
                    for (int64_t ky = 0; ky < p->k[0]; ky++)
                        for (int64_t kx = 0; kx < p->k[1]; kx++) {
                            int64_t yy = h * p->st[0] - p->pb[0] + ky * p->dil[0];
                            int64_t xx = w * p->st[1] - p->pb[1] + kx * p->dil[1];
                            if (yy >= -p->pb[0] && yy < ih + p->pe[0] && xx >= -p->pb[1] &&
                                xx < iw + p->pe[1])
                                padded++;
                            if (yy < 0 || yy >= ih || xx < 0 || xx >= iw)
                                continue;
                            double val = x[((b * v.c + c) * ih + yy) * iw + xx];
                            inside++;
                            sum += val;
                            m = val > m ? val : m;
                        }
                    int64_t cnt = p->include_pad ? padded : inside;
                    y[((b * v.c + c) * v.h + h) * v.w + w] = p->kind == POOL_MAX ? (float)m
                                                             : cnt ? (float)(sum / (double)cnt)
                                                                   : 0.0f;
                }
}

/* ---- global pools: one value per (n, c) plane ---- */

static void global_run(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const pool_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0);
    const float *x = vx->data;
    float *y = hidp__out_f32(g, n, 0);
    hidp__view4 v = hidp__shape_view4(&hidp__out(g, n, 0)->shape);
    int64_t area = hidp__shape_count(&vx->shape) / (v.n * v.c > 0 ? v.n * v.c : 1);
    if (s.h0 >= s.h1)
        return;
    for (int64_t b = 0; b < v.n; b++)
        for (int64_t c = s.c0; c < s.c1; c++) {
            const float *src = x + (b * v.c + c) * area;
            float acc;
            if (p->kind == POOL_GLOBAL_MAX) {
                acc = -FLT_MAX;
                for (int64_t i = 0; i < area; i++)
                    acc = src[i] > acc ? src[i] : acc;
            } else {
                /* Eight partial sums: vectorisable and more accurate on big planes. */
                float part[8] = {0};
                int64_t i = 0;
                for (; i + 8 <= area; i += 8)
                    for (int j = 0; j < 8; j++)
                        part[j] += src[i + j];
                acc = 0.0f;
                for (; i < area; i++)
                    acc += src[i];
                for (int j = 0; j < 8; j++)
                    acc += part[j];
                acc = area ? acc / (float)area : 0.0f;
            }
            y[b * v.c + c] = acc;
        }
}

static void global_run_ref(const hidp__graph *g, const hidp__node *n, hidp__slice s, float *scratch)
{
    (void)scratch;
    const pool_params *p = n->params;
    const hidp__value *vx = hidp__in(g, n, 0);
    const float *x = vx->data;
    float *y = hidp__out_f32(g, n, 0);
    int64_t nb = vx->shape.d[0], nc = vx->shape.d[1], area = 1;
    for (int k = 2; k < vx->shape.ndim; k++)
        area *= vx->shape.d[k];
    for (int64_t b = 0; b < nb; b++)
        for (int64_t c = s.c0; c < s.c1; c++)
            for (int64_t h = s.h0; h < s.h1; h++) {
                double acc = p->kind == POOL_GLOBAL_MAX ? -FLT_MAX : 0;
                for (int64_t i = 0; i < area; i++) {
                    double val = x[(b * nc + c) * area + i];
                    acc = p->kind == POOL_GLOBAL_MAX ? (val > acc ? val : acc) : acc + val;
                }
                if (p->kind == POOL_GLOBAL_AVG)
                    acc = area ? acc / (double)area : 0;
                y[b * nc + c] = (float)acc;
            }
}

static void pool_describe(const hidp__graph *g, const hidp__node *n, char *buf, size_t len)
{
    (void)g;
    const pool_params *p = n->params;
    snprintf(buf, len, "k%lldx%lld s%lld p%lld,%lld,%lld,%lld%s%s", (long long)p->k[0],
             (long long)p->k[1], (long long)p->st[0], (long long)p->pb[0], (long long)p->pb[1],
             (long long)p->pe[0], (long long)p->pe[1], p->ceil_mode ? " ceil" : "",
             p->include_pad ? " incl_pad" : "");
}

const hidp__op_def hidp__op_max_pool = {"MaxPool",    0,    parse_max,    pool_reshape, pool_run,
                                        pool_run_ref, NULL, pool_describe};
const hidp__op_def hidp__op_average_pool = {
    "AveragePool", 0, parse_avg, pool_reshape, pool_run, pool_run_ref, NULL, pool_describe};
const hidp__op_def hidp__op_global_average_pool = {
    "GlobalAveragePool", 0, parse_gavg, pool_reshape, global_run, global_run_ref, NULL, NULL};
const hidp__op_def hidp__op_global_max_pool = {
    "GlobalMaxPool", 0, parse_gmax, pool_reshape, global_run, global_run_ref, NULL, NULL};
