/*
 * zoo_resnet.c - torchvision's ResNet-18/50/152 (torchvision.models.resnet): basic blocks for
 * 18, bottlenecks with the stride on the 3x3 conv ("v1.5") for 50 and 152. Names follow the
 * PyTorch state_dict ("layer2.0.downsample.0.weight").
 */
#include <stdio.h>

#include "zoo.h"

#define BN_EPS 1e-5f

/* Scale of the last BatchNorm of each block (the one before the residual add). Trained ResNets
 * have small gammas there (torchvision even offers zero_init_residual); with 1.0 every block
 * adds a unit-variance branch, the residual stream grows through resnet152's 50 blocks, and the
 * network amplifies rounding differences between engines past 1e-4 (3.7e-4 against ONNX
 * Runtime, measured; 4e-6 with 0.2). */
#define LAST_GAMMA 0.2

/* conv -> BatchNorm (-> ReLU), as every conv in a ResNet is followed; the BatchNorm without a
 * ReLU is the block's last. */
static hidp__zt conv_bn(hidp__zb *b, hidp__zt x, int conv_i, int64_t out_c, int64_t k,
                        int64_t stride, int relu)
{
    double gamma = relu ? 1.0 : LAST_GAMMA;
    char conv[16], bn[16];
    snprintf(conv, sizeof conv, "conv%d", conv_i);
    snprintf(bn, sizeof bn, "bn%d", conv_i);
    hidp__zt y = hidp__zb_conv(b, x, conv, out_c, k, stride, k / 2, 1, 0);
    y = hidp__zb_bn(b, y, bn, BN_EPS, gamma);
    return relu ? hidp__zb_relu(b, y, "relu") : y;
}

/* One block of stage `layer`, index i: planes is the stage's width, expansion 1 (basic) or 4
 * (bottleneck). The shortcut is a strided 1x1 conv + BatchNorm when the shape changes. */
static hidp__zt block(hidp__zb *b, hidp__zt x, int layer, int i, int64_t planes, int64_t stride,
                      int bottleneck)
{
    int64_t out_c = bottleneck ? planes * 4 : planes;
    hidp__zb_scope(b, "layer%d.%d", layer, i);
    hidp__zt y;
    if (bottleneck) {
        y = conv_bn(b, x, 1, planes, 1, 1, 1);
        y = conv_bn(b, y, 2, planes, 3, stride, 1);
        y = conv_bn(b, y, 3, out_c, 1, 1, 0);
    } else {
        y = conv_bn(b, x, 1, planes, 3, stride, 1);
        y = conv_bn(b, y, 2, planes, 3, 1, 0);
    }
    hidp__zt id = x;
    if (stride != 1 || x.c != out_c) {
        id = hidp__zb_conv(b, x, "downsample.0", out_c, 1, stride, 0, 1, 0);
        id = hidp__zb_bn(b, id, "downsample.1", BN_EPS, 1.0);
    }
    y = hidp__zb_add(b, y, id, "add");
    return hidp__zb_relu(b, y, "relu");
}

hidp__zt hidp__zoo_resnet(hidp__zb *b, hidp__zt x, int depth)
{
    static const int blocks18[4] = {2, 2, 2, 2}, blocks50[4] = {3, 4, 6, 3},
                     blocks152[4] = {3, 8, 36, 3};
    const int *blocks = depth == 18 ? blocks18 : depth == 50 ? blocks50 : blocks152;
    int bottleneck = depth != 18;
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_conv(b, x, "conv1", 64, 7, 2, 3, 1, 0);
    x = hidp__zb_bn(b, x, "bn1", BN_EPS, 1.0);
    x = hidp__zb_relu(b, x, "relu");
    x = hidp__zb_maxpool(b, x, "maxpool", 3, 2, 1, 0);
    for (int layer = 1; layer <= 4; layer++) {
        int64_t planes = (int64_t)64 << (layer - 1);
        for (int i = 0; i < blocks[layer - 1]; i++)
            x = block(b, x, layer, i, planes, i == 0 && layer > 1 ? 2 : 1, bottleneck);
    }
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_gap(b, x, "avgpool");
    x = hidp__zb_flatten(b, x, "flatten");
    return hidp__zb_linear(b, x, "fc", 1000, HIDP__ZINIT_LINEAR);
}
