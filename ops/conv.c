/*
 * conv.c - the ONNX Conv op: attributes, shape checks, and the wrapper that picks a kernel by
 * shape (1x1 / depthwise / im2col + sgemm, as CMSIS-NN's arm_convolve_wrapper does).
 *
 * W [M, C/group, kH, kW] is the row-major [M, K] matrix (K = C/group * kH * kW) of the GEMM;
 * the GEMM kinds pack it once per prepare into the micro-kernel's panels (hidp__sgemm_pack_a).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "conv_depthwise.h"
#include "../engine/hugemem.h"

/* Largest map (pixels) that runs on the transposed tile: with 28x28 too, ResNet-50 went from
 * 41.7 to 46.0 ms (its pixel panels are full there, and the transposing store costs). */
#ifndef HIDP__CONV_T_MAX_PIXELS
#define HIDP__CONV_T_MAX_PIXELS (14 * 14)
#endif


/* ---- attributes (shared with ConvTranspose) ---- */

/* Reads ints attribute name (at most max values, each >= minval) into dst; *count = -1 when the
 * attribute is absent. */
static int read_ints(const hidp__node *n, const char *name, int max, int64_t minval,
                     int64_t *dst, int *count, const char *what, hidp__err *err)
{
    const int64_t *v = NULL;
    int cnt = hidp__attr_ints(n, name, &v);
    *count = -1;
    if (cnt < 0) {
        if (hidp__node_attr(n, name))
            return hidp__fail(err, HIDP_EFORMAT, "%s '%s': attribute %s is not a list of ints",
                              what, n->name, name);
        return 0;
    }
    if (cnt > max)
        return hidp__fail(err, HIDP_EUNSUPPORTED,
                          "%s '%s': %s has %d values; only 1-D and 2-D convolutions are "
                          "supported", what, n->name, name, cnt);
    for (int i = 0; i < cnt; i++) {
        if (v[i] < minval)
            return hidp__fail(err, HIDP_EFORMAT, "%s '%s': %s[%d] = %lld, must be >= %lld",
                              what, n->name, name, i, (long long)v[i], (long long)minval);
        dst[i] = v[i];
    }
    *count = cnt;
    return 0;
}

int hidp__conv_parse_attrs(const hidp__node *n, hidp__conv_params *p, const char *what,
                           hidp__err *err)
{
    int rc;
    const char *ap = hidp__attr_string(n, "auto_pad");
    if (!ap || !strcmp(ap, "NOTSET") || !*ap)
        p->auto_pad = HIDP__PAD_NOTSET;
    else if (!strcmp(ap, "VALID"))
        p->auto_pad = HIDP__PAD_VALID;
    else if (!strcmp(ap, "SAME_UPPER"))
        p->auto_pad = HIDP__PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        p->auto_pad = HIDP__PAD_SAME_LOWER;
    else
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': unknown auto_pad '%s'", what, n->name, ap);

    if ((rc = read_ints(n, "kernel_shape", 2, 1, p->kernel, &p->n_kernel, what, err)) ||
        (rc = read_ints(n, "strides", 2, 1, p->strides, &p->n_strides, what, err)) ||
        (rc = read_ints(n, "dilations", 2, 1, p->dilations, &p->n_dilations, what, err)) ||
        (rc = read_ints(n, "pads", 4, 0, p->pads, &p->n_pads, what, err)) ||
        (rc = read_ints(n, "output_padding", 2, 0, p->out_pad, &p->n_out_pad, what, err)) ||
        (rc = read_ints(n, "output_shape", 4, 1, p->out_shape, &p->n_out_shape, what, err)))
        return rc;
    if (p->n_pads > 0 && p->n_pads % 2)
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': pads has %d values, expected an even count",
                          what, n->name, p->n_pads);
    p->group = hidp__attr_int(n, "group", 1);
    if (p->group < 1)
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': group %lld must be >= 1", what, n->name,
                          (long long)p->group);
    return 0;
}

static int check_count(const hidp__node *n, const char *what, const char *name, int count,
                       int want, int nsp, hidp__err *err)
{
    if (count >= 0 && count != want)
        return hidp__fail(err, HIDP_EFORMAT, "%s '%s': %s has %d values, expected %d for a %d-D "
                          "convolution", what, n->name, name, count, want, nsp);
    return 0;
}

