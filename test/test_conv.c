/*
 * test_conv.c - Conv and ConvTranspose: every kernel variant against its naive twin on odd
 * shapes (whole, in channel slices and in row slices), checks that one slice writes exactly its
 * own elements, hand-computed cases that check the twins themselves (and the pad arithmetic they
 * share), the kernel choice, the shape and attribute errors, describe(), and a GFLOP/s
 * diagnostic (printed, not asserted).
 */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../ops/conv.h"
#include "optest.h"

/* ---- building one Conv / ConvTranspose node ---- */

typedef struct conv_case {
    const char *what;
    int64_t n, c, h, w;     /* input; w = 0: a 1-D input [n, c, h] */
    int64_t m, kh, kw;      /* output channels, kernel */
    int64_t sh, sw, dh, dw; /* 0 = attribute absent */
    int64_t pads[4];        /* top, left, bottom, right; used when has_pads */
    int has_pads;
    int64_t group;          /* 0 = attribute absent */
    const char *auto_pad;   /* NULL = absent */
    int bias;
    int act;                /* HIDP__ACT_* */
    float alpha, beta;
    int kind;               /* expected HIDP__CONV_*, or -1 */
    /* ConvTranspose only */
    int64_t out_pad[2];
    int64_t out_shape[2];   /* {0, 0} = absent */
} conv_case;

/* Builds the node of cc (op "Conv" or "ConvTranspose") in t and prepares it. */
static int build(optest *t, const conv_case *cc, int transpose)
{
    const int one_d = cc->w == 0;
    const int64_t group = cc->group ? cc->group : 1;
    int64_t xd[4] = {cc->n, cc->c, cc->h, cc->w};
    int64_t wd[4];
    if (transpose) {
        wd[0] = cc->c;
        wd[1] = cc->m / group;
    } else {
        wd[0] = cc->m;
        wd[1] = cc->c / group;
    }
    wd[2] = cc->kh;
    wd[3] = cc->kw;
    int in[3];
    in[0] = optest_input(t, "x", one_d ? 3 : 4, xd, 1);
    in[1] = optest_const(t, "w", one_d ? 3 : 4, wd, 2);
    if (cc->bias)
        in[2] = optest_const(t, "b", 1, &cc->m, 3);
    hidp__node *n = optest_node(t, transpose ? "ConvTranspose" : "Conv", in, cc->bias ? 3 : 2);
    const int nsp = one_d ? 1 : 2;
    if (cc->sh) {
        int64_t v[2] = {cc->sh, cc->sw};
        hidp__node_set_ints(n, "strides", v, nsp);
    }
    if (cc->dh) {
        int64_t v[2] = {cc->dh, cc->dw};
        hidp__node_set_ints(n, "dilations", v, nsp);
    }
    if (cc->has_pads) {
        int64_t v[4] = {cc->pads[0], cc->pads[1], cc->pads[2], cc->pads[3]};
        if (one_d) {
            v[1] = cc->pads[2];
        }
        hidp__node_set_ints(n, "pads", v, 2 * nsp);
    }
    if (cc->group)
        hidp__node_set_int(n, "group", cc->group);
    if (cc->auto_pad)
        hidp__node_set_string(n, "auto_pad", cc->auto_pad);
    if (cc->out_pad[0] || cc->out_pad[1])
        hidp__node_set_ints(n, "output_padding", cc->out_pad, nsp);
    if (cc->out_shape[0])
        hidp__node_set_ints(n, "output_shape", cc->out_shape, nsp);
    /* kernel_shape is optional; give it on every other case so both ways are exercised. */
    if (cc->kh % 2) {
        int64_t k[2] = {cc->kh, cc->kw};
        hidp__node_set_ints(n, "kernel_shape", k, nsp);
    }
    n->act.kind = cc->act;
    n->act.alpha = cc->alpha;
    n->act.beta = cc->beta;
    return optest_prepare(t);
}

/* Runs the middle third (channels, or rows) of the output as one slice, with the optimized and
 * the reference kernel, on a NaN-filled output, and checks each writes its slice and nothing
 * else: the executor runs slices side by side, so a kernel writing outside its slice (even the
 * right values) would race with its neighbour. */
static int slice_confined(optest *t, int rows)
{
    const hidp__node *n = &t->g.nodes[t->node];
    const hidp__value *y = &t->g.vals[n->out[0]];
    const hidp__view4 v = hidp__shape_view4(&y->shape);
    const int64_t count = hidp__shape_count(&y->shape);
    hidp__slice s = hidp__slice_all(&t->g, n);
    const int64_t total = rows ? s.h1 : s.c1;
    int64_t lo = total / 3, hi = 2 * total / 3;
    if (hi == lo)
        hi = lo + 1;
    if (rows) {
        s.h0 = lo;
        s.h1 = hi;
    } else {
        s.c0 = lo;
        s.c1 = hi;
    }
    float *out = y->data;
    for (int ref = 0; ref < 2; ref++) {
        for (int64_t i = 0; i < count; i++)
            out[i] = NAN;
        optest_run_slice(t, s, ref);
        for (int64_t i = 0; i < count; i++) {
            const int64_t c = i / (v.h * v.w) % v.c, h = i / v.w % v.h;
            const int inside = c >= s.c0 && c < s.c1 && h >= s.h0 && h < s.h1;
            if (inside == (out[i] != out[i])) {
                tap_diag("  %s kernel: element %lld (channel %lld, row %lld) is %s",
                         ref ? "reference" : "optimized", (long long)i, (long long)c,
                         (long long)h, inside ? "not written" : "written outside the slice");
                return 0;
            }
        }
    }
    return 1;
}

