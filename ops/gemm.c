/* STUB: not written yet */
#include "op.h"
const hidp__op_def hidp__op_gemm = {"Gemm", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_matmul = {"MatMul", 0, NULL, NULL, NULL, NULL, NULL, NULL};
