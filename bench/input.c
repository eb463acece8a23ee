/*
 * input.c - the benchmarks' input (input.h).
 */
#include <stdlib.h>

#include "input.h"

float *bench_model_input(hidp_model *m, size_t *n)
{
    hidp_tensor_info ti;
    *n = 0;
    if (hidp_model_input_info(m, 0, &ti) != 0)
        return NULL;
    size_t count = 1;
    for (int i = 0; i < ti.ndim; i++)
        count *= (size_t)(ti.dims[i] > 0 ? ti.dims[i] : 1);
    float *in = malloc(count * sizeof *in);
    if (!in)
        return NULL;
    /* spread over [-1, 1) without a period a conv's window would line up with */
    for (size_t i = 0; i < count; i++)
        in[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    *n = count;
    return in;
}
