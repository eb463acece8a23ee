# hidp_simd.m4 - which SIMD kernel sets to build. Each set is compiled with its own -m flags into
# its own convenience library (Makefile.am); the code picks the best one the CPU runs at run
# time, so one x86-64 binary carries AVX-512, AVX2 and plain kernels. Elsewhere (aarch64) only
# the portable kernels are built, which GCC vectorises to NEON.
AC_DEFUN([HIDP_CHECK_SIMD], [
  AC_REQUIRE([AC_CANONICAL_HOST])
  hidp_simd="generic"
  hidp_simd_x86=no
  AS_CASE([$host_cpu], [x86_64], [
    hidp_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -mavx512f -mavx2 -mfma"
    AC_MSG_CHECKING([whether $CC builds AVX-512 and AVX2 kernels])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <immintrin.h>]],
        [[__m512 a = _mm512_set1_ps(1.0f); __m256 b = _mm256_fmadd_ps(_mm256_set1_ps(1.0f),
          _mm256_set1_ps(2.0f), _mm256_set1_ps(3.0f)); (void)a; (void)b;]])],
      [hidp_simd_x86=yes; hidp_simd="avx512 avx2 generic"])
    AC_MSG_RESULT([$hidp_simd_x86])
    CFLAGS=$hidp_save_CFLAGS
  ], [aarch64], [hidp_simd="generic (128-bit vectors: NEON)"])
  # The kernels' loops vectorise at -O2 only when GCC's "very cheap" cost model sees a trip count
  # it likes; the dynamic model also takes strided copies (a stride-2 depthwise band went 2x
  # faster). Given explicitly, these outlive the user's -O2 that comes later on the command line.
  HIDP_KERNEL_OPT_CFLAGS=
  HIDP_TRY_CFLAG([-ftree-vectorize], [HIDP_KERNEL_OPT_CFLAGS])
  HIDP_TRY_CFLAG([-fvect-cost-model=dynamic], [HIDP_KERNEL_OPT_CFLAGS])
  AC_SUBST([HIDP_KERNEL_OPT_CFLAGS])
  AS_IF([test "x$hidp_simd_x86" = xyes],
    [AC_DEFINE([HIDP_HAVE_X86_KERNELS], [1], [Define to build the AVX-512 and AVX2 kernels.])])
  AM_CONDITIONAL([HIDP_SIMD_X86], [test "x$hidp_simd_x86" = xyes])
])
