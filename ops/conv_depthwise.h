/*
 * conv_depthwise.h - the depthwise kernel's band geometry, shared by its planner
 * (ops/conv_depthwise.c) and its per-instruction-set copies (ops/conv_depthwise_kernel.inc).
 */
#ifndef HIDP_CONV_DEPTHWISE_H
#define HIDP_CONV_DEPTHWISE_H

#include "conv.h"

/* Widest kernel and largest stride the depthwise kernel takes (its per-call tables); Conv's
 * reshape runs rarer shapes through the GEMM. */
#define HIDP__DW_MAX 32
/* Floats past a band that a row's last vector may read (the widest vector). */
#define HIDP__DW_SLACK 16

/* Scratch of one band of padded rows (plus, for stride 1, its wide output), in floats. The
 * bands are sized to stay within about 64 KB, in L2 while the taps sweep them. */
#ifndef HIDP__DW_BAND_FLOATS
#define HIDP__DW_BAND_FLOATS (16 * 1024)
#endif

/* Floats per column phase of a padded row, and per padded row (all phases). */
static inline int64_t phase_len(const hidp__conv_geom *g)
{
    return hidp__ceildiv(g->w + g->pl + g->pr, g->sw);
}
static inline int64_t row_pitch(const hidp__conv_geom *g)
{
    return g->sw * phase_len(g);
}
/* Padded input rows that nr output rows need. */
static inline int64_t band_in_rows(const hidp__conv_geom *g, int64_t nr)
{
    return (nr - 1) * g->sh + (g->kh - 1) * g->dh + 1;
}
static inline int64_t band_floats(const hidp__conv_geom *g, int64_t nr)
{
    int64_t f = band_in_rows(g, nr) * row_pitch(g);
    if (g->sh == 1 && g->sw == 1)
        f += nr * row_pitch(g); /* the wide output */
    return f;
}

/* Small planes on AVX-512 (ops/conv_depthwise_kernel.inc, dw_small): one output channel per
 * input channel, at most 25 taps, and at most this many output pixels a plane and twice as many
 * padded input pixels to gather (MobileNet-V2's stride-2 layer from 28x28 to 14x14 gathers 841
 * and ran no faster than by rows). */
#define HIDP__DW_SMALL_PIXELS 196
/* Padded input columns a row of outputs reads (the width dw_small gathers). */
static inline int64_t hidp__dw_small_width(const hidp__conv_geom *g)
{
    return (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
}
/* Padded input pixels a whole plane's outputs read. */
static inline int64_t hidp__dw_small_pixels(const hidp__conv_geom *g)
{
    return band_in_rows(g, g->oh) * hidp__dw_small_width(g);
}
static inline int hidp__dw_small(const hidp__conv_geom *g)
{
    return g->mg == 1 && g->cg == 1 && g->kh * g->kw <= 25 &&
           g->oh * g->ow <= HIDP__DW_SMALL_PIXELS &&
           hidp__dw_small_pixels(g) <= 2 * HIDP__DW_SMALL_PIXELS;
}
/* Its scratch: those pixels and the plane's output pixels, 16 channels each, and alignment. */
static inline int64_t hidp__dw_small_floats(const hidp__conv_geom *g)
{
    return (hidp__dw_small_pixels(g) + g->oh * g->ow) * 16 + 16;
}

/* The kernel compiled for each instruction set (same contract as hidp__conv_depthwise). */
void hidp__conv_depthwise_generic(const hidp__conv_geom *g, const hidp__conv_io *io,
                                  hidp__slice s, float *scratch);
#if HIDP_HAVE_X86_KERNELS
void hidp__conv_depthwise_avx2(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                               float *scratch);
void hidp__conv_depthwise_avx512(const hidp__conv_geom *g, const hidp__conv_io *io,
                                 hidp__slice s, float *scratch);
#endif

#endif
