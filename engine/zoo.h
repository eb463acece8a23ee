/*
 * zoo.h - the built-in model zoo: torchvision-shaped CNNs built in C with seeded random weights.
 *
 * A model is built in three steps. A builder (engine/zoo_*.c, one function per family) adds the
 * layers to a graph through the hidp__zb_* helpers below, which draw He-normal weights from a
 * seeded generator and track each tensor's shape (so a too-small image fails with a message naming
 * the layer). hidp__zoo_calibrate then runs one forward pass on a seeded batch of normal(0,1)
 * images and sets every BatchNormalization's statistics to the per-channel mean and variance of
 * what reaches it, in order, so each sees inputs the earlier ones already normalized; the few
 * layers without a BatchNorm after them (VGG, SqueezeNet, the classifier) are rescaled to unit
 * RMS output instead. Activations so stay near unit scale, as in a trained network. Finally the
 * graph is written as ONNX (opset 13), with the BatchNorm nodes kept as torchvision has them:
 * hidp folds them at load, and other engines do their own thing.
 */
#ifndef HIDP_ZOO_H
#define HIDP_ZOO_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* Largest image_size hidp_zoo_build accepts: vgg16's first activations at 2048x2048 are already
 * 1 GiB each. */
#define HIDP__ZOO_MAX_SIZE 2048

/* What torchvision reports for each model at 224x224 (parameters counted as PyTorch does:
 * weights, biases and BatchNorm gamma/beta, not the running statistics; multiply-adds of the
 * convolutions and linear layers), with a one-line description. Lives here as a function (not
 * a table) so that the hidp tool, which links only the public library, can print it, and the
 * tests can check the builders against it. Returns 0 for an unknown name. */
typedef struct hidp__zoo_ref {
    const char *name;
    int64_t params;
    double gmacs;
    const char *what;
} hidp__zoo_ref;

static inline int hidp__zoo_reference(const char *name, hidp__zoo_ref *out)
{
    static const hidp__zoo_ref refs[] = {
        {"resnet18", 11689512, 1.81, "ResNet-18, basic blocks [2,2,2,2]"},
        {"resnet50", 25557032, 4.09, "ResNet-50 v1.5, bottlenecks [3,4,6,3]"},
        {"resnet152", 60192808, 11.51, "ResNet-152 v1.5, bottlenecks [3,8,36,3]"},
        {"vgg16", 138357544, 15.47, "VGG-16 (configuration D), no BatchNorm"},
        {"mobilenet_v2", 3504872, 0.30, "MobileNet-V2, inverted residuals, ReLU6"},
        {"squeezenet1_1", 1235496, 0.35, "SqueezeNet 1.1, fire modules"},
        {"efficientnet_b0", 5288548, 0.39, "EfficientNet-B0, MBConv + squeeze-excitation, SiLU"},
        {"googlenet", 6624904, 1.50, "GoogLeNet (Inception v1), no auxiliary heads"},
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        const char *a = refs[i].name, *b = name;
        while (*a && *a == *b)
            a++, b++;
        if (*a == *b) {
            *out = refs[i];
            return 1;
        }
    }
    return 0;
}

/* ---- builder ---- */

/* A tensor being built: its value index and shape [1, c, h, w] (rank 2 [1, c] has h = w = 0). */
typedef struct hidp__zt {
    int v;
    int64_t c, h, w;
} hidp__zt;

/* Kinds of weight initialisation. */
enum {
    HIDP__ZINIT_HE = 0,   /* normal(0, sqrt(2 / fan_in)): conv and hidden linear weights */
    HIDP__ZINIT_LINEAR    /* uniform(+-1/sqrt(fan_in)): PyTorch's nn.Linear default */
};

typedef struct hidp__zb {
    hidp__graph *g;
    const char *model;
    uint64_t rng;          /* weight stream state */
    double spare;          /* Box-Muller's second normal */
    int has_spare;
    int64_t params;        /* as torchvision counts them */
    double macs;           /* multiply-adds of convolutions and linear layers */
    char scope[128];       /* prefix of every name ("layer1.0") */
    char *normalize;       /* per node: rescale its output to unit RMS at calibration */
    int cap_normalize;
    int dry;               /* shapes and counts only: no weight data (finding the smallest size) */
    int64_t size;          /* image_size, for messages */
    int too_small;         /* rc is HIDP_EINVAL because a feature map collapsed */
    int clip_lo, clip_hi;  /* ReLU6's bounds, shared by every Clip (-1 until made) */
    int rc;                /* first failure (sticky: every helper does nothing after it) */
    hidp__err *err;
} hidp__zb;

/* Sets the name prefix, printf-style ("" for none). */
void hidp__zb_scope(hidp__zb *b, const char *fmt, ...) HIDP__PRINTF(2, 3);

/* Conv2d k x k, torchvision style (square kernel, symmetric pads), He-normal weight named
 * "<scope>.<name>.weight", optional bias. */
