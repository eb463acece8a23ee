/*
 * conv_1x1.c - 1x1 convolutions with stride 1 and no padding: the input of one batch item is
 * already the [C, H*W] matrix im2col would build, so each group is one GEMM that reads B in
 * place: y[m_slice, pixels] = W[m_slice, C/group] x X[C/group, pixels]. (Reading in place beat
 * packing B by 3-10% on 64-row GEMMs, where a packed panel serves only 8 tiles.)
 */
#include "conv.h"
#include "prefetch.h"

/* A worker given part of the output channels reads all of the input, part of which another
 * core has just written: the GEMM reads it at the stride of a channel's plane, a line at a time
 * (the transposed tile: a line per input channel for every 7 pixels), and lines another core
 * holds then arrive one by one. Read in order first, they stream in. On the Intel VM, ResNet-50's
 * 1x1 reductions on 14x14 maps split by channels between two equal cores went from 0.53 to 0.45
 * ms, the model from 36.2 to 35.0 ms (medians of four runs, alternating); one core alone, which
 * takes every channel, never does this. */
static void pull_input(const hidp__conv_geom *g, const float *x, int64_t p_begin, int64_t p_end)
{
    const int64_t hw = g->h * g->w;
    unsigned bits = 0;
    for (int64_t n = 0; n < g->n; n++) {
        const float *xn = x + n * g->c * hw;
        if (p_begin == 0 && p_end == hw) /* the planes follow each other */
            bits |= hidp__pull_in(xn, g->c * hw);
        else
            for (int64_t c = 0; c < g->c; c++)
                bits |= hidp__pull_in(xn + c * hw + p_begin, p_end - p_begin);
    }
    /* the bits are used, so the reads stay (rather than stored where every worker stores) */
    __asm__ volatile("" ::"r"(bits));
}

void hidp__conv_1x1(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                    float *scratch)
{
    const int64_t hw = g->h * g->w; /* == oh * ow here */
    const int64_t p_begin = s.h0 * g->ow, p_end = s.h1 * g->ow;
    if (s.c0 >= s.c1 || p_begin >= p_end)
        return;
    if ((s.c0 > 0 || s.c1 < g->m) && g->group == 1)
        pull_input(g, io->x, p_begin, p_end);
    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t grp = s.c0 / g->mg; grp * g->mg < s.c1; grp++) {
            int64_t m_lo, m_hi;
            hidp__conv_group_span(g, s, grp, &m_lo, &m_hi);
            const int64_t m_base = grp * g->mg;
            const hidp__sgemm_matrix b = {io->x + (n * g->c + grp * g->cg) * hw + p_begin, hw};
            const hidp__sgemm_call call = {
                .kern = io->p->kern, .m = g->mg, .n = p_end - p_begin, .k = g->cg,
                .a_packed = io->p->packed + (size_t)grp * io->p->packed_group,
                .b_src = &b, /* read in place */
                .c = io->y + (n * g->m + m_base) * hw + p_begin, .ldc = hw,
                .res = io->res ? io->res + (n * g->m + m_base) * hw + p_begin : NULL,
                .bias = io->b ? io->b + m_base : NULL, .act = io->act,
                .transposed = io->p->transposed};
            hidp__sgemm(&call, m_lo - m_base, m_hi - m_base, scratch);
        }
    }
}
