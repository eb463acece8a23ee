/*
 * conv_1x1.c - 1x1 convolutions with stride 1 and no padding: the input of one batch item is
 * already the [C, H*W] matrix im2col would build, so each group is one sgemm straight on it:
 * y[m_slice, pixels] = W[m_slice, C/group] x X[C/group, pixels]. No scratch.
 */
#include <cblas.h>

#include "conv.h"

void hidp__conv_1x1(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s)
{
    const int64_t hw = g->h * g->w; /* == oh * ow here */
    const int64_t p_begin = s.h0 * g->ow, p_end = s.h1 * g->ow;
    if (s.c0 >= s.c1 || p_begin >= p_end)
        return;
    /* The pixel range is cut into blocks so the epilogue finds each block still in cache. */
    const int64_t total = p_end - p_begin;
    const int64_t block = hidp__conv_pixel_block(g, total);
    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t grp = s.c0 / g->mg; grp * g->mg < s.c1; grp++) {
            int64_t m_lo, m_hi;
            hidp__conv_group_span(g, s, grp, &m_lo, &m_hi);
            const float *xg = io->x + (n * g->c + grp * g->cg) * hw;
            const float *wg = io->w + m_lo * g->cg;
            float *yg = io->y + (n * g->m + m_lo) * hw;
            for (int64_t p0 = p_begin; p0 < p_end; p0 += block) {
                const int64_t np = p0 + block < p_end ? block : p_end - p0;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m_hi - m_lo),
                            (int)np, (int)g->cg, 1.0f, wg, (int)g->cg, xg + p0, (int)hw, 0.0f,
                            yg + p0, (int)hw);
                for (int64_t m = m_lo; m < m_hi; m++)
                    hidp__conv_epilogue(yg + (m - m_lo) * hw + p0, np, io->b ? io->b[m] : 0.0f,
                                        io->act);
            }
        }
    }
}
