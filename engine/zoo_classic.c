/*
 * zoo_classic.c - torchvision's VGG-16, SqueezeNet 1.1 and GoogLeNet: the models without
 * residual connections. Names follow the PyTorch state_dict ("features.28.weight",
 * "inception4a.branch2.1.conv.weight").
 *
 * VGG-16 and SqueezeNet have no BatchNorm: their convolutions and VGG's hidden linear layers are
 * marked for calibration to unit RMS output instead (hidp__zb_normalize), which a trained network
 * gets from training and random He weights only on average.
 */
#include <stdio.h>

#include "zoo.h"

/* ---- VGG-16 ---- */

/* Configuration "D": channel counts, 0 for a 2x2 max pool. */
static const int vgg16_cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0,
                                512, 512, 512, 0, 512, 512, 512, 0};

/* torchvision ends the features with AdaptiveAvgPool2d((7, 7)) and sizes the first linear layer
 * 512*7*7. An adaptive pool whose input is a multiple of 7 is a plain average pool (and nothing
 * at 224, where the map is already 7x7), so those sizes keep torchvision's layers exactly. Other
 * sizes have uneven adaptive windows that no single ONNX pool expresses: there the pool is left
 * out and the first linear layer takes the final feature map as it is (512*s*s inputs, s =
 * image_size / 32), which changes that layer's parameter count. */
hidp__zt hidp__zoo_vgg16(hidp__zb *b, hidp__zt x)
{
    char name[32];
    int idx = 0;
    hidp__zb_scope(b, "features");
    for (size_t i = 0; i < sizeof vgg16_cfg / sizeof vgg16_cfg[0]; i++) {
        if (vgg16_cfg[i] == 0) {
            snprintf(name, sizeof name, "%d", idx++);
            x = hidp__zb_maxpool(b, x, name, 2, 2, 0, 0);
            continue;
        }
        snprintf(name, sizeof name, "%d", idx++);
        x = hidp__zb_conv(b, x, name, vgg16_cfg[i], 3, 1, 1, 1, 1);
        hidp__zb_normalize(b, x);
        snprintf(name, sizeof name, "%d", idx++);
        x = hidp__zb_relu(b, x, name);
    }
    hidp__zb_scope(b, "%s", "");
    if (x.v >= 0 && x.h > 7 && x.h % 7 == 0)
        x = hidp__zb_avgpool(b, x, "avgpool", x.h / 7, x.h / 7);
    x = hidp__zb_flatten(b, x, "flatten");
    hidp__zb_scope(b, "classifier");
    x = hidp__zb_linear(b, x, "0", 4096, HIDP__ZINIT_HE);
    hidp__zb_normalize(b, x);
    x = hidp__zb_relu(b, x, "1");
    x = hidp__zb_linear(b, x, "3", 4096, HIDP__ZINIT_HE);
    hidp__zb_normalize(b, x);
    x = hidp__zb_relu(b, x, "4");
    return hidp__zb_linear(b, x, "6", 1000, HIDP__ZINIT_LINEAR);
}

/* ---- SqueezeNet 1.1 ---- */

static hidp__zt conv_relu(hidp__zb *b, hidp__zt x, const char *conv, const char *act,
                          int64_t out_c, int64_t k, int64_t stride, int64_t pad)
{
    x = hidp__zb_conv(b, x, conv, out_c, k, stride, pad, 1, 1);
    hidp__zb_normalize(b, x);
    return hidp__zb_relu(b, x, act);
}

/* Fire module: a 1x1 squeeze, then 1x1 and 3x3 expands concatenated. */
static hidp__zt fire(hidp__zb *b, hidp__zt x, int idx, int64_t squeeze, int64_t e1, int64_t e3)
{
    hidp__zb_scope(b, "features.%d", idx);
    x = conv_relu(b, x, "squeeze", "squeeze_activation", squeeze, 1, 1, 0);
    hidp__zt br[2] = {conv_relu(b, x, "expand1x1", "expand1x1_activation", e1, 1, 1, 0),
                      conv_relu(b, x, "expand3x3", "expand3x3_activation", e3, 3, 1, 1)};
    return hidp__zb_concat(b, br, 2, "cat");
}