int hidp__conv_resolve_attrs(const hidp__node *n, const hidp__conv_params *p, const char *what,
                             int nsp, int64_t kh, int64_t kw, hidp__conv_geom *g, hidp__err *err)
{
    int rc;
    if ((rc = check_count(n, what, "kernel_shape", p->n_kernel, nsp, nsp, err)) ||
        (rc = check_count(n, what, "strides", p->n_strides, nsp, nsp, err)) ||
        (rc = check_count(n, what, "dilations", p->n_dilations, nsp, nsp, err)) ||
        (rc = check_count(n, what, "pads", p->n_pads, 2 * nsp, nsp, err)) ||
        (rc = check_count(n, what, "output_padding", p->n_out_pad, nsp, nsp, err)))
        return rc;
    if (p->n_kernel > 0 && (p->kernel[0] != kh || (nsp == 2 && p->kernel[1] != kw)))
        return hidp__fail(err, HIDP_ESHAPE, "%s '%s': kernel_shape %lldx%lld does not match the "
                          "weight's %lldx%lld", what, n->name, (long long)p->kernel[0],
                          (long long)(nsp == 2 ? p->kernel[1] : 1), (long long)kh, (long long)kw);
    g->kh = kh;
    g->kw = kw;
    g->sh = p->n_strides > 0 ? p->strides[0] : 1;
    g->sw = p->n_strides > 0 && nsp == 2 ? p->strides[1] : 1;
    g->dh = p->n_dilations > 0 ? p->dilations[0] : 1;
    g->dw = p->n_dilations > 0 && nsp == 2 ? p->dilations[1] : 1;
    g->pt = g->pl = g->pb = g->pr = 0;
    if (p->n_pads > 0) {
        g->pt = p->pads[0];
        g->pb = p->pads[nsp];
        if (nsp == 2) {
            g->pl = p->pads[1];
            g->pr = p->pads[3];
        }
    }
    g->group = p->group;
    return 0;
}

void hidp__conv_format(const hidp__conv_params *p, char *buf, size_t len)
{
    const hidp__conv_geom *g = &p->g;
    char s[32], d[32];
    if (!p->resolved) {
        snprintf(buf, len, "g%lld", (long long)p->group);
        return;
    }
    if (p->nsp == 1) {
        snprintf(buf, len, "k%lld s%lld p%lld,%lld d%lld g%lld", (long long)g->kh,
                 (long long)g->sh, (long long)g->pt, (long long)g->pb, (long long)g->dh,
                 (long long)g->group);
        return;
    }
    if (g->sh == g->sw)
        snprintf(s, sizeof s, "%lld", (long long)g->sh);
    else
        snprintf(s, sizeof s, "%lldx%lld", (long long)g->sh, (long long)g->sw);
    if (g->dh == g->dw)
        snprintf(d, sizeof d, "%lld", (long long)g->dh);
    else
        snprintf(d, sizeof d, "%lldx%lld", (long long)g->dh, (long long)g->dw);
    snprintf(buf, len, "k%lldx%lld s%s p%lld,%lld,%lld,%lld d%s g%lld", (long long)g->kh,
             (long long)g->kw, s, (long long)g->pt, (long long)g->pl, (long long)g->pb,
             (long long)g->pr, d, (long long)g->group);
}

/* ---- epilogue and scratch ---- */

/* max(v, 0) without a branch: clears v when its sign bit is set. A compare-and-select of
 * floats is compiled to a branch by GCC at -O2, and on random signs that branch mispredicts half
 * the time (measured: most of a small depthwise layer's time). NaN keeps its sign's fate. */
