/*
 * sgemm_avx512.c - the AVX-512 micro-kernel: 8 rows x 32 columns (16 zmm accumulators).
 * Measured on the AMD EPYC (AVX-512) dev VM, one core, B panel in L1 and A in L2: 8x32, 12x32,
 * 8x48 and 6x64 tiles all ran at 256-262 GFLOP/s; 8 rows divide every channel count of the zoo's
 * convolutions (12 would waste 11% of a 64-channel layer) and 32 columns waste less of a 14x14
 * or 7x7 map than 48 or 64.
 */
#define SGEMM_VW 16
#define SGEMM_MR 8
#define SGEMM_NV 2
/* 7 x 32: 7x7, 14x14, 28x28 maps split into whole tiles, 14 accumulators; two tiles at once
 * (tile_t2) take 28 of the 32 registers, and on the Intel dev VM (Xeon, family 6 model 207) ran
 * ResNet-50's 1x1 reductions on 14x14 and 7x7 maps 8-13% faster than one tile at a time */
#define SGEMM_TMR 7
#define SGEMM_NAME "avx512"
#define SGEMM_SYM hidp__sgemm_kernel_avx512
#include "sgemm_isa.h"
#include "sgemm_kernel.inc"
