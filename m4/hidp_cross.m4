# HIDP_CHECK_EMULATOR: how `make check` runs the programs it built. Natively they run as they
# are. When cross-compiling (./configure --host=aarch64-linux-gnu), the test programs and the
# tool the shell tests call go through HIDP_EMULATOR (Makefile.am: LOG_COMPILER, and
# HIDP_RUN_PREFIX for test/tap.sh), by default qemu-user for the host's CPU, so no binfmt_misc
# registration is needed. The variable can be given to configure or to make:
# `make check HIDP_EMULATOR='qemu-aarch64 -L /path/to/sysroot'`.
AC_DEFUN([HIDP_CHECK_EMULATOR], [
  AC_REQUIRE([AC_CANONICAL_HOST])
  AC_ARG_VAR([HIDP_EMULATOR], [command that runs the host's programs in `make check` when cross-compiling (default: qemu-CPU when found, with -L /usr/HOST when the host's libc is not installed multiarch)])
  hidp_emulator="natively"
  AS_IF([test "x$cross_compiling" = xyes], [
    AS_IF([test -z "$HIDP_EMULATOR"], [
      AS_CASE([$host_cpu],
        [arm*], [hidp_qemu=qemu-arm],
        [i?86], [hidp_qemu=qemu-i386],
        [hidp_qemu=qemu-$host_cpu])
      AC_PATH_PROG([HIDP_QEMU], [$hidp_qemu])
      AS_IF([test -n "$HIDP_QEMU"], [
        HIDP_EMULATOR=$HIDP_QEMU
        # The programs need the host's dynamic loader and a libc of the same build. Debian's
        # multiarch packages (libopenblas-dev:arm64 brings libc6:arm64) put both in /lib and
        # /lib/TRIPLET, where qemu-user finds them with no -L. Only without them, the cross
        # toolchain's own copy in /usr/TRIPLET (libc6-ARCH-cross) is the sysroot: pointing -L
        # there while the libraries come from /lib/TRIPLET pairs that loader with the other
        # libc, whose private layout can differ (seen: glibc 2.36-8cross1's loader with
        # 2.36-9+deb12u14's libc looped forever in the first pthread_create, OpenBLAS's thread
        # pool's at load time unless OPENBLAS_NUM_THREADS=1).
        hidp_multiarch=no
        for hidp_triplet in "$host_alias" "$host"; do
          AS_IF([test -n "$hidp_triplet" && test -e "/lib/$hidp_triplet/libc.so.6"], [hidp_multiarch=yes])
        done
        AS_IF([test "x$hidp_multiarch" = xno], [
          for hidp_sysroot in "/usr/$host_alias" "/usr/$host"; do
            AS_IF([test "x$hidp_sysroot" != x/usr/ && test -d "$hidp_sysroot/lib"], [
              HIDP_EMULATOR="$HIDP_QEMU -L $hidp_sysroot"
              break
            ])
          done
        ])
      ])
    ])
    AS_IF([test -n "$HIDP_EMULATOR"], [hidp_emulator="under $HIDP_EMULATOR"], [
      hidp_emulator="directly: no emulator found (needs binfmt_misc, or set HIDP_EMULATOR)"
      AC_MSG_WARN([cross-compiling without $hidp_qemu: make check can only run where binfmt_misc runs $host_cpu programs (Debian: apt-get install qemu-user, or give HIDP_EMULATOR)])
    ])
  ])
  AC_SUBST([HIDP_EMULATOR])
])
