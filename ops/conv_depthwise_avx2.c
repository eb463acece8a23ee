/*
 * conv_depthwise_avx2.c - the depthwise kernel compiled for AVX2 + FMA.
 */
#define DW_ENTRY hidp__conv_depthwise_avx2
#define DW_VW 8
#include "conv_depthwise_kernel.inc"