static void run_case(const conv_case *cc, int transpose)
{
    optest t;
    optest_init(&t);
    int rc = build(&t, cc, transpose);
    if (!tap_ok(rc == 0, "%s: prepare", cc->what)) {
        tap_diag("  rc %d: %s", rc, t.err.msg);
        optest_free(&t);
        return;
    }
    const hidp__node *n = &t.g.nodes[t.node];
    const hidp__conv_params *p = n->params;
    if (!transpose && cc->kind >= 0)
        TAP_EQ_INT(p->kind, cc->kind, "%s: kernel variant", cc->what);
    if (!transpose && strstr(cc->what, "transposed tile")) {
        if (hidp__sgemm_best()->tile_t)
            TAP_EQ_INT(p->transposed, 1, "%s: runs on the transposed tile", cc->what);
        else
            tap_skip("this kernel has no transposed tile", "%s: transposed tile", cc->what);
    }
    optest_check(&t, cc->what);
    tap_ok(slice_confined(&t, 0), "%s: a channel slice writes exactly its elements", cc->what);
    tap_ok(slice_confined(&t, 1), "%s: a row slice writes exactly its elements", cc->what);
    optest_free(&t);
}

/* Shorthands for the case tables. */
#define S(a, b) a, b
#define NOPAD {0, 0, 0, 0}, 0
#define PADS(t, l, b, r) {t, l, b, r}, 1
#define RELU HIDP__ACT_RELU, 0.0f, 0.0f
#define CLIP HIDP__ACT_CLIP, -0.5f, 0.5f
#define CLIP6 HIDP__ACT_CLIP, 0.0f, 6.0f
#define NOACT HIDP__ACT_NONE, 0.0f, 0.0f
#define IM2COL HIDP__CONV_IM2COL
#define SHIFTED HIDP__CONV_SHIFTED
#define WINOGRAD HIDP__CONV_WINOGRAD
#define K1X1 HIDP__CONV_1X1
#define DW HIDP__CONV_DEPTHWISE

