/*
 * conv.h - Conv and ConvTranspose: parameters, geometry and the kernel variants.
 *
 * As in CMSIS-NN, one wrapper (ops/conv.c) picks a kernel by shape and each variant lives in its
 * own file:
 *   conv_1x1.c        1x1, stride 1, no padding (any group but depthwise): hidp's GEMM
 *                     (ops/sgemm.h) reading the input in place
 *   conv_depthwise.c  group == C (channel multiplier M/C >= 1): a direct kernel
 *   conv_winograd.c   3x3 stride-1 on maps of 14x14 and more: Winograd F(2x2, 3x3), 16 GEMMs
 *                     with 2.25x fewer multiply-adds
 *   conv_shifted.c    other convolutions: the GEMM reading a zero-padded (and for strides,
 *                     phase-split) copy of the input at shifted rows, no im2col
 *   conv_im2col.c     what conv_shifted cannot band (a single output row's band over 8x its
 *                     budget): the GEMM with B panels packed by im2col (ops/im2col.c)
 * The GEMM kinds take the transposed tile on small maps (hidp__conv_params.transposed) and a
 * residual (hidp__conv_io.res).
 *   conv_ref.c        the naive twins (Conv and ConvTranspose) the tests compare against
 *   conv_transpose.c  ConvTranspose: sgemm + col2im restricted to the slice
 *
 * 1-D convolutions ([N, C, L]) are run as 2-D ones with H = L and W = 1: the output's 4-D view
 * then has its L along h, so the executor's row slices are ranges of L, as for 2-D.
 *
 * Every kernel computes one slice (output channels [c0, c1), output rows [h0, h1), every batch
 * item), adds the bias (and residual) and applies the fused activation to what it wrote, and
 * allocates nothing.
 */
#ifndef HIDP_CONV_H
#define HIDP_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "op_util.h"
#include "sgemm.h"

/* Which kernel runs a Conv node (chosen at reshape). */
enum {
    HIDP__CONV_IM2COL = 0,
    HIDP__CONV_1X1,
    HIDP__CONV_DEPTHWISE,
    HIDP__CONV_SHIFTED,
    HIDP__CONV_WINOGRAD
};

/* auto_pad */
enum {
    HIDP__PAD_NOTSET = 0,
    HIDP__PAD_VALID,
    HIDP__PAD_SAME_UPPER,
    HIDP__PAD_SAME_LOWER
};

/* Everything a kernel needs to know about the shapes, resolved at reshape. */
typedef struct hidp__conv_geom {
    int64_t n, c, h, w;     /* input: batch, channels, rows, columns */
    int64_t m, oh, ow;      /* output channels, rows, columns */
    int64_t kh, kw;         /* kernel rows and columns */
    int64_t sh, sw, dh, dw; /* strides and dilations */
    int64_t pt, pl, pb, pr; /* pads top, left, bottom, right (ConvTranspose: may be negative
                               when output_shape asks for more than the natural size) */
    int64_t group;
    int64_t cg, mg;         /* input and output channels per group */
    int64_t band_rows;      /* depthwise: output rows per zero-padded input band */
    int64_t t_rows, t_chans; /* ConvTranspose: input rows and output channels per sgemm */
} hidp__conv_geom;

/* node->params of Conv and ConvTranspose. Attribute arrays keep their count (-1: absent) until
 * reshape knows the spatial rank. */
typedef struct hidp__conv_params {
    int transpose;
    int auto_pad;            /* HIDP__PAD_* */
    int n_kernel, n_strides, n_dilations, n_pads, n_out_pad, n_out_shape;
    int64_t kernel[2], strides[2], dilations[2], pads[4], out_pad[2], out_shape[4];
    int64_t group;
    int nsp;                 /* spatial dims of the input (1 or 2), set by reshape */
    int kind;                /* HIDP__CONV_*, Conv only */
    int resolved;            /* g is valid (reshape succeeded) */
    hidp__conv_geom g;
    /* GEMM kinds (1x1, im2col): W packed for kern at reshape, group after group, each
     * packed_group floats. */
    const hidp__sgemm_kernel *kern;
    float *packed;
    size_t packed_group;
    int transposed;          /* 1x1 / shifted on small maps: the transposed tile, weights packed
                                channel-major (hidp__sgemm_pack_wt) */
} hidp__conv_params;