static inline float relu1(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    u &= (u >> 31) - 1u;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Bias and ReLU / Clip on len floats, len a multiple of 8. Blocks of 8 lanes: GCC's -O2 cost
 * model vectorises a loop only when its trip count is a known multiple of the vector width, and
 * the compare-and-selects then become vector min/max instead of branches. */
static void epilogue8(float *y, int64_t len, float bias, int kind, float lo, float hi)
{
    switch (kind) {
    case HIDP__ACT_RELU:
        for (int64_t i = 0; i < len; i += 8)
            for (int j = 0; j < 8; j++)
                y[i + j] = relu1(y[i + j] + bias);
        break;
    case HIDP__ACT_CLIP:
        for (int64_t i = 0; i < len; i += 8)
            for (int j = 0; j < 8; j++) {
                float v = y[i + j] + bias;
                v = v < lo ? lo : v;
                y[i + j] = v > hi ? hi : v;
            }
        break;
    default:
        for (int64_t i = 0; i < len; i += 8)
            for (int j = 0; j < 8; j++)
                y[i + j] += bias;
        break;
    }
}

/* The bias is added here rather than by initialising the sgemm's C with it and using beta = 1:
 * the activation needs one pass over the freshly written block anyway, and adding the bias in
 * that same pass (the block is still in cache) costs nothing, whereas pre-filling C is an extra
 * pass over the output and makes the sgemm read C as well as write it. ReLU and Clip (ReLU6),
 * the common ones, are done here in the same pass; the others by hidp__act_apply after it. */
void hidp__conv_epilogue(float *y, int64_t len, float bias, const hidp__act *act)
{
    const int kind = act->kind;
    const int own = kind == HIDP__ACT_RELU || kind == HIDP__ACT_CLIP;
    if (own || bias != 0.0f) {
        const int64_t body = len & ~(int64_t)7;
        epilogue8(y, body, bias, own ? kind : HIDP__ACT_NONE, act->alpha, act->beta);
        if (body < len) {
            /* The last few floats go through the same 8-lane code in a small buffer: a
             * scalar loop would branch, and rows of 7 (7x7 planes) are all tail. */
            float t[8] = {0};
            memcpy(t, y + body, (size_t)(len - body) * sizeof *t);
            epilogue8(t, 8, bias, own ? kind : HIDP__ACT_NONE, act->alpha, act->beta);
            memcpy(y + body, t, (size_t)(len - body) * sizeof *t);
        }
    }
    if (!own && kind != HIDP__ACT_NONE)
        hidp__act_apply(act, y, (size_t)len);
}

size_t hidp__conv_scratch(hidp__conv_geom *g, int kind, const hidp__sgemm_kernel *kern)
{
    if (kind == HIDP__CONV_DEPTHWISE)
        return hidp__conv_depthwise_plan(g);
    if (kind == HIDP__CONV_SHIFTED)
        return hidp__conv_shifted_scratch(g, kern);
    if (kind == HIDP__CONV_WINOGRAD)
        return hidp__conv_winograd_scratch(g, kern);
    return hidp__sgemm_scratch_floats(kern, g->cg * g->kh * g->kw, g->oh * g->ow);
}

int hidp__conv_pack_weights(hidp__conv_params *p, const float *w, const hidp__sgemm_kernel *kern)
{
    const hidp__conv_geom *g = &p->g;
    const int64_t k = g->cg * g->kh * g->kw;
    const size_t per_group = p->transposed ? hidp__sgemm_packed_wt_floats(kern, g->mg, k)
                                           : hidp__sgemm_packed_a_floats(kern, g->mg, k);
    /* the old packing (another kernel's) is not kept: packed anew below */
    float *packed = hidp__huge_alloc(per_group * (size_t)g->group * sizeof *packed);
    if (!packed)
        return HIDP_ENOMEM;
    free(p->packed);
    for (int64_t grp = 0; grp < g->group; grp++) {
        if (p->transposed)
            hidp__sgemm_pack_wt(kern, w + grp * g->mg * k, k, g->mg, k,
                                packed + (size_t)grp * per_group);
        else
            hidp__sgemm_pack_a(kern, w + grp * g->mg * k, k, g->mg, k,
                               packed + (size_t)grp * per_group);
    }
    p->packed = packed;
    p->packed_group = per_group;
    p->kern = kern;
    return 0;
}

/* ---- Conv ---- */

static int conv_parse(hidp__graph *gr, hidp__node *n, hidp__err *err)
{
    (void)gr;
    hidp__conv_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "conv '%s': out of memory", n->name);
    n->params = p;
    return hidp__conv_parse_attrs(n, p, "conv", err);
}

/* Output size and pads of one spatial dim, following auto_pad. */
static void conv_out_dim(int auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
                         int64_t *pad_begin, int64_t *pad_end, int64_t *out)
{
    const int64_t ek = (k - 1) * d + 1; /* dilated kernel extent */
    if (auto_pad == HIDP__PAD_SAME_UPPER || auto_pad == HIDP__PAD_SAME_LOWER) {
        *out = hidp__ceildiv(in, s);
        int64_t total = (*out - 1) * s + ek - in;
        if (total < 0)
            total = 0;
        /* Odd padding: the extra one goes at the end for SAME_UPPER, the start for SAME_LOWER. */
        *pad_begin = auto_pad == HIDP__PAD_SAME_UPPER ? total / 2 : total - total / 2;
        *pad_end = total - *pad_begin;
        return;
    }
    if (auto_pad == HIDP__PAD_VALID)
        *pad_begin = *pad_end = 0;
    int64_t padded = in + *pad_begin + *pad_end;
    *out = padded >= ek ? (padded - ek) / s + 1 : 0;
}