static const conv_case conv_cases[] = {
    /* what, n c h w, m kh kw, sh sw dh dw, pads, group, auto_pad, bias, act, kind */
    {"c1 m1 7x9 k3 p1", 1, 1, 7, 9, 1, 3, 3, S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1,
     NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 7x9 k3 p1 relu", 1, 3, 7, 9, 17, 3, 3, S(0, 0), S(0, 0), PADS(1, 1, 1, 1), 1, NULL,
     1, RELU, SHIFTED, {0}, {0}},
    {"c17 m33 33x31 k3 s2 p1", 1, 17, 33, 31, 33, 3, 3, S(2, 2), S(1, 1), PADS(1, 1, 1, 1), 0,
     NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"c17 m33 33x33 k5 p2 clip", 1, 17, 33, 33, 33, 5, 5, S(1, 1),
     S(1, 1), PADS(2, 2, 2, 2), 0, NULL, 1, CLIP, SHIFTED, {0}, {0}},
    /* 64 * 42 padded floats per row: bands of 22 output rows, so a row slice spans bands */
    {"c64 m20 40x40 k5 p2 relu (shifted, several bands)", 1, 64, 40, 40, 20, 5, 5, S(1, 1),
     S(1, 1), PADS(2, 2, 2, 2), 0, NULL, 1, RELU, SHIFTED, {0}, {0}},
    /* maps of at most 14x14 whose rows split into runs of 7 pixels: the transposed tile (AVX-512;
     * other kernels run these through the usual tiles) */
    {"c64 m40 7x7 k3 p1 relu (shifted, transposed tile)", 1, 64, 7, 7, 40, 3, 3, S(1, 1),
     S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, RELU, SHIFTED, {0}, {0}},
    {"c520 m33 14x14 k1 clip (1x1, transposed tile)", 1, 520, 14, 14, 33, 1, 1, S(1, 1),
     S(1, 1), PADS(0, 0, 0, 0), 0, NULL, 1, CLIP, K1X1, {0}, {0}},
    {"c64 m48 14x28 k3 s2 p1 batch 2 (shifted strided, transposed tile)", 2, 64, 14, 28, 48, 3,
     3, S(2, 2), S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, NOACT, SHIFTED, {0}, {0}},
    /* Winograd F(2x2, 3x3): 3x3 stride 1 on maps of 14x14 pixels and more */
    {"c64 m20 40x40 k3 p1 relu (winograd, 2 blocks)", 1, 64, 40, 40, 20, 3, 3, S(1, 1),
     S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, RELU, WINOGRAD, {0}, {0}},
    {"c9 m11 29x31 k3 p1 (winograd, odd map)", 1, 9, 29, 31, 11, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 0, NULL, 1, NOACT, WINOGRAD, {0}, {0}},
    {"c16 m24 30x30 k3 clip (winograd, no padding)", 1, 16, 30, 30, 24, 3, 3, S(1, 1),
     S(1, 1), PADS(0, 0, 0, 0), 0, NULL, 1, CLIP, WINOGRAD, {0}, {0}},
    {"c8 m8 30x29 k3 pads 2,0,0,1 (winograd, asymmetric)", 1, 8, 30, 29, 8, 3, 3, S(1, 1),
     S(1, 1), PADS(2, 0, 0, 1), 0, NULL, 1, RELU, WINOGRAD, {0}, {0}},
    {"c8 m70 28x28 k3 p1 batch 2 (winograd, channel chunks)", 2, 8, 28, 28, 70, 3, 3,
     S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, NOACT, WINOGRAD, {0}, {0}},
    {"c5 m9 30x30 k3 s2 p1 (shifted, strided)", 1, 5, 30, 30, 9, 3, 3, S(2, 2),
     S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, NOACT, SHIFTED, {0}, {0}},
    /* a band of one output row would pass 8 x 64K floats: im2col, in several pixel blocks */
    {"c300 m3 3x900 k3 p1 (im2col, several pixel blocks)", 1, 300, 3, 900, 3, 3, 3, S(1, 1),
     S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, RELU, IM2COL, {0}, {0}},
    {"c3 m17 1x1 input k1", 1, 3, 1, 1, 17, 1, 1, S(1, 1), S(1, 1), NOPAD, 0, NULL, 1, NOACT,
     K1X1, {0}, {0}},
    {"c17 m33 7x9 k1 fast path clip", 1, 17, 7, 9, 33, 1, 1, S(0, 0), S(0, 0), NOPAD, 0, NULL,
     1, CLIP, K1X1, {0}, {0}},
    {"c17 m33 33x33 k1 batch 2 relu", 2, 17, 33, 33, 33, 1, 1, S(1, 1), S(2, 2), NOPAD, 0, NULL,
     0, RELU, K1X1, {0}, {0}},
    {"c18 m34 7x9 k1 group 2", 1, 18, 7, 9, 34, 1, 1, S(1, 1), S(1, 1), NOPAD, 2, NULL, 1,
     NOACT, K1X1, {0}, {0}},
    {"c17 m33 7x9 k1 s2 (shifted, one phase read)", 1, 17, 7, 9, 33, 1, 1, S(2, 2), S(1, 1), NOPAD, 0,
     NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"c17 m33 7x9 k1 p1 (no fast path)", 1, 17, 7, 9, 33, 1, 1, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 0, NULL, 0, NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 33x31 k5 s1 p2", 1, 3, 33, 31, 17, 5, 5, S(1, 1), S(1, 1), PADS(2, 2, 2, 2), 0,
     NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"c17 m17 7x9 k3x1 p1,0", 1, 17, 7, 9, 17, 3, 1, S(1, 1), S(1, 1), PADS(1, 0, 1, 0), 0,
     NULL, 1, RELU, SHIFTED, {0}, {0}},
    {"c3 m17 33x33 k7 s2 p3 relu (stem)", 1, 3, 33, 33, 17, 7, 7, S(2, 2), S(1, 1),
     PADS(3, 3, 3, 3), 0, NULL, 1, RELU, SHIFTED, {0}, {0}},
    {"c3 m3 33x31 k3 s3", 1, 3, 33, 31, 3, 3, 3, S(3, 3), S(1, 1), NOPAD, 0, NULL, 0, NOACT,
     SHIFTED, {0}, {0}},
    {"c17 m17 7x9 k3 d2 p2", 1, 17, 7, 9, 17, 3, 3, S(1, 1), S(2, 2), PADS(2, 2, 2, 2), 0, NULL,
     1, NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 33x33 k3 s2x1 d2x1 p2,1,1,0", 1, 3, 33, 33, 17, 3, 3, S(2, 1), S(2, 1),
     PADS(2, 1, 1, 0), 0, NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 7x9 k3 pads 0,1,2,0", 1, 3, 7, 9, 17, 3, 3, S(1, 1), S(1, 1), PADS(0, 1, 2, 0), 0,
     NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"c18 m34 7x9 k3 p1 group 2", 1, 18, 7, 9, 34, 3, 3, S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 2,
     NULL, 1, RELU, SHIFTED, {0}, {0}},
    {"c18 m34 33x33 k3 s2 group 2 batch 2", 2, 18, 33, 33, 34, 3, 3, S(2, 2), S(1, 1),
     PADS(1, 1, 1, 1), 2, NULL, 0, NOACT, SHIFTED, {0}, {0}},
    {"c18 m18 7x9 k3 group 3", 1, 18, 7, 9, 18, 3, 3, S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 3,
     NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 8x9 k3 s2 SAME_UPPER", 1, 3, 8, 9, 17, 3, 3, S(2, 2), S(1, 1), NOPAD, 0,
     "SAME_UPPER", 1, NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 8x9 k3 s2 SAME_LOWER", 1, 3, 8, 9, 17, 3, 3, S(2, 2), S(1, 1), NOPAD, 0,
     "SAME_LOWER", 1, NOACT, SHIFTED, {0}, {0}},
    {"c3 m5 7x9 k2 SAME_UPPER (odd pad)", 1, 3, 7, 9, 5, 2, 2, S(1, 1), S(1, 1), NOPAD, 0,
     "SAME_UPPER", 0, NOACT, SHIFTED, {0}, {0}},
    {"c3 m5 7x9 k2 SAME_LOWER (odd pad)", 1, 3, 7, 9, 5, 2, 2, S(1, 1), S(1, 1), NOPAD, 0,
     "SAME_LOWER", 0, NOACT, SHIFTED, {0}, {0}},
    {"c3 m17 33x31 k5 s2 VALID", 1, 3, 33, 31, 17, 5, 5, S(2, 2), S(1, 1), PADS(9, 9, 9, 9), 0,
     "VALID", 1, NOACT, SHIFTED, {0}, {0}},
    {"c17 m33 7x9 k3 p1 batch 2 clip6", 2, 17, 7, 9, 33, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 0, NULL, 1, CLIP6, SHIFTED, {0}, {0}},
    /* depthwise */
    {"dw c17 7x9 k3 p1 relu", 1, 17, 7, 9, 17, 3, 3, S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 17,
     NULL, 1, RELU, DW, {0}, {0}},
    {"dw c17 33x31 k3 s2 p1 batch 2", 2, 17, 33, 31, 17, 3, 3, S(2, 2), S(1, 1),
     PADS(1, 1, 1, 1), 17, NULL, 1, NOACT, DW, {0}, {0}},
    {"dw c17 33x33 k5 s2 pads 0,1,2,0 clip", 1, 17, 33, 33, 17, 5, 5, S(2, 2), S(1, 1),
     PADS(0, 1, 2, 0), 17, NULL, 1, CLIP, DW, {0}, {0}},
    {"dw c17 m34 (multiplier 2) 7x9 k3 p1", 1, 17, 7, 9, 34, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 17, NULL, 1, NOACT, DW, {0}, {0}},
    {"dw c3 33x33 k3 d2 p2", 1, 3, 33, 33, 3, 3, 3, S(1, 1), S(2, 2), PADS(2, 2, 2, 2), 3, NULL,
     0, NOACT, DW, {0}, {0}},
    {"dw c3 1x1 input k7 p3", 1, 3, 1, 1, 3, 7, 7, S(1, 1), S(1, 1), PADS(3, 3, 3, 3), 3, NULL,
     1, NOACT, DW, {0}, {0}},
    {"dw c17 33x31 k3 s3 SAME_UPPER", 1, 17, 33, 31, 17, 3, 3, S(3, 3), S(1, 1), NOPAD, 17,
     "SAME_UPPER", 1, NOACT, DW, {0}, {0}},
    {"dw c17 64x40 k3 s1 p1 (long rows)", 1, 17, 64, 40, 17, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 17, NULL, 1, RELU, DW, {0}, {0}},
    {"dw c3 100x200 k3 p1 (several bands)", 1, 3, 100, 200, 3, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 3, NULL, 1, RELU, DW, {0}, {0}},
    {"dw c2 100x200 k3 s2 p1 (several bands)", 1, 2, 100, 200, 2, 3, 3, S(2, 2), S(1, 1),
     PADS(1, 1, 1, 1), 2, NULL, 1, NOACT, DW, {0}, {0}},
    {"dw c5 33x31 k3 s1x2 d2x1 p2,1,1,2", 1, 5, 33, 31, 5, 3, 3, S(1, 2), S(2, 1),
     PADS(2, 1, 1, 2), 5, NULL, 1, NOACT, DW, {0}, {0}},
    {"dw c5 m10 17x33 k5 s3x2 d1x2 p2", 1, 5, 17, 33, 10, 5, 5, S(3, 2), S(1, 2),
     PADS(2, 2, 2, 2), 5, NULL, 1, CLIP, DW, {0}, {0}},
    /* stride 1 with unequal pads, rows of 1-3 vectors; rows of 32 with a pad of 1, whose last
     * tap of column 31 reads the row's last column (one column further is the next row's) */
    {"dw c17 21x37 k5 p2,1,0,3 relu", 1, 17, 21, 37, 17, 5, 5, S(1, 1), S(1, 1),
     PADS(2, 1, 0, 3), 17, NULL, 1, RELU, DW, {0}, {0}},
    {"dw c6 m12 11x32 k3 p1 batch 2", 2, 6, 11, 32, 12, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 6, NULL, 0, CLIP6, DW, {0}, {0}},
    /* rows of 14, 13 and 6 (MobileNet's 14x14 planes; copies and stores ending 6, 5 and 2
     * floats past a whole vector, done piecewise on AVX2) */
    {"dw c4 14x14 k3 p1 clip6", 1, 4, 14, 14, 4, 3, 3, S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 4,
     NULL, 1, CLIP6, DW, {0}, {0}},
    {"dw c4 13x13 k3 s2 p1", 1, 4, 13, 13, 4, 3, 3, S(2, 2), S(1, 1), PADS(1, 1, 1, 1), 4, NULL,
     1, NOACT, DW, {0}, {0}},
    {"dw c4 6x6 k3 p1", 1, 4, 6, 6, 4, 3, 3, S(1, 1), S(1, 1), PADS(1, 1, 1, 1), 4, NULL, 1,
     RELU, DW, {0}, {0}},
    /* small planes on AVX-512: 16 channels a vector, the last block partial */
    {"dw c40 14x14 k3 p1 clip6 (small planes)", 1, 40, 14, 14, 40, 3, 3, S(1, 1), S(1, 1),
     PADS(1, 1, 1, 1), 40, NULL, 1, CLIP6, DW, {0}, {0}},
    {"dw c20 9x8 k5 d2 p4,3,2,1 batch 2 (small planes)", 2, 20, 9, 8, 20, 5, 5, S(1, 1),
     S(2, 2), PADS(4, 3, 2, 1), 20, NULL, 0, NOACT, DW, {0}, {0}},
    {"dw c33 15x13 k5 s2 p2 relu (small planes)", 1, 33, 15, 13, 33, 5, 5, S(2, 2), S(1, 1),
     PADS(2, 2, 2, 2), 33, NULL, 1, RELU, DW, {0}, {0}},
    /* past HIDP__DW_MAX: depthwise through the GEMM (one channel per group) */
    {"dw c2 9x40 k1x35 p0,3 (wide kernel)", 1, 2, 9, 40, 2, 1, 35, S(1, 1), S(1, 1),
     PADS(0, 3, 0, 3), 2, NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"dw c2 7x70 k3 s1x33 (huge stride)", 1, 2, 7, 70, 2, 3, 3, S(1, 33), S(1, 1),
     PADS(1, 1, 1, 1), 2, NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"dw c3 9x40 k1x32 p0,3 s1x32 (widest direct)", 1, 3, 9, 40, 3, 1, 32, S(1, 32), S(1, 1),
     PADS(0, 3, 0, 3), 3, NULL, 1, RELU, DW, {0}, {0}},
    /* 1-D: [N, C, L] */
    {"1-D c3 m5 L17 k3 s2 p1,2", 2, 3, 17, 0, 5, 3, 1, S(2, 1), S(1, 1), PADS(1, 0, 2, 0), 0,
     NULL, 1, NOACT, SHIFTED, {0}, {0}},
    {"1-D dw c4 L33 k5 d2 SAME_LOWER", 1, 4, 33, 0, 4, 5, 1, S(1, 1), S(2, 1), NOPAD, 4,
     "SAME_LOWER", 0, RELU, DW, {0}, {0}},
};

