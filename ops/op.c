/*
 * op.c - the table of ops hidp implements, looked up by ONNX op_type, and slice helpers.
 *
 * Identity and Dropout have no entry: the load-time rewrites remove them. Shape, Gather, Cast,
 * Constant and the other shape-arithmetic ops have none either: engine/fold.c evaluates them
 * when their inputs are constant, which is the only way CNN exporters use them.
 */
#include <string.h>

#include "op.h"

extern const hidp__op_def hidp__op_conv, hidp__op_conv_transpose;
extern const hidp__op_def hidp__op_max_pool, hidp__op_average_pool;
extern const hidp__op_def hidp__op_global_average_pool, hidp__op_global_max_pool;
extern const hidp__op_def hidp__op_relu, hidp__op_clip, hidp__op_sigmoid, hidp__op_hard_sigmoid;
extern const hidp__op_def hidp__op_hard_swish, hidp__op_leaky_relu;
extern const hidp__op_def hidp__op_add, hidp__op_sub, hidp__op_mul, hidp__op_div;
extern const hidp__op_def hidp__op_concat, hidp__op_flatten, hidp__op_reshape;
extern const hidp__op_def hidp__op_squeeze, hidp__op_unsqueeze, hidp__op_transpose;
extern const hidp__op_def hidp__op_gemm, hidp__op_matmul, hidp__op_softmax;
extern const hidp__op_def hidp__op_batch_normalization, hidp__op_pad, hidp__op_reduce_mean;
extern const hidp__op_def hidp__op_resize;

static const hidp__op_def *const op_table[] = {
    &hidp__op_conv, &hidp__op_conv_transpose,
    &hidp__op_max_pool, &hidp__op_average_pool,
    &hidp__op_global_average_pool, &hidp__op_global_max_pool,
    &hidp__op_relu, &hidp__op_clip, &hidp__op_sigmoid, &hidp__op_hard_sigmoid,
    &hidp__op_hard_swish, &hidp__op_leaky_relu,
    &hidp__op_add, &hidp__op_sub, &hidp__op_mul, &hidp__op_div,
    &hidp__op_concat, &hidp__op_flatten, &hidp__op_reshape,
    &hidp__op_squeeze, &hidp__op_unsqueeze, &hidp__op_transpose,
    &hidp__op_gemm, &hidp__op_matmul, &hidp__op_softmax,
    &hidp__op_batch_normalization, &hidp__op_pad, &hidp__op_reduce_mean,
    &hidp__op_resize,
};

const hidp__op_def *hidp__op_find(const char *op_type)
{
    for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
        if (strcmp(op_table[i]->name, op_type) == 0)
            return op_table[i];
    return NULL;
}

hidp__slice hidp__slice_all(const hidp__graph *g, const hidp__node *n)
{
    hidp__view4 v = hidp__shape_view4(&g->vals[n->out[0]].shape);
    hidp__slice s = {0, v.c, 0, v.h, NULL};
    return s;
}

int hidp__slice_reads(const hidp__graph *g, const hidp__node *n, int k, hidp__slice s,
                      hidp__slice *r)
{
    if (s.c0 >= s.c1 || s.h0 >= s.h1) {
        *r = (hidp__slice){0, 0, 0, 0, NULL};
        return 1;
    }
    if (k == 3 && n->takes_residual) { /* laid out like the output (engine/residual.c) */
        *r = s;
        return 1;
    }
    if (k != 0 || n->rows_in_span <= 0)
        return 0;
    const hidp__view4 v = hidp__shape_view4(&g->vals[n->in[0]].shape);
    int64_t h0 = s.h0 * n->rows_in_stride - n->rows_in_pad;
    int64_t h1 = (s.h1 - 1) * n->rows_in_stride - n->rows_in_pad + n->rows_in_span;
    *r = (hidp__slice){n->channel_local ? s.c0 : 0, n->channel_local ? s.c1 : v.c, h0 > 0 ? h0 : 0,
                       h1 < v.h ? h1 : v.h, NULL};
    return 1;
}
