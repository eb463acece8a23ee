/*
 * sgemm_generic.c - the portable micro-kernel: 128-bit vectors, which GCC maps to NEON on
 * aarch64 (8 x 12: 24 of its 32 registers hold accumulators) and to SSE on plain x86-64.
 */
#define SGEMM_VW 4
#define SGEMM_MR 8
#define SGEMM_NV 3
#define SGEMM_NAME "generic"
#define SGEMM_SYM hidp__sgemm_kernel_generic
#include "sgemm_isa.h"
#include "sgemm_kernel.inc"
