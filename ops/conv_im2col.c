/*
 * conv_im2col.c - the general convolution: for each group, one GEMM
 *   y[m_slice, pixels] = W[m_slice, K] x cols[K, pixels]    (K = C/group * kH * kW)
 * whose B panels hidp__im2col_pack builds straight from the input, block by block inside the
 * GEMM, so the patch matrix never exists whole. The output is written in place (ldc = OH*OW: the
 * rows of one channel are contiguous, so a row band is a contiguous range of each channel
 * plane), bias and activation applied in the GEMM's epilogue.
 */
#include "conv.h"
#include "im2col.h"

void hidp__conv_im2col(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                       float *scratch)
{
    const int64_t ohw = g->oh * g->ow, k = g->cg * g->kh * g->kw;
    const int64_t p_begin = s.h0 * g->ow, p_end = s.h1 * g->ow;
    if (s.c0 >= s.c1 || p_begin >= p_end)
        return;
    for (int64_t n = 0; n < g->n; n++) {
        /* Only the groups whose output channels meet [c0, c1). */
        for (int64_t grp = s.c0 / g->mg; grp * g->mg < s.c1; grp++) {
            int64_t m_lo, m_hi;
            hidp__conv_group_span(g, s, grp, &m_lo, &m_hi);
            const int64_t m_base = grp * g->mg;
            const hidp__im2col_src src = {g, io->x + (n * g->c + grp * g->cg) * g->h * g->w,
                                          p_begin};
            const hidp__sgemm_call call = {
                .kern = io->p->kern, .m = g->mg, .n = p_end - p_begin, .k = k,
                .a_packed = io->p->packed + (size_t)grp * io->p->packed_group,
                .pack_b = hidp__im2col_pack, .b_src = &src,
                .c = io->y + (n * g->m + m_base) * ohw + p_begin, .ldc = ohw,
                .res = io->res ? io->res + (n * g->m + m_base) * ohw + p_begin : NULL,
                .bias = io->b ? io->b + m_base : NULL, .act = io->act};
            hidp__sgemm(&call, m_lo - m_base, m_hi - m_base, scratch);
        }
    }
}