static const conv_case convt_cases[] = {
    {"convT c3 m5 7x9 k3", 1, 3, 7, 9, 5, 3, 3, S(1, 1), S(1, 1), NOPAD, 0, NULL, 0, NOACT, -1,
     {0, 0}, {0, 0}},
    {"convT c17 m3 7x9 k3 s2 p1 outpad 1 relu", 1, 17, 7, 9, 3, 3, 3, S(2, 2), S(1, 1),
     PADS(1, 1, 1, 1), 0, NULL, 1, RELU, -1, {1, 1}, {0, 0}},
    {"convT c17 m17 7x9 k4 s2 p1 (upsample)", 1, 17, 7, 9, 17, 4, 4, S(2, 2), S(1, 1),
     PADS(1, 1, 1, 1), 0, NULL, 1, NOACT, -1, {0, 0}, {0, 0}},
    {"convT c4 m6 group 2 7x9 k3 s2 batch 2", 2, 4, 7, 9, 6, 3, 3, S(2, 2), S(1, 1),
     PADS(0, 1, 2, 0), 2, NULL, 1, CLIP, -1, {0, 0}, {0, 0}},
    {"convT c3 m3 group 3 7x9 k3 s2", 1, 3, 7, 9, 3, 3, 3, S(2, 2), S(1, 1), PADS(1, 1, 1, 1), 3,
     NULL, 1, NOACT, -1, {1, 0}, {0, 0}},
    {"convT c3 m5 7x9 k3 s2 d2", 1, 3, 7, 9, 5, 3, 3, S(2, 2), S(2, 2), PADS(1, 2, 0, 1), 0,
     NULL, 1, NOACT, -1, {0, 0}, {0, 0}},
    {"convT c3 m5 7x9 k3 s3x2 outpad 2,1", 1, 3, 7, 9, 5, 3, 3, S(3, 2), S(1, 1), NOPAD, 0,
     NULL, 0, NOACT, -1, {2, 1}, {0, 0}},
    {"convT c3 m5 7x9 k3 s2 output_shape 14x18", 1, 3, 7, 9, 5, 3, 3, S(2, 2), S(1, 1), NOPAD,
     0, NULL, 1, NOACT, -1, {0, 0}, {14, 18}},
    {"convT c3 m5 7x9 k3 s2 output_shape 16x20 (beyond natural)", 1, 3, 7, 9, 5, 3, 3, S(2, 2),
     S(1, 1), NOPAD, 0, NULL, 1, NOACT, -1, {0, 0}, {16, 20}},
    {"convT c3 m5 7x9 k3 s2 SAME_UPPER", 1, 3, 7, 9, 5, 3, 3, S(2, 2), S(1, 1), NOPAD, 0,
     "SAME_UPPER", 1, NOACT, -1, {0, 0}, {0, 0}},
    {"convT c3 m5 7x9 k3 s2 SAME_LOWER", 1, 3, 7, 9, 5, 3, 3, S(2, 2), S(1, 1), NOPAD, 0,
     "SAME_LOWER", 1, NOACT, -1, {0, 0}, {0, 0}},
    {"convT c17 m33 1x1 input k3", 1, 17, 1, 1, 33, 3, 3, S(1, 1), S(1, 1), NOPAD, 0, NULL, 1,
     NOACT, -1, {0, 0}, {0, 0}},
    {"convT c3 m64 33x33 k3 s2 p1 (several sgemm channel blocks)", 1, 3, 33, 33, 64, 3, 3,
     S(2, 2), S(1, 1), PADS(1, 1, 1, 1), 0, NULL, 1, NOACT, -1, {1, 1}, {0, 0}},
    {"convT 1-D c3 m5 L17 k4 s2 p1", 2, 3, 17, 0, 5, 4, 1, S(2, 1), S(1, 1), PADS(1, 0, 1, 0), 0,
     NULL, 1, RELU, -1, {0, 0}, {0, 0}},
};

