/*
 * im2col.h - the input patches of a range of output pixels, laid out directly as the packed B
 * panels hidp__sgemm consumes, so a convolution is one GEMM, out[M, pixels] = W[M, K] x
 * cols[K, pixels] (K = C/group * kH * kW), with no intermediate im2col matrix.
 */
#ifndef HIDP_IM2COL_H
#define HIDP_IM2COL_H

#include <stdint.h>

#include "conv.h"

/* The source of a packer call: one group's input channels of one batch item ([cg, h, w]) and
 * the first output pixel (p = oh * g->ow + ow) of the GEMM's column 0. */
typedef struct hidp__im2col_src {
    const hidp__conv_geom *g;
    const float *x;
    int64_t p0;
} hidp__im2col_src;

/* A hidp__sgemm_pack_b_fn: rows [k0, k0 + kc) (row k = (c, kh, kw)) and columns [n0, n0 + nc)
 * (output pixels p0 + n0 ...) of the patch matrix: each column holds the input values its
 * pixel's taps read, 0 where a tap falls in the padding. Only the input rows those output rows
 * need are read. */
void hidp__im2col_pack(const void *src, int64_t k0, int64_t kc, int64_t n0, int64_t nc, int nr,
                       float *dst);

#endif