static int conv_reshape(hidp__graph *gr, hidp__node *n, hidp__err *err)
{
    hidp__conv_params *p = n->params;
    const hidp__value *x = hidp__in(gr, n, 0), *w = hidp__in(gr, n, 1), *b = hidp__in(gr, n, 2);
    hidp__value *y = hidp__out(gr, n, 0);
    hidp__conv_geom g;
    int rc;
    memset(&g, 0, sizeof g);
    p->resolved = 0;
    if (!x || !w || !y)
        return hidp__fail(err, HIDP_EFORMAT, "conv '%s': needs inputs X and W and an output",
                          n->name);
    if (n->n_in > 3)
        return hidp__fail(err, HIDP_EFORMAT, "conv '%s': %d inputs, at most 3 (X, W, B)",
                          n->name, n->n_in);
    const int nd = x->shape.ndim;
    if (nd != 3 && nd != 4)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "conv '%s': input has %d dims; only 1-D and "
                          "2-D convolutions ([N,C,L] or [N,C,H,W]) are supported", n->name, nd);
    if (x->dtype != HIDP__DT_F32)
        return hidp__fail(err, HIDP_ESHAPE, "conv '%s': input '%s' is not float", n->name,
                          x->name);
    if (!(w->flags & HIDP__VAL_CONST) || w->dtype != HIDP__DT_F32)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "conv '%s': weight '%s' is not a float "
                          "constant", n->name, w->name);
    if (w->shape.ndim != nd)
        return hidp__fail(err, HIDP_ESHAPE, "conv '%s': weight has %d dims, expected %d (%s)",
                          n->name, w->shape.ndim, nd, nd == 4 ? "OIHW" : "OIL");
    for (int i = 0; i < nd; i++)
        if (x->shape.d[i] < 1 || w->shape.d[i] < 1)
            return hidp__fail(err, HIDP_ESHAPE, "conv '%s': empty input or weight", n->name);

    p->nsp = nd - 2;
    rc = hidp__conv_resolve_attrs(n, p, "conv", p->nsp, w->shape.d[2],
                                  nd == 4 ? w->shape.d[3] : 1, &g, err);
    if (rc)
        return rc;
    g.n = x->shape.d[0];
    g.c = x->shape.d[1];
    g.h = x->shape.d[2];
    g.w = nd == 4 ? x->shape.d[3] : 1;
    g.m = w->shape.d[0];
    if (g.c % g.group || g.c != g.group * w->shape.d[1])
        return hidp__fail(err, HIDP_ESHAPE, "conv '%s': input has %lld channels but the weight "
                          "expects %lld (group %lld x %lld channels per group)", n->name,
                          (long long)g.c, (long long)(g.group * w->shape.d[1]),
                          (long long)g.group, (long long)w->shape.d[1]);
    if (g.m % g.group)
        return hidp__fail(err, HIDP_ESHAPE, "conv '%s': %lld output channels are not divisible "
                          "by group %lld", n->name, (long long)g.m, (long long)g.group);
    g.cg = g.c / g.group;
    g.mg = g.m / g.group;
    if (b) {
        if (b->dtype != HIDP__DT_F32 || hidp__shape_count(&b->shape) != g.m)
            return hidp__fail(err, HIDP_ESHAPE, "conv '%s': bias has %lld elements, expected "
                              "%lld", n->name, (long long)hidp__shape_count(&b->shape),
                              (long long)g.m);
    }
    conv_out_dim(p->auto_pad, g.h, g.kh, g.sh, g.dh, &g.pt, &g.pb, &g.oh);
    conv_out_dim(p->auto_pad, g.w, g.kw, g.sw, g.dw, &g.pl, &g.pr, &g.ow);
    if (g.oh < 1 || g.ow < 1)
        return hidp__fail(err, HIDP_ESHAPE, "conv '%s': output would be %lldx%lld (input "
                          "%lldx%lld, kernel %lldx%lld, dilation %lldx%lld, pads %lld,%lld,%lld,"
                          "%lld)", n->name, (long long)g.oh, (long long)g.ow, (long long)g.h,
                          (long long)g.w, (long long)g.kh, (long long)g.kw, (long long)g.dh,
                          (long long)g.dw, (long long)g.pt, (long long)g.pl, (long long)g.pb,
                          (long long)g.pr);

    if (g.group == g.c && g.group > 1 && g.kw <= HIDP__DW_MAX && g.sw <= HIDP__DW_MAX)
        p->kind = HIDP__CONV_DEPTHWISE;
    else if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && !g.pt && !g.pl && !g.pb &&
             !g.pr)
        p->kind = HIDP__CONV_1X1;
    else if (hidp__conv_winograd_fits(&g) && !getenv("HIDP_NO_WINOGRAD"))
        p->kind = HIDP__CONV_WINOGRAD;
    else if (hidp__conv_shifted_fits(&g))
        p->kind = HIDP__CONV_SHIFTED;
    else
        p->kind = HIDP__CONV_IM2COL;
    p->g = g;
    /* Maps whose rows split into whole runs of the transposed tile's pixels (7x7, 14x14: 49
     * and 196 pixels fill 32-wide pixel panels to 77% and 88%) use it when the kernel has one,
     * for long reductions (K >= 512: ResNet-50's late layers, 46.4 -> 41.7 ms in all; its K = 256
     * 1x1 convs on 14x14 ran at 165 GFLOP/s transposed, 199 not) and activations the
     * transposing store does inline; with short K or a SiLU (MobileNet-V2, EfficientNet-B0) the
     * store's per-pixel work outweighed the saved columns (6.2 -> 6.3 and 11.7 -> 15.1 ms). */
    const hidp__sgemm_kernel *best = hidp__sgemm_best();
    const int act = n->act.kind;
    p->transposed = (p->kind == HIDP__CONV_1X1 || p->kind == HIDP__CONV_SHIFTED) &&
                    best->tile_t && g.ow % best->tmr == 0 &&
                    g.oh * g.ow <= HIDP__CONV_T_MAX_PIXELS && g.cg * g.kh * g.kw >= 512 &&
                    (act == HIDP__ACT_NONE || act == HIDP__ACT_RELU || act == HIDP__ACT_CLIP) &&
                    !getenv("HIDP_NO_TRANSPOSED");
    if (p->kind == HIDP__CONV_WINOGRAD ? hidp__conv_winograd_pack(p, w->data, hidp__sgemm_best())
        : p->kind != HIDP__CONV_DEPTHWISE && hidp__conv_pack_weights(p, w->data, hidp__sgemm_best()))
        return hidp__fail(err, HIDP_ENOMEM, "conv '%s': out of memory packing the weights",
                          n->name);
    n->scratch = hidp__conv_scratch(&p->g, p->kind, hidp__sgemm_best());
    /* An im2col or shifted GEMM split by channels has every worker pack or copy the whole
     * input; split by rows, each copies only its own rows and all read the weights (M x K),
     * which costs less while there are more pixels than output channels per group. A 1x1 GEMM
     * reads its input in place, but split by channels each worker still streams all of it, half
     * of it from the other core's cache after a layer split by channels: where there are fewer
     * output channels than input ones (MobileNet's projections, ResNet's reductions) that stream
     * outweighs the arithmetic, and those layers ran slower on two cores than on one (0.6-0.9x
     * on MobileNet-V2). By rows they run 1.0-1.5x, and the model on two equal cores took 5.0-5.1
     * ms instead of 5.6-5.8 (ResNet-50: 42.7-42.9 instead of 43.2-43.6). Expanding 1x1s gained
     * nothing more by rows. */
    n->split_rows = ((p->kind == HIDP__CONV_IM2COL || p->kind == HIDP__CONV_SHIFTED ||
                      p->kind == HIDP__CONV_WINOGRAD) ||
                     (p->kind == HIDP__CONV_1X1 && g.mg < g.cg)) &&
                    g.oh * g.ow >= g.mg;
    /* A conv that gets a residual folded in (engine/residual.c, after this reshape) ends a
     * bottleneck block: its output is both the next block's input, which that block's reduction
     * reads by rows, and the residual of the next block's last conv. Split by rows too, each
     * worker then reads back only rows it wrote itself; split by channels (ResNet's expanding
     * 1x1s on 56x56 and 28x28 maps), half of the 1.6-3.2 MB each block passes on came from the
     * other core's cache. By rows, ResNet-50 on two equal cores ran 1.2-3.1% faster (five
     * in-process A/B runs, each 20 interleaved rounds; doc/local-level.md); MobileNet-V2, whose
     * residual convs are projections already split by rows, was unchanged. */
    n->rows_with_residual = g.oh * g.ow >= g.mg;
    n->takes_residual = p->kind != HIDP__CONV_DEPTHWISE; /* the GEMM kinds (and conv_naive) */
    n->channel_local = p->kind == HIDP__CONV_DEPTHWISE && g.m == g.c;
    /* a group's output channels read all of its input channels: with one group, all of them */
    n->rows_in_span = nd == 4 && (g.group == 1 || n->channel_local) ? (int)((g.kh - 1) * g.dh + 1)
                                                                     : 0;
    n->rows_in_stride = (int)g.sh;
    n->rows_in_pad = (int)g.pt;
    /* a band starting on an odd row would make two workers compute the tile row they share */
    n->row_align = p->kind == HIDP__CONV_WINOGRAD ? 2 : 1;
    p->resolved = 1;

    int64_t dims[4] = {g.n, g.m, g.oh, g.ow};
    y->shape = hidp__shape_make(nd, dims);
    y->dtype = HIDP__DT_F32;
    n->flops = 2.0 * (double)g.n * (double)g.m * (double)g.oh * (double)g.ow *
               (double)(g.cg * g.kh * g.kw);
    n->weights = hidp__shape_count(&w->shape) + (b ? g.m : 0);
    return 0;
}