/* ---- hand-computed cases: the twins themselves against numbers worked out on paper ---- */

static void hand_case(const char *what, const char *op, const int64_t *xd, const float *xv,
                      const int64_t *wd, const float *wv, const float *bias, const int64_t *strides,
                      const int64_t *pads, const char *auto_pad, const int64_t *out_shape,
                      const int64_t *yd, const float *want)
{
    optest t;
    optest_init(&t);
    int in[3];
    in[0] = optest_input(&t, "x", 4, xd, 1);
    memcpy(t.g.vals[in[0]].data, xv, (size_t)(xd[0] * xd[1] * xd[2] * xd[3]) * sizeof(float));
    in[1] = optest_const_f32(&t, "w", 4, wd, wv);
    if (bias) {
        int64_t m = strcmp(op, "Conv") ? wd[1] : wd[0];
        in[2] = optest_const_f32(&t, "b", 1, &m, bias);
    }
    hidp__node *n = optest_node(&t, op, in, bias ? 3 : 2);
    if (strides)
        hidp__node_set_ints(n, "strides", strides, 2);
    if (pads)
        hidp__node_set_ints(n, "pads", pads, 4);
    if (auto_pad)
        hidp__node_set_string(n, "auto_pad", auto_pad);
    if (out_shape)
        hidp__node_set_ints(n, "output_shape", out_shape, 2);
    int rc = optest_prepare(&t);
    if (!tap_ok(rc == 0, "%s: prepare", what)) {
        tap_diag("  %s", t.err.msg);
        optest_free(&t);
        return;
    }
    const hidp__value *y = &t.g.vals[n->out[0]];
    int shape_ok = y->shape.ndim == 4;
    for (int i = 0; i < 4 && shape_ok; i++)
        shape_ok = y->shape.d[i] == yd[i];
    if (!tap_ok(shape_ok, "%s: output shape", what)) {
        optest_free(&t);
        return;
    }
    size_t count = (size_t)hidp__shape_count(&y->shape);
    float got[64];
    optest_run_parts(&t, 1, 0, 1, got);
    TAP_CLOSE(got, want, count, 1e-6, "%s: reference = hand-computed", what);
    optest_run_parts(&t, 1, 0, 0, got);
    TAP_CLOSE(got, want, count, 1e-6, "%s: kernel = hand-computed", what);
    optest_free(&t);
}

