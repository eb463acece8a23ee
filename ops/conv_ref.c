/*
 * conv_ref.c - the naive twins of Conv and ConvTranspose, written straight from the ONNX
 * definitions with no blocking, no im2col and no BLAS, so the optimized kernels have something
 * obviously right to be compared with. Both apply the fused activation with hidp__act_apply
 * (not the kernels' epilogue, which has its own ReLU loop), so the epilogue is checked too.
 */
#include "conv.h"

/* y[n, m, oh, ow] = b[m] + sum over c, kh, kw of x[n, group(m) * cg + c, ih, iw] *
 * w[m, c, kh, kw], with ih = oh * sh - pt + kh * dh and iw = ow * sw - pl + kw * dw, taps that
 * fall outside the input reading 0. Accumulates in double. */
void hidp__conv_naive(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s)
{
    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t m = s.c0; m < s.c1; m++) {
            const int64_t grp = m / g->mg;
            for (int64_t oh = s.h0; oh < s.h1; oh++) {
                float *row = io->y + ((n * g->m + m) * g->oh + oh) * g->ow;
                for (int64_t ow = 0; ow < g->ow; ow++) {
                    double acc = io->b ? io->b[m] : 0.0;
                    for (int64_t c = 0; c < g->cg; c++) {
                        for (int64_t kh = 0; kh < g->kh; kh++) {
                            for (int64_t kw = 0; kw < g->kw; kw++) {
                                const int64_t ih = oh * g->sh - g->pt + kh * g->dh;
                                const int64_t iw = ow * g->sw - g->pl + kw * g->dw;
                                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w)
                                    continue;
                                const int64_t ci = grp * g->cg + c;
                                acc += (double)io->x[((n * g->c + ci) * g->h + ih) * g->w + iw] *
                                       io->w[((m * g->cg + c) * g->kh + kh) * g->kw + kw];
                            }
                        }
                    }
                    if (io->res)
                        acc += io->res[((n * g->m + m) * g->oh + oh) * g->ow + ow];
                    row[ow] = (float)acc;
                }
                if (io->act->kind != HIDP__ACT_NONE)
                    hidp__act_apply(io->act, row, (size_t)g->ow);
            }
        }
    }
}

/* The scatter form: every input pixel x[n, c, ih, iw] adds x * w[c, mm, kh, kw] to output
 * y[n, group(c) * mg + mm, ih * sh - pt + kh * dh, iw * sw - pl + kw * dw]. A scatter touches the
 * whole output, so to compute one slice without a buffer of its own it keeps only the
 * contributions that land inside the slice, after setting the slice to the bias. */
void hidp__conv_transpose_naive(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s)
{
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = s.c0; m < s.c1; m++)
            for (int64_t oh = s.h0; oh < s.h1; oh++)
                for (int64_t ow = 0; ow < g->ow; ow++)
                    io->y[((n * g->m + m) * g->oh + oh) * g->ow + ow] = io->b ? io->b[m] : 0.0f;

    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t c = 0; c < g->c; c++) {
            const int64_t grp = c / g->cg;
            for (int64_t ih = 0; ih < g->h; ih++) {
                for (int64_t iw = 0; iw < g->w; iw++) {
                    const float xv = io->x[((n * g->c + c) * g->h + ih) * g->w + iw];
                    for (int64_t mm = 0; mm < g->mg; mm++) {
                        const int64_t m = grp * g->mg + mm;
                        if (m < s.c0 || m >= s.c1)
                            continue;
                        for (int64_t kh = 0; kh < g->kh; kh++) {
                            for (int64_t kw = 0; kw < g->kw; kw++) {
                                const int64_t oh = ih * g->sh - g->pt + kh * g->dh;
                                const int64_t ow = iw * g->sw - g->pl + kw * g->dw;
                                if (oh < s.h0 || oh >= s.h1 || ow < 0 || ow >= g->ow)
                                    continue;
                                io->y[((n * g->m + m) * g->oh + oh) * g->ow + ow] +=
                                    xv * io->w[((c * g->mg + mm) * g->kh + kh) * g->kw + kw];
                            }
                        }
                    }
                }
            }
        }
    }

    if (io->act->kind == HIDP__ACT_NONE)
        return;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = s.c0; m < s.c1; m++)
            for (int64_t oh = s.h0; oh < s.h1; oh++)
                hidp__act_apply(io->act, io->y + ((n * g->m + m) * g->oh + oh) * g->ow,
                                (size_t)g->ow);
}
