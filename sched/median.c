/*
 * median.c - the median of a few timings, and the end of a round of candidates (median.h).
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

int hidp__fastest_live(const int *live, int n_live, const double *median, double *best)
{
    int fastest = live[0];
    for (int k = 1; k < n_live; k++)
        fastest = median[live[k]] < median[fastest] ? live[k] : fastest;
    *best = median[fastest];
    return fastest;
}

/* Runs counted each before any candidate is dropped, and the margins (median.h). */
#define DROP_MIN_KEPT 2
#define DROP_MARGIN 1.10
#define LATER_DROP_MARGIN 1.05

static double drop_margin(const int *n_kept, const int *live, int n_live, int *pruned)
{
    for (int k = 0; k < n_live; k++)
        if (n_kept[live[k]] < DROP_MIN_KEPT)
            return INFINITY;
    return (*pruned)++ == 0 ? DROP_MARGIN : LATER_DROP_MARGIN;
}

int hidp__end_round(int *live, int *n_live, const double *median, const int *n_kept, int round,
                    int *pruned)
{
    double best;
    hidp__fastest_live(live, *n_live, median, &best);
    const double margin = drop_margin(n_kept, live, *n_live, pruned);
    int n = 0, enough = 1;
    for (int k = 0; k < *n_live; k++)
        if (median[live[k]] <= best * margin) {
            enough &= n_kept[live[k]] >= HIDP__ROUNDS_MIN_KEPT;
            live[n++] = live[k];
        }
    *n_live = n;
    return n == 1 || round >= HIDP__ROUNDS_MAX || (round >= HIDP__ROUNDS_MIN && enough);
}
