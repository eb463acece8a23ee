/*
 * conv_transpose.c - the ONNX ConvTranspose op.
 *
 * X [N, C, H, W], W [C, M/group, kH, kW], optional B [M]; input pixel (ih, iw) of channel c adds
 * x * w[c, mm, kh, kw] to output (ih*sh - pt + kh*dh, iw*sw - pl + kw*dw) of channel
 * group(c) * M/group + mm. 1-D inputs [N, C, L] run as H = L, W = 1, as for Conv.
 *
 * The kernel is sgemm + col2im (convt_gemm), restricted to the slice: the output channels of the
 * slice and the input rows that reach its output rows. A direct per-pixel form runs at a few
 * GFLOP/s; the sgemm form at BLAS speed. The reference twin (ops/conv_ref.c) is the plain
 * scatter straight from the definition.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* The sgemm + col2im blocks aim at this many floats of scratch (as Conv's im2col). */
#ifndef HIDP__CONVT_COL_FLOATS
#define HIDP__CONVT_COL_FLOATS (128 * 1024)
#endif
#define HIDP__CONVT_MIN_COLS 256

static int convt_parse(hidp__graph *gr, hidp__node *n, hidp__err *err)
{
    (void)gr;
    hidp__conv_params *p = calloc(1, sizeof *p);
    if (!p)
        return hidp__fail(err, HIDP_ENOMEM, "convtranspose '%s': out of memory", n->name);
    n->params = p;
    p->transpose = 1;
    return hidp__conv_parse_attrs(n, p, "convtranspose", err);
}

/* Pads and output size of one spatial dim (ONNX ConvTranspose). want: the size output_shape
 * asks for, or -1. */
static void convt_out_dim(int auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
                          int64_t out_pad, int64_t want, int64_t *pad_begin, int64_t *pad_end,
                          int64_t *out)
{
    const int64_t full = s * (in - 1) + out_pad + (k - 1) * d + 1; /* size without pads */
    if (want < 0 && (auto_pad == HIDP__PAD_SAME_UPPER || auto_pad == HIDP__PAD_SAME_LOWER))
        want = in * s;
    if (want >= 0) {
        /* As the ONNX spec and its reference implementation have it: SAME_UPPER puts the odd
         * pad at the end, everything else (SAME_LOWER, explicit output_shape) at the start.
         * (ONNX Runtime splits odd pads the other way round in both cases, onnxruntime#9370.)
         * The total is negative when the asked size exceeds the natural one: the extra outputs
         * then get only the bias. */
        const int64_t total = full - want;
        if (auto_pad == HIDP__PAD_SAME_UPPER) {
            *pad_begin = total / 2;
            *pad_end = total - total / 2;
        } else {
            *pad_begin = total - total / 2;
            *pad_end = total / 2;
        }
        *out = want;
        return;
    }
    if (auto_pad == HIDP__PAD_VALID)
        *pad_begin = *pad_end = 0;
    *out = full - *pad_begin - *pad_end;
}

