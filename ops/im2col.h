/*
 * im2col.h - lays out the input patches of a block of output pixels as the columns of a matrix,
 * so a convolution becomes one sgemm: out[M, pixels] = W[M, K] x cols[K, pixels].
 */
#ifndef HIDP_IM2COL_H
#define HIDP_IM2COL_H

#include <stdint.h>

#include "conv.h"

/* Writes cols, a row-major [g->cg * g->kh * g->kw, p1 - p0] matrix: row (c, kh, kw) holds, for
 * each output pixel p in [p0, p1) (p = oh * g->ow + ow), the input value its tap (kh, kw) of
 * channel c reads, or 0 where the tap falls in the padding. x points at the first of the
 * group's g->cg input channels of one batch item ([cg, h, w]). The block may start and end in
 * the middle of an output row; only the input rows those output rows need are read. */
void hidp__im2col(const hidp__conv_geom *g, const float *x, int64_t p0, int64_t p1, float *cols);

#endif
