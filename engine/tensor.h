/*
 * tensor.h - shapes of fp32 NCHW tensors and the 4-D view every kernel slices by.
 */
#ifndef HIDP_TENSOR_H
#define HIDP_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "hidp.h"

typedef struct hidp__shape {
    int ndim;
    int64_t d[HIDP_MAX_DIMS];
} hidp__shape;

/* The view by which outputs are sliced: n = dim 0, c = dim 1, h = dim 2, w = product of dims 3+.
 * Rank 1 [C] views as n=1, c=C, h=1, w=1; rank 2 [N,C] as h=w=1; rank 0 as all ones. */
typedef struct hidp__view4 {
    int64_t n, c, h, w;
} hidp__view4;

/* Element count (1 for rank 0). Returns -1 if a dim is negative or the product overflows. */
int64_t hidp__shape_count(const hidp__shape *s);
int hidp__shape_equal(const hidp__shape *a, const hidp__shape *b);
hidp__view4 hidp__shape_view4(const hidp__shape *s);
/* Writes "1x64x56x56" (or "scalar") into buf; returns buf. */
char *hidp__shape_format(const hidp__shape *s, char *buf, size_t len);
hidp__shape hidp__shape_make(int ndim, const int64_t *dims);

#endif
