/* STUB: not written yet */
#include "op.h"
const hidp__op_def hidp__op_resize = {"Resize", 0, NULL, NULL, NULL, NULL, NULL, NULL};
