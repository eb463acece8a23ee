/*
 * conv_im2col.c - the general convolution: for each group and each block of output pixels of the
 * slice, im2col the patches into scratch and run one sgemm,
 *   y[m_slice, block] = W[m_slice, K] x cols[K, block]    (K = C/group * kH * kW),
 * written in place into the output (ldc = OH*OW: the rows of one channel are contiguous, so a
 * row band is a contiguous range of each channel plane), then the epilogue (bias, activation)
 * on the block while it is in cache.
 *
 * Blocks are at most g->col_block pixels, so the scratch stays K * col_block floats whatever the
 * slice; the pixel range of a row slice is cut into equal blocks (no thin last block).
 */
#include <cblas.h>

#include "conv.h"
#include "im2col.h"

void hidp__conv_im2col(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                       float *scratch)
{
    const int64_t ohw = g->oh * g->ow, k = g->cg * g->kh * g->kw;
    const int64_t p_begin = s.h0 * g->ow, p_end = s.h1 * g->ow;
    if (s.c0 >= s.c1 || p_begin >= p_end)
        return;
    const int64_t total = p_end - p_begin;
    const int64_t block = hidp__conv_pixel_block(g, total);
    for (int64_t n = 0; n < g->n; n++) {
        /* Only the groups whose output channels meet [c0, c1). */
        for (int64_t grp = s.c0 / g->mg; grp * g->mg < s.c1; grp++) {
            int64_t m_lo, m_hi;
            hidp__conv_group_span(g, s, grp, &m_lo, &m_hi);
            const float *xg = io->x + (n * g->c + grp * g->cg) * g->h * g->w;
            const float *wg = io->w + m_lo * k;
            float *yg = io->y + (n * g->m + m_lo) * ohw;
            for (int64_t p0 = p_begin; p0 < p_end; p0 += block) {
                const int64_t np = p0 + block < p_end ? block : p_end - p0;
                hidp__im2col(g, xg, p0, p0 + np, scratch);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m_hi - m_lo),
                            (int)np, (int)k, 1.0f, wg, (int)k, scratch, (int)np, 0.0f, yg + p0,
                            (int)ohw);
                for (int64_t m = m_lo; m < m_hi; m++)
                    hidp__conv_epilogue(yg + (m - m_lo) * ohw + p0, np,
                                        io->b ? io->b[m] : 0.0f, io->act);
            }
        }
    }
}
