/* STUB: not written yet */
#include "op.h"
const hidp__op_def hidp__op_flatten = {"Flatten", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_reshape = {"Reshape", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_squeeze = {"Squeeze", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_unsqueeze = {"Unsqueeze", 0, NULL, NULL, NULL, NULL, NULL, NULL};
