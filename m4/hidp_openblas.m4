# HIDP_CHECK_OPENBLAS: OpenBLAS through pkg-config, else any library with cblas_sgemm.
AC_DEFUN([HIDP_CHECK_OPENBLAS], [
  PKG_CHECK_MODULES([BLAS], [openblas], [hidp_blas=openblas], [
    hidp_blas=no
    hidp_save_LIBS=$LIBS
    AC_SEARCH_LIBS([cblas_sgemm], [openblas cblas blas], [hidp_blas="fallback ($ac_cv_search_cblas_sgemm)"
      test "$ac_cv_search_cblas_sgemm" = "none required" || BLAS_LIBS=$ac_cv_search_cblas_sgemm])
    LIBS=$hidp_save_LIBS
  ])
  AS_IF([test "x$hidp_blas" = xno],
    [AC_MSG_ERROR([no BLAS with cblas_sgemm found: install OpenBLAS (Debian: apt-get install libopenblas-dev)])])
  hidp_save_CFLAGS=$CFLAGS; hidp_save_LIBS=$LIBS
  CFLAGS="$CFLAGS $BLAS_CFLAGS"; LIBS="$BLAS_LIBS $LIBS"
  AC_CHECK_HEADER([cblas.h], [], [AC_MSG_ERROR([cblas.h not found (Debian: apt-get install libopenblas-dev)])])
  AC_CHECK_FUNCS([openblas_set_num_threads openblas_get_config])
  CFLAGS=$hidp_save_CFLAGS; LIBS=$hidp_save_LIBS
])
