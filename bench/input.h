/*
 * input.h - the benchmarks' input: one fixed pattern, so two programs (or two builds) time a
 * model on the same values.
 */
#ifndef HIDP_BENCH_INPUT_H
#define HIDP_BENCH_INPUT_H

#include <stddef.h>

#include "../engine/hidp.h"

/* A new array for model m's first input (its dynamic dimensions taken as 1) filled with values
 * in [-1, 1) from a fixed pattern, its length in *n; NULL when the model gives no input or
 * memory runs out (the caller frees it). */
float *bench_model_input(hidp_model *m, size_t *n);

#endif
