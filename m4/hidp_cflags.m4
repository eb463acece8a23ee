# HIDP_CHECK_CFLAGS: warnings, --enable-picky, --enable-debug, --enable-sanitizers,
# --enable-fuzzing.
AC_DEFUN([HIDP_TRY_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  hidp_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS $1 -Werror"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes]); $2="$$2 $1"], [AC_MSG_RESULT([no])])
  CFLAGS=$hidp_save_CFLAGS
])

AC_DEFUN([HIDP_CHECK_CFLAGS], [
  AC_ARG_ENABLE([picky], [AS_HELP_STRING([--enable-picky], [treat warnings as errors])], [], [enable_picky=no])
  AC_ARG_ENABLE([debug], [AS_HELP_STRING([--enable-debug], [-O0 -g3, assertions on])], [], [enable_debug=no])
  AC_ARG_ENABLE([sanitizers], [AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])], [], [enable_sanitizers=no])
  AC_ARG_ENABLE([fuzzing], [AS_HELP_STRING([--enable-fuzzing], [build the libFuzzer harnesses (needs clang)])], [], [enable_fuzzing=no])

  HIDP_WARN_CFLAGS=
  for f in -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla; do
    HIDP_TRY_CFLAG([$f], [HIDP_WARN_CFLAGS])
  done
  AS_IF([test "x$enable_picky" = xyes], [HIDP_WARN_CFLAGS="$HIDP_WARN_CFLAGS -Werror"])
  AS_IF([test "x$enable_debug" = xyes], [CFLAGS="$CFLAGS -O0 -g3"], [AC_DEFINE([NDEBUG], [1], [Define to turn assertions off.])])
  HIDP_SAN_CFLAGS=
  AS_IF([test "x$enable_sanitizers" = xyes], [
    HIDP_SAN_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  ])
  HIDP_FUZZ_CFLAGS=
  AS_IF([test "x$enable_fuzzing" = xyes], [
    hidp_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link"
    AC_MSG_CHECKING([whether $CC supports libFuzzer])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no]); AC_MSG_ERROR([--enable-fuzzing needs clang with libFuzzer: ./configure CC=clang --enable-fuzzing])])
    CFLAGS=$hidp_save_CFLAGS
    # Everything gets coverage instrumentation (fuzzer-no-link), so libFuzzer sees the library's
    # branches; only the harnesses link libFuzzer's main (-fsanitize=fuzzer).
    HIDP_SAN_CFLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer"
    HIDP_FUZZ_CFLAGS="-fsanitize=fuzzer"
  ])
  AM_CONDITIONAL([ENABLE_FUZZING], [test "x$enable_fuzzing" = xyes])
  AC_SUBST([HIDP_WARN_CFLAGS])
  AC_SUBST([HIDP_SAN_CFLAGS])
  AC_SUBST([HIDP_FUZZ_CFLAGS])
])

AC_DEFUN([HIDP_SUMMARY], [
  cat <<EOT

hidp $PACKAGE_VERSION configured
  compiler:    $CC $CFLAGS
  warnings:    $HIDP_WARN_CFLAGS
  BLAS:        $hidp_blas $BLAS_LIBS
  hwloc:       $hidp_hwloc
  PAPI:        $hidp_papi
  kernels:     $hidp_simd
  tests run:   $hidp_emulator
  sanitizers:  $enable_sanitizers
  fuzzing:     $enable_fuzzing
  debug:       $enable_debug
  prefix:      $prefix

EOT
])