static int convt_reshape(hidp__graph *gr, hidp__node *n, hidp__err *err)
{
    hidp__conv_params *p = n->params;
    const hidp__value *x = hidp__in(gr, n, 0), *w = hidp__in(gr, n, 1), *b = hidp__in(gr, n, 2);
    hidp__value *y = hidp__out(gr, n, 0);
    hidp__conv_geom g;
    int rc;
    memset(&g, 0, sizeof g);
    p->resolved = 0;
    if (!x || !w || !y)
        return hidp__fail(err, HIDP_EFORMAT, "convtranspose '%s': needs inputs X and W and an "
                          "output", n->name);
    const int nd = x->shape.ndim;
    if (nd != 3 && nd != 4)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "convtranspose '%s': input has %d dims; only "
                          "1-D and 2-D ([N,C,L] or [N,C,H,W]) are supported", n->name, nd);
    if (x->dtype != HIDP__DT_F32)
        return hidp__fail(err, HIDP_ESHAPE, "convtranspose '%s': input '%s' is not float",
                          n->name, x->name);
    if (!(w->flags & HIDP__VAL_CONST) || w->dtype != HIDP__DT_F32)
        return hidp__fail(err, HIDP_EUNSUPPORTED, "convtranspose '%s': weight '%s' is not a "
                          "float constant", n->name, w->name);
    if (w->shape.ndim != nd)
        return hidp__fail(err, HIDP_ESHAPE, "convtranspose '%s': weight has %d dims, expected "
                          "%d (%s)", n->name, w->shape.ndim, nd, nd == 4 ? "IOHW" : "IOL");
    for (int i = 0; i < nd; i++)
        if (x->shape.d[i] < 1 || w->shape.d[i] < 1)
            return hidp__fail(err, HIDP_ESHAPE, "convtranspose '%s': empty input or weight",
                              n->name);
    p->nsp = nd - 2;
    rc = hidp__conv_resolve_attrs(n, p, "convtranspose", p->nsp, w->shape.d[2],
                                  nd == 4 ? w->shape.d[3] : 1, &g, err);
    if (rc)
        return rc;
    if (p->n_out_shape >= 0 && p->n_out_shape != p->nsp && p->n_out_shape != p->nsp + 2)
        return hidp__fail(err, HIDP_EFORMAT, "convtranspose '%s': output_shape has %d values, "
                          "expected %d", n->name, p->n_out_shape, p->nsp);
    g.n = x->shape.d[0];
    g.c = x->shape.d[1];
    g.h = x->shape.d[2];
    g.w = nd == 4 ? x->shape.d[3] : 1;
    if (g.c != w->shape.d[0] || g.c % g.group)
        return hidp__fail(err, HIDP_ESHAPE, "convtranspose '%s': input has %lld channels but "
                          "the weight has %lld (group %lld)", n->name, (long long)g.c,
                          (long long)w->shape.d[0], (long long)g.group);
    g.cg = g.c / g.group;
    g.mg = w->shape.d[1];
    g.m = g.mg * g.group;
    if (b && (b->dtype != HIDP__DT_F32 || hidp__shape_count(&b->shape) != g.m))
        return hidp__fail(err, HIDP_ESHAPE, "convtranspose '%s': bias has %lld elements, "
                          "expected %lld", n->name, (long long)hidp__shape_count(&b->shape),
                          (long long)g.m);

    /* output_shape may list the spatial dims only or all of them. */
    const int64_t *want = p->n_out_shape >= 0 ? p->out_shape + (p->n_out_shape - p->nsp) : NULL;
    const int64_t oph = p->n_out_pad > 0 ? p->out_pad[0] : 0;
    const int64_t opw = p->n_out_pad > 0 && p->nsp == 2 ? p->out_pad[1] : 0;
    convt_out_dim(p->auto_pad, g.h, g.kh, g.sh, g.dh, oph, want ? want[0] : -1, &g.pt, &g.pb,
                  &g.oh);
    convt_out_dim(p->auto_pad, g.w, g.kw, g.sw, g.dw, opw,
                  want ? (p->nsp == 2 ? want[1] : 1) : -1, &g.pl, &g.pr, &g.ow);
    if (g.oh < 1 || g.ow < 1)
        return hidp__fail(err, HIDP_ESHAPE, "convtranspose '%s': output would be %lldx%lld",
                          n->name, (long long)g.oh, (long long)g.ow);
    /* sgemm blocks: at least HIDP__CONVT_MIN_COLS input pixels per call, and as many output
     * channels as then fit the scratch budget. */
    g.t_rows = hidp__clamp64(hidp__ceildiv(HIDP__CONVT_MIN_COLS, g.w), 1, g.h);
    g.t_chans = hidp__clamp64(HIDP__CONVT_COL_FLOATS / (g.kh * g.kw * g.t_rows * g.w), 1, g.mg);
    p->g = g;
    p->resolved = 1;

    int64_t dims[4] = {g.n, g.m, g.oh, g.ow};
    y->shape = hidp__shape_make(nd, dims);
    y->dtype = HIDP__DT_F32;
    n->flops = 2.0 * (double)g.n * (double)g.c * (double)g.h * (double)g.w * (double)g.mg *
               (double)(g.kh * g.kw);
    n->weights = hidp__shape_count(&w->shape) + (b ? g.m : 0);
    n->scratch = (size_t)(g.t_chans * g.kh * g.kw * g.t_rows * g.w);
    return 0;
}

/* dst[i * stride] += src[i] for i < len (blocks of 8 lanes so -O2 vectorises the stride-1 case). */
static void add_strided(float *restrict dst, int64_t stride, const float *restrict src,
                        int64_t len)
{
    int64_t i = 0;
    if (stride == 1)
        for (; i + 8 <= len; i += 8)
            for (int j = 0; j < 8; j++)
                dst[i + j] += src[i + j];
    for (; i < len; i++)
        dst[i * stride] += src[i];
}

/* Slice s of the output as sgemm + col2im. For one group, one block of output channels and one
 * block of input rows:
 *   cols[(mm, kh, kw), (ih, iw)] = sum over c of W[c, mm, kh, kw] * X[c, ih, iw]
 * is one sgemm (W^T, read transposed in place), and col2im adds each element to output
 * (ih*sh - pt + kh*dh, iw*sw - pl + kw*dw), keeping those inside the slice's rows. Only the
 * input rows that reach the slice's output rows are multiplied. The slice is zeroed first and
 * gets its bias and activation once all contributions are in. */