hidp__zt hidp__zb_conv(hidp__zb *b, hidp__zt x, const char *name, int64_t out_c, int64_t k,
                       int64_t stride, int64_t pad, int64_t groups, int bias);
/* BatchNorm2d: scale ~ gamma * (1 + 0.1 noise), bias ~ 0.1 noise; mean and var are placeholders
 * that calibration fills. */
hidp__zt hidp__zb_bn(hidp__zb *b, hidp__zt x, const char *name, float eps, double gamma);
hidp__zt hidp__zb_relu(hidp__zb *b, hidp__zt x, const char *name);
hidp__zt hidp__zb_relu6(hidp__zb *b, hidp__zt x, const char *name);
hidp__zt hidp__zb_sigmoid(hidp__zb *b, hidp__zt x, const char *name);
/* SiLU as x * Sigmoid(x). */
hidp__zt hidp__zb_silu(hidp__zb *b, hidp__zt x, const char *name);
hidp__zt hidp__zb_maxpool(hidp__zb *b, hidp__zt x, const char *name, int64_t k, int64_t stride,
                          int64_t pad, int ceil_mode);
hidp__zt hidp__zb_avgpool(hidp__zb *b, hidp__zt x, const char *name, int64_t k, int64_t stride);
hidp__zt hidp__zb_gap(hidp__zb *b, hidp__zt x, const char *name);
/* Elementwise x + y (same shapes) and x * y (y may be [1, c, 1, 1]). */
hidp__zt hidp__zb_add(hidp__zb *b, hidp__zt x, hidp__zt y, const char *name);
hidp__zt hidp__zb_mul(hidp__zb *b, hidp__zt x, hidp__zt y, const char *name);
/* Concatenation along channels. */
hidp__zt hidp__zb_concat(hidp__zb *b, const hidp__zt *xs, int n, const char *name);
hidp__zt hidp__zb_flatten(hidp__zb *b, hidp__zt x, const char *name);
/* Linear layer as Gemm(transB=1), weight [out, in] and bias [out]. */
hidp__zt hidp__zb_linear(hidp__zb *b, hidp__zt x, const char *name, int64_t out, int init);
/* Marks the node producing x to be rescaled to unit RMS output at calibration (layers with no
 * BatchNorm after them). */
void hidp__zb_normalize(hidp__zb *b, hidp__zt x);

/* The model builders (graph input "input" [1,3,size,size] is made by the caller as b's first
 * tensor; each returns the logits [1,1000], or a tensor with v < 0 after a failure in b->rc). */
hidp__zt hidp__zoo_resnet(hidp__zb *b, hidp__zt x, int depth);
hidp__zt hidp__zoo_vgg16(hidp__zb *b, hidp__zt x);
hidp__zt hidp__zoo_squeezenet1_1(hidp__zb *b, hidp__zt x);
hidp__zt hidp__zoo_googlenet(hidp__zb *b, hidp__zt x);
hidp__zt hidp__zoo_mobilenet_v2(hidp__zb *b, hidp__zt x);
hidp__zt hidp__zoo_efficientnet_b0(hidp__zb *b, hidp__zt x);

/* ---- whole models ---- */

typedef struct hidp__zoo_stats {
    int64_t params;        /* as torchvision counts them */
    double macs;           /* convolutions and linear layers */
    int64_t image_size;
    double out_std;        /* std of the logits on the calibration input */
} hidp__zoo_stats;

/* hidp__zoo_graph flags */
enum {
    HIDP__ZOO_DRY = 1 /* layers and shapes only: weights have no data, no calibration */
};

/* Builds and calibrates zoo model `name` into g (initialised here; the caller frees it with
 * hidp__graph_free whatever the outcome). image_size 0 means 224. Unknown name or an image too
 * small for the model: HIDP_EINVAL with a message. stats may be NULL. */
int hidp__zoo_graph(const char *name, uint64_t seed, int64_t image_size, int flags,
                    hidp__graph *g, hidp__zoo_stats *stats, hidp__err *err);

/* The calibration pass (zoo_calib.c): runs g once on a batch of `batch` normal(0,1) images drawn
 * from seed (the input's declared shape with dim 0 replaced) with the optimized kernels on the
 * calling thread, filling each BatchNormalization's mean and var inputs
 * with the statistics of its input just before it runs, and rescaling the outputs (weights and
 * bias) of nodes with normalize[i] set to unit RMS. Leaves every op parsed and every shape bound;
 * runtime data is freed. *out_std receives the std of the graph's first output. */
int hidp__zoo_calibrate(hidp__graph *g, const char *normalize, uint64_t seed, int64_t batch,
                        double *out_std, hidp__err *err);

/* The generator the zoo uses (splitmix64 + Box-Muller), exposed so the calibration input and the
 * tests draw the same way. state is advanced. */
uint64_t hidp__zoo_next(uint64_t *state);
double hidp__zoo_normal(uint64_t *state, double *spare, int *has_spare);

#endif