static void hand_cases(void)
{
    static const float x9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const float w4[4] = {1, 2, 3, 4};
    /* 3x3 input, 2x2 kernel, no padding: each output is the 2x2 window times [1 2; 3 4]. */
    hand_case("hand conv 3x3 * 2x2", "Conv", (int64_t[]){1, 1, 3, 3}, x9,
              (int64_t[]){1, 1, 2, 2}, w4, NULL, NULL, NULL, NULL, NULL, (int64_t[]){1, 1, 2, 2},
              (const float[]){37, 47, 67, 77});
    /* Stride 2 and pads 1: output (0,0) sees only x[0,0] under w[1,1]; (0,1) sees x[0,1..2]
     * under w[1,0..1]; (1,0) sees x[1..2,0] under w[0..1,1]; (1,1) the full window. Bias 1. */
    hand_case("hand conv s2 p1 bias", "Conv", (int64_t[]){1, 1, 3, 3}, x9,
              (int64_t[]){1, 1, 2, 2}, w4, (const float[]){1}, (int64_t[]){2, 2},
              (int64_t[]){1, 1, 1, 1}, NULL, NULL, (int64_t[]){1, 1, 2, 2},
              (const float[]){5, 19, 37, 78});
    /* Two output channels from 1x1 kernels: channel 0 = 2x, channel 1 = -x + bias 0.5. */
    hand_case("hand conv 1x1 two channels", "Conv", (int64_t[]){1, 1, 2, 2},
              (const float[]){1, 2, 3, 4}, (int64_t[]){2, 1, 1, 1}, (const float[]){2, -1},
              (const float[]){0, 0.5f}, NULL, NULL, NULL, NULL, (int64_t[]){1, 2, 2, 2},
              (const float[]){2, 4, 6, 8, -0.5f, -1.5f, -2.5f, -3.5f});
    /* ConvTranspose stride 2 with an all-ones 2x2 kernel: each input pixel becomes a 2x2 block. */
    hand_case("hand convT s2 blocks", "ConvTranspose", (int64_t[]){1, 1, 2, 2},
              (const float[]){1, 2, 3, 4}, (int64_t[]){1, 1, 2, 2}, (const float[]){1, 1, 1, 1},
              NULL, (int64_t[]){2, 2}, NULL, NULL, NULL, (int64_t[]){1, 1, 4, 4},
              (const float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
    /* Stride 1: the 2x2 blocks overlap and add up. */
    hand_case("hand convT s1 overlap", "ConvTranspose", (int64_t[]){1, 1, 2, 2},
              (const float[]){1, 2, 3, 4}, (int64_t[]){1, 1, 2, 2}, (const float[]){1, 1, 1, 1},
              NULL, NULL, NULL, NULL, NULL, (int64_t[]){1, 1, 3, 3},
              (const float[]){1, 3, 2, 4, 10, 6, 3, 7, 4});
    /* Pads crop the full 3x3 result to its centre... with pads 1,1,0,0 the top row and left
     * column go: [10 6; 7 4]. */
    hand_case("hand convT s1 pads 1,1,0,0", "ConvTranspose", (int64_t[]){1, 1, 2, 2},
              (const float[]){1, 2, 3, 4}, (int64_t[]){1, 1, 2, 2}, (const float[]){1, 1, 1, 1},
              NULL, NULL, (int64_t[]){1, 1, 0, 0}, NULL, NULL, (int64_t[]){1, 1, 2, 2},
              (const float[]){10, 6, 7, 4});
    /* auto_pad with an odd total pad (kernel 2, stride 1: one row and one column of padding):
     * SAME_UPPER pads at the end, so output (i, j) sums x[i..i+1][j..j+1]; SAME_LOWER pads at
     * the start, so it sums x[i-1..i][j-1..j]. */
    static const float ones4[4] = {1, 1, 1, 1};
    hand_case("hand conv SAME_UPPER odd pad", "Conv", (int64_t[]){1, 1, 3, 3}, x9,
              (int64_t[]){1, 1, 2, 2}, ones4, NULL, NULL, NULL, "SAME_UPPER", NULL,
              (int64_t[]){1, 1, 3, 3}, (const float[]){12, 16, 9, 24, 28, 15, 15, 17, 9});
    hand_case("hand conv SAME_LOWER odd pad", "Conv", (int64_t[]){1, 1, 3, 3}, x9,
              (int64_t[]){1, 1, 2, 2}, ones4, NULL, NULL, NULL, "SAME_LOWER", NULL,
              (int64_t[]){1, 1, 3, 3}, (const float[]){1, 3, 5, 5, 12, 16, 11, 24, 28});
    /* ConvTranspose output_shape 3x3 where the natural size is 4x4 (the 2x2 blocks above):
     * the ONNX spec puts the odd pad at the start unless auto_pad is SAME_UPPER. */
    hand_case("hand convT output_shape odd pad at start", "ConvTranspose",
              (int64_t[]){1, 1, 2, 2}, (const float[]){1, 2, 3, 4}, (int64_t[]){1, 1, 2, 2},
              ones4, NULL, (int64_t[]){2, 2}, NULL, NULL, (int64_t[]){3, 3},
              (int64_t[]){1, 1, 3, 3}, (const float[]){1, 2, 2, 3, 4, 4, 3, 4, 4});
    hand_case("hand convT output_shape SAME_UPPER odd pad at end", "ConvTranspose",
              (int64_t[]){1, 1, 2, 2}, (const float[]){1, 2, 3, 4}, (int64_t[]){1, 1, 2, 2},
              ones4, NULL, (int64_t[]){2, 2}, NULL, "SAME_UPPER", (int64_t[]){3, 3},
              (int64_t[]){1, 1, 3, 3}, (const float[]){1, 1, 2, 1, 1, 2, 3, 3, 4});
}

/* ---- errors ---- */

static void expect_error(const char *what, optest *t, int want_rc, const char *needle1,
                         const char *needle2)
{
    int rc = optest_prepare(t);
    TAP_EQ_INT(rc, want_rc, "%s: error code", what);
    int has = strstr(t->err.msg, "node_under_test") && (!needle1 || strstr(t->err.msg, needle1)) &&
              (!needle2 || strstr(t->err.msg, needle2));
    if (!tap_ok(has, "%s: message names the node and the problem", what))
        tap_diag("  message: '%s'", t->err.msg);
    optest_free(t);
}

static void error_cases(void)
{
    optest t;
    int in[3];

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 3, (int64_t[]){8, 3, 3}, 2);
    optest_node(&t, "Conv", in, 2);
    expect_error("weight rank 3", &t, HIDP_ESHAPE, "expected 4", "3 dims");

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){8, 2, 3, 3}, 2);
    optest_node(&t, "Conv", in, 2);
    expect_error("channel mismatch", &t, HIDP_ESHAPE, "3 channels", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 4, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){3, 2, 3, 3}, 2);
    hidp__node_set_int(optest_node(&t, "Conv", in, 2), "group", 2);
    expect_error("output channels not divisible by group", &t, HIDP_ESHAPE, "group 2", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_input(&t, "w", 4, (int64_t[]){8, 3, 3, 3}, 2);
    optest_node(&t, "Conv", in, 2);
    expect_error("non-constant weight", &t, HIDP_EUNSUPPORTED, "constant", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){8, 3, 3, 3}, 2);
    in[2] = optest_const(&t, "b", 1, (int64_t[]){7}, 3);
    optest_node(&t, "Conv", in, 3);
    expect_error("bias size", &t, HIDP_ESHAPE, "bias", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 2, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){8, 3, 3, 3}, 2);
    optest_node(&t, "Conv", in, 2);
    expect_error("kernel larger than input", &t, HIDP_ESHAPE, "output would be", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){8, 3, 3, 3}, 2);
    hidp__node_set_string(optest_node(&t, "Conv", in, 2), "auto_pad", "SAME_MIDDLE");
    expect_error("unknown auto_pad", &t, HIDP_EFORMAT, "SAME_MIDDLE", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){8, 3, 3, 3}, 2);
    hidp__node_set_ints(optest_node(&t, "Conv", in, 2), "strides", (int64_t[]){0, 1}, 2);
    expect_error("stride 0", &t, HIDP_EFORMAT, "strides", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){8, 3, 3, 3}, 2);
    hidp__node_set_ints(optest_node(&t, "Conv", in, 2), "kernel_shape", (int64_t[]){5, 5}, 2);
    expect_error("kernel_shape disagrees with the weight", &t, HIDP_ESHAPE, "kernel_shape", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 5, (int64_t[]){1, 3, 4, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 5, (int64_t[]){8, 3, 3, 3, 3}, 2);
    optest_node(&t, "Conv", in, 2);
    expect_error("3-D convolution", &t, HIDP_EUNSUPPORTED, "2-D", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 3, (int64_t[]){1, 3, 17}, 1);
    in[1] = optest_const(&t, "w", 3, (int64_t[]){8, 3, 3}, 2);
    hidp__node_set_ints(optest_node(&t, "Conv", in, 2), "pads", (int64_t[]){1, 1, 1, 1}, 4);
    expect_error("1-D conv with 2-D pads", &t, HIDP_EFORMAT, "expected 2 for a 1-D", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_const(&t, "w", 4, (int64_t[]){4, 5, 3, 3}, 2);
    optest_node(&t, "ConvTranspose", in, 2);
    expect_error("convT channel mismatch", &t, HIDP_ESHAPE, "3 channels", NULL);

    optest_init(&t);
    in[0] = optest_input(&t, "x", 4, (int64_t[]){1, 3, 7, 7}, 1);
    in[1] = optest_input(&t, "w", 4, (int64_t[]){3, 5, 3, 3}, 2);
    optest_node(&t, "ConvTranspose", in, 2);
    expect_error("convT non-constant weight", &t, HIDP_EUNSUPPORTED, "constant", NULL);
}

/* ---- describe() ---- */

static void describe_cases(void)
{
    static const conv_case cc = {"describe", 1, 3, 7, 9, 17, 3, 3, S(2, 2), S(1, 1),
                                 PADS(1, 1, 1, 1), 0, NULL, 0, NOACT, -1, {0}, {0}};
    static const conv_case ct = {"describe T", 1, 3, 7, 9, 17, 3, 3, S(2, 2), S(1, 1),
                                 PADS(0, 1, 2, 0), 0, NULL, 0, NOACT, -1, {1, 1}, {0}};
    char buf[96];
    optest t;
    optest_init(&t);
    if (build(&t, &cc, 0) == 0) {
        const hidp__node *n = &t.g.nodes[t.node];
        n->op->describe(&t.g, n, buf, sizeof buf);
        if (!tap_ok(!strcmp(buf, "k3x3 s2 p1,1,1,1 d1 g1 shifted"), "describe conv"))
            tap_diag("  got '%s'", buf);
    } else {
        tap_ok(0, "describe conv: prepare");
    }
    optest_free(&t);
    optest_init(&t);
    if (build(&t, &ct, 1) == 0) {
        const hidp__node *n = &t.g.nodes[t.node];
        n->op->describe(&t.g, n, buf, sizeof buf);
        if (!tap_ok(!strcmp(buf, "k3x3 s2 p0,1,2,0 d1 g1 op1,1"), "describe convtranspose"))
            tap_diag("  got '%s'", buf);
    } else {
        tap_ok(0, "describe convtranspose: prepare");
    }
    optest_free(&t);
}

/* ---- speed (diagnostics only: timing is not asserted) ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void speed_diag(void)
{
    static const conv_case cc = {"speed", 1, 64, 56, 56, 64, 3, 3, S(1, 1), S(1, 1),
                                 PADS(1, 1, 1, 1), 0, NULL, 1, RELU, IM2COL, {0}, {0}};
    optest t;
    optest_init(&t);
    if (build(&t, &cc, 0) != 0) {
        tap_ok(0, "speed case prepares: %s", t.err.msg);
        optest_free(&t);
        return;
    }
    const hidp__node *n = &t.g.nodes[t.node];
    const hidp__slice all = hidp__slice_all(&t.g, n);
    const int64_t m = 64, k = 64 * 9, np = 56 * 56;
    float *a = malloc((size_t)(m * k) * sizeof(float));
    float *b = malloc((size_t)(k * np) * sizeof(float));
    float *c = malloc((size_t)(m * np) * sizeof(float));
    if (!a || !b || !c) {
        tap_skip("out of memory", "speed diagnostic");
        goto done;
    }
    optest_fill(a, m * k, 7);
    optest_fill(b, k * np, 8);
    double best_conv = 1e9, best_gemm = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        n->op->run(&t.g, n, all, t.scratch);
        double t1 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)np, (int)k, 1.0f, a,
                    (int)k, b, (int)np, 0.0f, c, (int)np);
        double t2 = now();
        if (t1 - t0 < best_conv)
            best_conv = t1 - t0;
        if (t2 - t1 < best_gemm)
            best_gemm = t2 - t1;
    }
    tap_diag("3x3 conv 64->64 56x56 (%s kernel, scratch %zu floats): "
             "%.1f GFLOP/s (%.2f ms); cblas_sgemm %lldx%lldx%lld alone: %.1f GFLOP/s (%.2f ms)",
             ((const hidp__conv_params *)n->params)->kern->isa, n->scratch,
             n->flops / best_conv * 1e-9, best_conv * 1e3, (long long)m, (long long)np,
             (long long)k, n->flops / best_gemm * 1e-9, best_gemm * 1e3);
done:
    free(a);
    free(b);
    free(c);
    optest_free(&t);
}

int main(void)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(1);
#endif
    hand_cases();
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        run_case(&conv_cases[i], 0);
    for (size_t i = 0; i < sizeof convt_cases / sizeof convt_cases[0]; i++)
        run_case(&convt_cases[i], 1);
    error_cases();
    describe_cases();
    speed_diag();
    return tap_done();
}