static void convt_gemm(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                       float *scratch)
{
    const int64_t hw = g->h * g->w, ohw = g->oh * g->ow, kk = g->kh * g->kw;
    if (s.c0 >= s.c1 || s.h0 >= s.h1)
        return;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = s.c0; m < s.c1; m++)
            memset(io->y + (n * g->m + m) * ohw + s.h0 * g->ow, 0,
                   (size_t)((s.h1 - s.h0) * g->ow) * sizeof(float));
    /* Input rows ih with ih*sh - pt + kh*dh in [h0, h1) for some kh. */
    const int64_t ih_lo =
        hidp__clamp64(hidp__ceildiv(s.h0 + g->pt - (g->kh - 1) * g->dh, g->sh), 0, g->h);
    const int64_t ih_hi = hidp__clamp64(hidp__floordiv(s.h1 - 1 + g->pt, g->sh) + 1, ih_lo, g->h);
    for (int64_t n = 0; n < g->n && ih_hi > ih_lo; n++) {
        for (int64_t grp = s.c0 / g->mg; grp * g->mg < s.c1; grp++) {
            int64_t m_lo, m_hi;
            hidp__conv_group_span(g, s, grp, &m_lo, &m_hi);
            const float *xg = io->x + (n * g->c + grp * g->cg) * hw;
            const float *wg = io->w + grp * g->cg * g->mg * kk;
            for (int64_t mb = m_lo; mb < m_hi; mb += g->t_chans) {
                const int64_t mb_n = mb + g->t_chans < m_hi ? g->t_chans : m_hi - mb;
                const int64_t mm0 = mb - grp * g->mg; /* first channel within the group */
                for (int64_t r0 = ih_lo; r0 < ih_hi; r0 += g->t_rows) {
                    const int64_t nr = r0 + g->t_rows < ih_hi ? g->t_rows : ih_hi - r0;
                    const int64_t np = nr * g->w;
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(mb_n * kk),
                                (int)np, (int)g->cg, 1.0f, wg + mm0 * kk, (int)(g->mg * kk),
                                xg + r0 * g->w, (int)hw, 0.0f, scratch, (int)np);
                    for (int64_t i = 0; i < mb_n * kk; i++) {
                        const int64_t mm = i / kk, kh = i % kk / g->kw, kw = i % g->kw;
                        float *yc = io->y + (n * g->m + mb + mm) * ohw;
                        /* Input column iw lands on output column iw * sw + off. */
                        const int64_t off = kw * g->dw - g->pl;
                        const int64_t lo = hidp__clamp64(hidp__ceildiv(-off, g->sw), 0, g->w);
                        const int64_t hi = hidp__clamp64(
                            hidp__floordiv(g->ow - 1 - off, g->sw) + 1, lo, g->w);
                        if (hi <= lo)
                            continue;
                        for (int64_t r = 0; r < nr; r++) {
                            const int64_t oh = (r0 + r) * g->sh - g->pt + kh * g->dh;
                            if (oh < s.h0 || oh >= s.h1)
                                continue;
                            add_strided(yc + oh * g->ow + lo * g->sw + off, g->sw,
                                        scratch + i * np + r * g->w + lo, hi - lo);
                        }
                    }
                }
            }
        }
    }
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = s.c0; m < s.c1; m++)
            hidp__conv_epilogue(io->y + (n * g->m + m) * ohw + s.h0 * g->ow,
                                (s.h1 - s.h0) * g->ow, io->b ? io->b[m] : 0.0f, io->act);
}

static hidp__conv_io convt_io(const hidp__graph *gr, const hidp__node *n)
{
    const hidp__value *b = hidp__in(gr, n, 2);
    hidp__conv_io io = {hidp__in_f32(gr, n, 0), hidp__in_f32(gr, n, 1),
                        b ? (const float *)b->data : NULL, hidp__out_f32(gr, n, 0), &n->act,
                        n->params, NULL};
    return io;
}

static void convt_run(const hidp__graph *gr, const hidp__node *n, hidp__slice s, float *scratch)
{
    const hidp__conv_params *p = n->params;
    hidp__conv_io io = convt_io(gr, n);
    convt_gemm(&p->g, &io, s, scratch);
}

static void convt_run_ref(const hidp__graph *gr, const hidp__node *n, hidp__slice s,
                          float *scratch)
{
    (void)scratch;
    const hidp__conv_params *p = n->params;
    hidp__conv_io io = convt_io(gr, n);
    hidp__conv_transpose_naive(&p->g, &io, s);
}

static void convt_describe(const hidp__graph *gr, const hidp__node *n, char *buf, size_t len)
{
    (void)gr;
    const hidp__conv_params *p = n->params;
    char txt[96];
    if (!p) {
        snprintf(buf, len, "%s", "");
        return;
    }
    hidp__conv_format(p, txt, sizeof txt);
    if (p->n_out_pad > 0 && (p->out_pad[0] || (p->n_out_pad > 1 && p->out_pad[1])))
        snprintf(buf, len, "%s op%lld,%lld", txt, (long long)p->out_pad[0],
                 (long long)(p->n_out_pad > 1 ? p->out_pad[1] : 0));
    else
        snprintf(buf, len, "%s", txt);
}

const hidp__op_def hidp__op_conv_transpose = {
    .name = "ConvTranspose",
    .flags = HIDP__OP_FUSES_ACT | HIDP__OP_CAN_FUSE,
    .parse = convt_parse,
    .reshape = convt_reshape,
    .run = convt_run,
    .run_ref = convt_run_ref,
    .destroy = NULL,
    .describe = convt_describe,
};
