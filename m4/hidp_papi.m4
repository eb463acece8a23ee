# HIDP_CHECK_PAPI: optional PAPI; --with-papi=yes|no|auto (default auto).
AC_DEFUN([HIDP_CHECK_PAPI], [
  AC_ARG_WITH([papi], [AS_HELP_STRING([--with-papi@<:@=yes|no|auto@:>@], [per-layer hardware counters through PAPI (default: auto)])],
    [], [with_papi=auto])
  hidp_papi=no
  AS_IF([test "x$with_papi" != xno], [
    PKG_CHECK_MODULES([PAPI], [papi], [hidp_papi=yes], [
      AC_CHECK_LIB([papi], [PAPI_library_init], [PAPI_LIBS=-lpapi; hidp_papi=yes])
    ])
    AS_IF([test "x$hidp_papi" = xyes], [
      hidp_save_CFLAGS=$CFLAGS; CFLAGS="$CFLAGS $PAPI_CFLAGS"
      AC_CHECK_HEADER([papi.h], [], [hidp_papi=no])
      CFLAGS=$hidp_save_CFLAGS
    ])
    AS_IF([test "x$with_papi" = xyes && test "x$hidp_papi" = xno],
      [AC_MSG_ERROR([--with-papi given but PAPI not found (Debian: apt-get install libpapi-dev)])])
  ])
  AS_IF([test "x$hidp_papi" = xyes], [AC_DEFINE([HAVE_PAPI], [1], [Define if PAPI is used.])],
    [PAPI_CFLAGS=; PAPI_LIBS=])
  AM_CONDITIONAL([HAVE_PAPI], [test "x$hidp_papi" = xyes])
])
