/*
 * sgemm_isa.h - the micro-kernels compiled for each instruction set (ops/sgemm_<isa>.c). Only
 * ops/sgemm.c refers to them, after checking that the CPU runs the set.
 */
#ifndef HIDP_SGEMM_ISA_H
#define HIDP_SGEMM_ISA_H

#include "sgemm.h"

extern const hidp__sgemm_kernel hidp__sgemm_kernel_generic;
#if HIDP_HAVE_X86_KERNELS
extern const hidp__sgemm_kernel hidp__sgemm_kernel_avx2;
extern const hidp__sgemm_kernel hidp__sgemm_kernel_avx512;
#endif

#endif
