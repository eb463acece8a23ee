/* STUB: not written yet */
#include "op.h"
const hidp__op_def hidp__op_relu = {"Relu", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_clip = {"Clip", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_sigmoid = {"Sigmoid", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_hard_sigmoid = {"HardSigmoid", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_hard_swish = {"HardSwish", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_leaky_relu = {"LeakyRelu", 0, NULL, NULL, NULL, NULL, NULL, NULL};
