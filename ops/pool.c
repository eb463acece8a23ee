/* STUB: not written yet */
#include "op.h"
const hidp__op_def hidp__op_max_pool = {"MaxPool", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_average_pool = {"AveragePool", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_global_average_pool = {"GlobalAveragePool", 0, NULL, NULL, NULL, NULL, NULL, NULL};
const hidp__op_def hidp__op_global_max_pool = {"GlobalMaxPool", 0, NULL, NULL, NULL, NULL, NULL, NULL};