hidp__zt hidp__zoo_squeezenet1_1(hidp__zb *b, hidp__zt x)
{
    hidp__zb_scope(b, "features");
    x = conv_relu(b, x, "0", "1", 64, 3, 2, 0);
    x = hidp__zb_maxpool(b, x, "2", 3, 2, 0, 1);
    x = fire(b, x, 3, 16, 64, 64);
    x = fire(b, x, 4, 16, 64, 64);
    hidp__zb_scope(b, "features");
    x = hidp__zb_maxpool(b, x, "5", 3, 2, 0, 1);
    x = fire(b, x, 6, 32, 128, 128);
    x = fire(b, x, 7, 32, 128, 128);
    hidp__zb_scope(b, "features");
    x = hidp__zb_maxpool(b, x, "8", 3, 2, 0, 1);
    x = fire(b, x, 9, 48, 192, 192);
    x = fire(b, x, 10, 48, 192, 192);
    x = fire(b, x, 11, 64, 256, 256);
    x = fire(b, x, 12, 64, 256, 256);
    hidp__zb_scope(b, "classifier");
    x = conv_relu(b, x, "1", "2", 1000, 1, 1, 0);
    x = hidp__zb_gap(b, x, "3");
    hidp__zb_scope(b, "%s", "");
    return hidp__zb_flatten(b, x, "flatten");
}

/* ---- GoogLeNet ---- */

/* BasicConv2d: conv without bias, BatchNorm (eps 0.001), ReLU; `name` is the module's path. */
static hidp__zt basic_conv(hidp__zb *b, hidp__zt x, const char *name, int64_t out_c, int64_t k,
                           int64_t stride, int64_t pad)
{
    char conv[64], bn[64], relu[64];
    snprintf(conv, sizeof conv, "%s.conv", name);
    snprintf(bn, sizeof bn, "%s.bn", name);
    snprintf(relu, sizeof relu, "%s.relu", name);
    x = hidp__zb_conv(b, x, conv, out_c, k, stride, pad, 1, 0);
    x = hidp__zb_bn(b, x, bn, 1e-3f, 1.0);
    return hidp__zb_relu(b, x, relu);
}

/* Inception module as torchvision builds it: its "5x5" branch uses a 3x3 conv (a known
 * deviation from the paper that torchvision keeps for its pretrained weights), and the pool
 * branch a 3x3 stride-1 max pool in ceil mode. */
static hidp__zt inception(hidp__zb *b, hidp__zt x, const char *name, int64_t c1, int64_t c3r,
                          int64_t c3, int64_t c5r, int64_t c5, int64_t pool_proj)
{
    hidp__zb_scope(b, "%s", name);
    hidp__zt br[4];
    br[0] = basic_conv(b, x, "branch1", c1, 1, 1, 0);
    br[1] = basic_conv(b, x, "branch2.0", c3r, 1, 1, 0);
    br[1] = basic_conv(b, br[1], "branch2.1", c3, 3, 1, 1);
    br[2] = basic_conv(b, x, "branch3.0", c5r, 1, 1, 0);
    br[2] = basic_conv(b, br[2], "branch3.1", c5, 3, 1, 1);
    br[3] = hidp__zb_maxpool(b, x, "branch4.0", 3, 1, 1, 1);
    br[3] = basic_conv(b, br[3], "branch4.1", pool_proj, 1, 1, 0);
    return hidp__zb_concat(b, br, 4, "cat");
}

/* torchvision's googlenet() without pretrained weights: transform_input off; the auxiliary
 * classifiers only run in training, so they are left out (as when torchvision loads its
 * weights). */
hidp__zt hidp__zoo_googlenet(hidp__zb *b, hidp__zt x)
{
    hidp__zb_scope(b, "%s", "");
    x = basic_conv(b, x, "conv1", 64, 7, 2, 3);
    x = hidp__zb_maxpool(b, x, "maxpool1", 3, 2, 0, 1);
    x = basic_conv(b, x, "conv2", 64, 1, 1, 0);
    x = basic_conv(b, x, "conv3", 192, 3, 1, 1);
    x = hidp__zb_maxpool(b, x, "maxpool2", 3, 2, 0, 1);
    x = inception(b, x, "inception3a", 64, 96, 128, 16, 32, 32);
    x = inception(b, x, "inception3b", 128, 128, 192, 32, 96, 64);
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_maxpool(b, x, "maxpool3", 3, 2, 0, 1);
    x = inception(b, x, "inception4a", 192, 96, 208, 16, 48, 64);
    x = inception(b, x, "inception4b", 160, 112, 224, 24, 64, 64);
    x = inception(b, x, "inception4c", 128, 128, 256, 24, 64, 64);
    x = inception(b, x, "inception4d", 112, 144, 288, 32, 64, 64);
    x = inception(b, x, "inception4e", 256, 160, 320, 32, 128, 128);
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_maxpool(b, x, "maxpool4", 2, 2, 0, 1);
    x = inception(b, x, "inception5a", 256, 160, 320, 32, 128, 128);
    x = inception(b, x, "inception5b", 384, 192, 384, 48, 128, 128);
    hidp__zb_scope(b, "%s", "");
    x = hidp__zb_gap(b, x, "avgpool");
    x = hidp__zb_flatten(b, x, "flatten");
    return hidp__zb_linear(b, x, "fc", 1000, HIDP__ZINIT_LINEAR);
}
