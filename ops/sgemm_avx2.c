/*
 * sgemm_avx2.c - the AVX2 + FMA micro-kernel: 6 rows x 16 columns, 12 ymm accumulators + 2 B
 * vectors + 1 broadcast of the 16 registers (the classic Haswell tile).
 */
#define SGEMM_VW 8
#define SGEMM_MR 6
#define SGEMM_NV 2
#define SGEMM_NAME "avx2"
#define SGEMM_SYM hidp__sgemm_kernel_avx2
#include "sgemm_isa.h"
#include "sgemm_kernel.inc"