/* The tensors of one call. b is NULL without bias. */
typedef struct hidp__conv_io {
    const float *x, *w, *b;
    float *y;
    const hidp__act *act;
    const hidp__conv_params *p; /* kern and packed weights, for the GEMM kinds */
    const float *res;           /* a residual laid out like y, added before the activation (a
                                   following Add fused at prepare: hidp__fuse_residual), or NULL */
} hidp__conv_io;

/* Kernel variants (one file each). scratch: hidp__conv_scratch(g, kind) floats. */
void hidp__conv_1x1(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                    float *scratch);
void hidp__conv_depthwise(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                          float *scratch);
void hidp__conv_im2col(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                       float *scratch);
void hidp__conv_shifted(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                        float *scratch);
void hidp__conv_winograd(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s,
                         float *scratch);
/* Whether g suits conv_winograd, its scratch in floats, and its weight transform + packing into
 * p->packed (16 matrices). (conv_winograd.c) */
int hidp__conv_winograd_fits(const hidp__conv_geom *g);
size_t hidp__conv_winograd_scratch(const hidp__conv_geom *g, const hidp__sgemm_kernel *kern);
int hidp__conv_winograd_pack(hidp__conv_params *p, const float *w, const hidp__sgemm_kernel *kern);
/* Whether g suits conv_shifted, and its scratch in floats. (conv_shifted.c) */
int hidp__conv_shifted_fits(const hidp__conv_geom *g);
size_t hidp__conv_shifted_scratch(const hidp__conv_geom *g, const hidp__sgemm_kernel *kern);
/* The naive twins, straight from the ONNX definitions (ops/conv_ref.c). The ConvTranspose one
 * scatters each input pixel, keeping only the outputs that fall in the slice. */
void hidp__conv_naive(const hidp__conv_geom *g, const hidp__conv_io *io, hidp__slice s);
void hidp__conv_transpose_naive(const hidp__conv_geom *g, const hidp__conv_io *io,
                                hidp__slice s);

/* Floats of scratch the kernel `kind` needs for any slice of g (kern: the GEMM's kernel); for
 * depthwise, also chooses g->band_rows (hidp__conv_depthwise_plan). */
size_t hidp__conv_scratch(hidp__conv_geom *g, int kind, const hidp__sgemm_kernel *kern);
/* Packs W for the GEMM kinds into p->packed (reallocated), for kern. ENOMEM on failure. */
int hidp__conv_pack_weights(hidp__conv_params *p, const float *w, const hidp__sgemm_kernel *kern);
/* Sets g->band_rows and returns the depthwise kernel's scratch in floats. (conv_depthwise.c) */
size_t hidp__conv_depthwise_plan(hidp__conv_geom *g);

/* Adds bias to len floats and applies act to them (the epilogue every kernel runs on the block
 * it has just written, while it is still in cache). */
void hidp__conv_epilogue(float *y, int64_t len, float bias, const hidp__act *act);

/* Attribute parsing shared by Conv and ConvTranspose (ops/conv.c): fills p from the node's
 * attributes and checks them. what is "conv" or "convtranspose", for messages. */
int hidp__conv_parse_attrs(const hidp__node *n, hidp__conv_params *p, const char *what,
                           hidp__err *err);
/* Resolves the attribute arrays for nsp spatial dims (1 or 2) into g's kernel, strides,
 * dilations and explicit pads (auto_pad is left to the caller). kh, kw: the weight's kernel. */
int hidp__conv_resolve_attrs(const hidp__node *n, const hidp__conv_params *p, const char *what,
                             int nsp, int64_t kh, int64_t kw, hidp__conv_geom *g, hidp__err *err);
/* "k3x3 s2 p1,1,1,1 d1 g1" */
void hidp__conv_format(const hidp__conv_params *p, char *buf, size_t len);

/* The output channels of group grp that fall in the slice's [c0, c1): [*lo, *hi). */
static inline void hidp__conv_group_span(const hidp__conv_geom *g, hidp__slice s, int64_t grp,
                                         int64_t *lo, int64_t *hi)
{
    *lo = hidp__clamp64(grp * g->mg, s.c0, s.c1);
    *hi = hidp__clamp64((grp + 1) * g->mg, s.c0, s.c1);
}


extern const hidp__op_def hidp__op_conv;
extern const hidp__op_def hidp__op_conv_transpose;

#endif
