/*
 * conv_depthwise.c - depthwise convolutions (group == C; output channel m reads input channel
 * m / (M/C), so channel multipliers > 1 work too) as a direct kernel: with one input channel per
 * output channel there is no reduction for a GEMM to exploit, and im2col would only copy.
 *
 * Borders: the input rows a band of output rows needs are first copied into scratch with their
 * zero padding made explicit, so no tap ever needs a bounds check. For stride > 1 each padded
 * row is stored split by column phase (padded column j*sw + f goes to phase f, position j), so
 * that every tap of an output row reads a unit-stride run. Then each vector of outputs of a row
 * is accumulated in a register over all its taps and stored once, with bias and ReLU / Clip
 * applied on the way (ops/conv_depthwise_kernel.inc, compiled once per instruction set).
 *
 * Measured on mobilenet_v2's layers (AVX-512 VM, one core): the earlier version, which swept the
 * band once per three taps through a memory accumulator, ran 3x3 stride-1 layers at 18 GFLOP/s
 * and stride-2 ones at 3-4; see the commit that replaced it for the new figures.
 */
#include <string.h>

#include "conv_depthwise.h"
#include "sgemm.h"

size_t hidp__conv_depthwise_plan(hidp__conv_geom *g)
{
    /* The largest band within the budget (band_floats grows with nr), at least one row. */
    int64_t lo = 1, hi = g->oh;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (band_floats(g, mid) <= HIDP__DW_BAND_FLOATS)
            lo = mid;
        else
            hi = mid - 1;
    }
    g->band_rows = lo;
    const int64_t bands = band_floats(g, lo) + HIDP__DW_SLACK;
    const int64_t small = hidp__dw_small(g) ? hidp__dw_small_floats(g) : 0;
    return (size_t)(bands > small ? bands : small);
}

void hidp__conv_depthwise(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                          float *scratch)
{
    /* The instruction set the GEMM runs with (the CPU's best, or HIDP_ISA's). */
    const char *isa = hidp__sgemm_best()->isa;
#if HIDP_HAVE_X86_KERNELS
    if (!strcmp(isa, "avx512")) {
        hidp__conv_depthwise_avx512(g, io, s, scratch);
        return;
    }
    if (!strcmp(isa, "avx2")) {
        hidp__conv_depthwise_avx2(g, io, s, scratch);
        return;
    }
#endif
    (void)isa;
    hidp__conv_depthwise_generic(g, io, s, scratch);
}
