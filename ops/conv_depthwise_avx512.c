/*
 * conv_depthwise_avx512.c - the depthwise kernel compiled for AVX-512.
 */
#define DW_ENTRY hidp__conv_depthwise_avx512
#define DW_VW 16
#include "conv_depthwise_kernel.inc"
