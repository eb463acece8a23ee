/*
 * conv_depthwise_generic.c - the depthwise kernel compiled for the portable build (SSE2 on x86-64, NEON on aarch64).
 */
#define DW_ENTRY hidp__conv_depthwise_generic
#define DW_VW 4
#include "conv_depthwise_kernel.inc"