static hidp__conv_io conv_io(const hidp__graph *gr, const hidp__node *n, hidp__slice s)
{
    const hidp__value *b = hidp__in(gr, n, 2);
    const hidp__value *r = hidp__in(gr, n, 3);
    hidp__conv_io io = {hidp__in_f32(gr, n, 0),
                        hidp__in_f32(gr, n, 1),
                        b ? (const float *)b->data : NULL,
                        s.out ? s.out : hidp__out_f32(gr, n, 0),
                        &n->act,
                        n->params,
                        r ? (const float *)r->data : NULL};
    return io;
}

static void conv_run(const hidp__graph *gr, const hidp__node *n, hidp__slice s, float *scratch)
{
    const hidp__conv_params *p = n->params;
    hidp__conv_io io = conv_io(gr, n, s);
    switch (p->kind) {
    case HIDP__CONV_1X1:
        hidp__conv_1x1(&p->g, &io, s, scratch);
        break;
    case HIDP__CONV_DEPTHWISE:
        hidp__conv_depthwise(&p->g, &io, s, scratch);
        break;
    case HIDP__CONV_SHIFTED:
        hidp__conv_shifted(&p->g, &io, s, scratch);
        break;
    case HIDP__CONV_WINOGRAD:
        hidp__conv_winograd(&p->g, &io, s, scratch);
        break;
    default:
        hidp__conv_im2col(&p->g, &io, s, scratch);
        break;
    }
}

