# HIDP_CHECK_HWLOC: hwloc 2.x (the cpukinds API needs 2.4; older versions still build, with
# every core treated as one kind).
AC_DEFUN([HIDP_CHECK_HWLOC], [
  PKG_CHECK_MODULES([HWLOC], [hwloc >= 2.0], [hidp_hwloc=$($PKG_CONFIG --modversion hwloc)], [
    AC_CHECK_LIB([hwloc], [hwloc_topology_init], [HWLOC_LIBS=-lhwloc; hidp_hwloc=yes],
      [AC_MSG_ERROR([hwloc not found (Debian: apt-get install libhwloc-dev)])])
  ])
])
