/*
 * median.c - the median of a few timings (median.h).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "median.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hidp__median(const double *v, int count, int stride, double *tmp)
{
    if (count <= 0)
        return INFINITY;
    for (int i = 0; i < count; i++)
        tmp[i] = v[(size_t)i * (size_t)stride];
    qsort(tmp, (size_t)count, sizeof *tmp, cmp_double);
    return count % 2 ? tmp[count / 2] : (tmp[count / 2 - 1] + tmp[count / 2]) / 2;
}
