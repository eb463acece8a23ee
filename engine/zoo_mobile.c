/*
 * zoo_mobile.c - torchvision's MobileNet-V2 and EfficientNet-B0: inverted residual blocks with
 * depthwise convolutions (ReLU6 for MobileNet, SiLU and squeeze-excitation for EfficientNet).
 * Names follow the PyTorch state_dict ("features.3.conv.1.0.weight",
 * "features.2.0.block.2.fc1.weight"). Dropout and stochastic depth do nothing at inference and
 * are left out.
 */
#include <stdio.h>

#include "zoo.h"

#define BN_EPS 1e-5f

enum { ACT_NONE, ACT_RELU6, ACT_SILU };

/* Conv2dNormActivation: conv (no bias) -> BatchNorm -> activation, as modules `name`.0/.1/.2. */
static hidp__zt cna(hidp__zb *b, hidp__zt x, const char *name, int64_t out_c, int64_t k,
                    int64_t stride, int64_t groups, int act)
{
    char conv[64], bn[64], a[64];
    snprintf(conv, sizeof conv, "%s.0", name);
    snprintf(bn, sizeof bn, "%s.1", name);
    snprintf(a, sizeof a, "%s.2", name);
    x = hidp__zb_conv(b, x, conv, out_c, k, stride, (k - 1) / 2, groups, 0);
    x = hidp__zb_bn(b, x, bn, BN_EPS, 1.0);
    if (act == ACT_RELU6)
        return hidp__zb_relu6(b, x, a);
    return act == ACT_SILU ? hidp__zb_silu(b, x, a) : x;
}

/* ---- MobileNet-V2 ---- */

/* InvertedResidual: optional 1x1 expand, 3x3 depthwise, 1x1 linear projection (conv + BN),
 * with a residual add when the shape is kept. */
static hidp__zt inverted_residual(hidp__zb *b, hidp__zt x, int idx, int64_t t, int64_t out_c,
                                  int64_t stride)
{
    char name[32];
    int j = 0;
    int64_t hidden = x.c * t;
    hidp__zb_scope(b, "features.%d.conv", idx);
    hidp__zt y = x;
    if (t != 1) {
        snprintf(name, sizeof name, "%d", j++);
        y = cna(b, y, name, hidden, 1, 1, 1, ACT_RELU6);
    }
    snprintf(name, sizeof name, "%d", j++);
    y = cna(b, y, name, hidden, 3, stride, hidden, ACT_RELU6);
    snprintf(name, sizeof name, "%d", j++);
    y = hidp__zb_conv(b, y, name, out_c, 1, 1, 0, 1, 0);
    snprintf(name, sizeof name, "%d", j++);
    y = hidp__zb_bn(b, y, name, BN_EPS, 1.0);
    if (stride == 1 && x.c == out_c) {
        hidp__zb_scope(b, "features.%d", idx);
        y = hidp__zb_add(b, x, y, "add");
    }
    return y;
}

hidp__zt hidp__zoo_mobilenet_v2(hidp__zb *b, hidp__zt x)
{
    /* t (expansion), c (output channels), n (repeats), s (first stride) */
    static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                  {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int idx = 0;
    hidp__zb_scope(b, "features");
    x = cna(b, x, "0", 32, 3, 2, 1, ACT_RELU6);
    idx++;
    for (int s = 0; s < 7; s++)
        for (int i = 0; i < cfg[s][2]; i++)
            x = inverted_residual(b, x, idx++, cfg[s][0], cfg[s][1], i == 0 ? cfg[s][3] : 1);
    hidp__zb_scope(b, "features");
    x = cna(b, x, "18", 1280, 1, 1, 1, ACT_RELU6);
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_gap(b, x, "avgpool");
    x = hidp__zb_flatten(b, x, "flatten");
    hidp__zb_scope(b, "classifier");
    return hidp__zb_linear(b, x, "1", 1000, HIDP__ZINIT_LINEAR);
}

/* ---- EfficientNet-B0 ---- */

/* SqueezeExcitation `name`: global average pool, 1x1 conv to `squeeze` channels, SiLU, 1x1 conv
 * back, Sigmoid, and the input scaled per channel. */
static hidp__zt squeeze_excite(hidp__zb *b, hidp__zt x, const char *name, int64_t squeeze)
{
    char n[64];
    snprintf(n, sizeof n, "%s.avgpool", name);
    hidp__zt s = hidp__zb_gap(b, x, n);
    snprintf(n, sizeof n, "%s.fc1", name);
    s = hidp__zb_conv(b, s, n, squeeze, 1, 1, 0, 1, 1);
    snprintf(n, sizeof n, "%s.activation", name);
    s = hidp__zb_silu(b, s, n);
    snprintf(n, sizeof n, "%s.fc2", name);
    s = hidp__zb_conv(b, s, n, x.c, 1, 1, 0, 1, 1);
    snprintf(n, sizeof n, "%s.scale_activation", name);
    s = hidp__zb_sigmoid(b, s, n);
    snprintf(n, sizeof n, "%s.scale", name);
    return hidp__zb_mul(b, x, s, n);
}

/* MBConv: optional 1x1 expand, k x k depthwise, squeeze-excitation (to a quarter of the block's
 * input channels), 1x1 projection without activation, residual add when the shape is kept. */
static hidp__zt mbconv(hidp__zb *b, hidp__zt x, int stage, int i, int64_t expand, int64_t k,
                       int64_t stride, int64_t out_c)
{
    char name[32];
    int j = 0;
    int64_t hidden = x.c * expand, squeeze = x.c / 4 > 1 ? x.c / 4 : 1;
    hidp__zb_scope(b, "features.%d.%d.block", stage, i);
    hidp__zt y = x;
    if (expand != 1) {
        snprintf(name, sizeof name, "%d", j++);
        y = cna(b, y, name, hidden, 1, 1, 1, ACT_SILU);
    }
    snprintf(name, sizeof name, "%d", j++);
    y = cna(b, y, name, hidden, k, stride, hidden, ACT_SILU);
    snprintf(name, sizeof name, "%d", j++);
    y = squeeze_excite(b, y, name, squeeze);
    snprintf(name, sizeof name, "%d", j++);
    y = cna(b, y, name, out_c, 1, 1, 1, ACT_NONE);
    if (stride == 1 && x.c == out_c) {
        hidp__zb_scope(b, "features.%d.%d", stage, i);
        y = hidp__zb_add(b, y, x, "add");
    }
    return y;
}

hidp__zt hidp__zoo_efficientnet_b0(hidp__zb *b, hidp__zt x)
{
    /* expand ratio, kernel, first stride, output channels, layers (width and depth 1.0) */
    static const int cfg[7][5] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2}, {6, 5, 2, 40, 2},
                                  {6, 3, 2, 80, 3}, {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4},
                                  {6, 3, 1, 320, 1}};
    hidp__zb_scope(b, "features");
    x = cna(b, x, "0", 32, 3, 2, 1, ACT_SILU);
    for (int s = 0; s < 7; s++)
        for (int i = 0; i < cfg[s][4]; i++)
            x = mbconv(b, x, s + 1, i, cfg[s][0], cfg[s][1], i == 0 ? cfg[s][2] : 1, cfg[s][3]);
    hidp__zb_scope(b, "features");
    x = cna(b, x, "8", 1280, 1, 1, 1, ACT_SILU);
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_gap(b, x, "avgpool");
    x = hidp__zb_flatten(b, x, "flatten");
    hidp__zb_scope(b, "classifier");
    return hidp__zb_linear(b, x, "1", 1000, HIDP__ZINIT_LINEAR);
}