static void conv_run_ref(const hidp__graph *gr, const hidp__node *n, hidp__slice s,
                         float *scratch)
{
    (void)scratch;
    const hidp__conv_params *p = n->params;
    hidp__conv_io io = conv_io(gr, n, s);
    hidp__conv_naive(&p->g, &io, s);
}

static void conv_describe(const hidp__graph *gr, const hidp__node *n, char *buf, size_t len)
{
    (void)gr;
    const hidp__conv_params *p = n->params;
    static const char *const kinds[] = {"im2col", "1x1", "dw", "shifted", "winograd"};
    char txt[96];
    if (!p) {
        snprintf(buf, len, "%s", "");
        return;
    }
    hidp__conv_format(p, txt, sizeof txt);
    if (p->resolved)
        snprintf(buf, len, "%s %s%s", txt, kinds[p->kind], p->transposed ? " T" : "");
    else
        snprintf(buf, len, "%s", txt);
}

static void conv_destroy(hidp__node *n)
{
    hidp__conv_params *p = n->params;
    if (p)
        free(p->packed);
    free(p);
}

const hidp__op_def hidp__op_conv = {
    .name = "Conv",
    .flags = HIDP__OP_FUSES_ACT | HIDP__OP_CAN_FUSE | HIDP__OP_REDIRECTS,
    .parse = conv_parse,
    .reshape = conv_reshape,
    .run = conv_run,
    .run_ref = conv_run_ref,
    .destroy = conv_destroy,
    .describe = conv_describe,
};
