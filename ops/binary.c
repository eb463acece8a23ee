/* STUB: not written yet */
#include "op.h"
const hidp__op_def hidp__op_add = {"Add", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_sub = {"Sub", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_mul = {"Mul", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_div = {"Div", 0, NULL, NULL, NULL, NULL, NULL, NULL};
