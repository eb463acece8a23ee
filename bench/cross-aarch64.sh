#!/bin/sh
# cross-aarch64.sh - the whole aarch64 (64-bit ARM board) build on a Debian 12 x86-64 machine,
# from a fresh clone: installs the cross toolchain, the arm64 libraries and qemu-user (apt, as
# root), bootstraps, configures out of tree with --host=aarch64-linux-gnu --enable-picky,
# builds, runs `make check` with every test program under qemu-aarch64 (configure finds it;
# no binfmt_misc needed), stages `make install DESTDIR=...` and prints the test counts and the
# sizes of the aarch64 library and tool. README.md, "Cross-compiling for a board", says more.
set -eu

# Debian 12 package names. pkgconf:arm64 brings aarch64-linux-gnu-pkg-config, which configure
# picks up for --host=aarch64-linux-gnu; libhwloc-plugins:arm64 lets hwloc read the test XML
# topologies (its built-in reader takes only files hwloc wrote itself).
NATIVE_PACKAGES="build-essential autoconf automake libtool pkg-config"
CROSS_PACKAGES="crossbuild-essential-arm64 pkgconf:arm64 libopenblas-dev:arm64 libhwloc-dev:arm64 libhwloc-plugins:arm64 qemu-user"
OPTIONAL_PACKAGES="libpapi-dev:arm64"
HOST=aarch64-linux-gnu

usage() {
    cat <<EOF
usage: bench/cross-aarch64.sh [--no-install] [--build-dir DIR] [--stage DIR] [-j N]
                              [--no-check] [--configure-flags "FLAGS"]

Cross-builds hidp for $HOST and runs its tests under qemu-user:
  1. apt: dpkg --add-architecture arm64, then
       $NATIVE_PACKAGES
       $CROSS_PACKAGES
       $OPTIONAL_PACKAGES (if it installs)
  2. ./bootstrap when the tree has no configure script yet
  3. configure in DIR: --host=$HOST --enable-picky FLAGS
  4. make -j N, then make -j N check (the tests run under qemu-aarch64)
  5. make install DESTDIR=STAGE, and the sizes of what a board gets

  --no-install        skip step 1 (the packages are already there; needs no root)
  --build-dir DIR     build directory (default: build-aarch64 in the source tree)
  --stage DIR         staging directory for make install (default: DIR/stage)
  -j, --jobs N        parallel make jobs (default 2)
      --no-check      build and stage only, without the emulated tests
      --configure-flags FLAGS  more configure options, e.g. "--prefix=/usr"
      --print-packages  print the apt-get install line of step 1 and exit
  -h, --help          this text

The source tree must not be configured in place (run 'make distclean' there first).
Ends with a line "aarch64: N passed, N failed, N skipped"; exit status 0 only when the build,
the tests and the install all succeed.
EOF
}

install=yes check=yes jobs=2 build='' stage='' extra=''
while [ $# -gt 0 ]; do
    case $1 in
    --no-install) install=no ;;
    --no-check) check=no ;;
    --build-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; build=$2; shift ;;
    --stage) [ $# -ge 2 ] || { usage >&2; exit 2; }; stage=$2; shift ;;
    -j | --jobs) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs=$2; shift ;;
    -j[0-9]*) jobs=${1#-j} ;;
    --configure-flags) [ $# -ge 2 ] || { usage >&2; exit 2; }; extra=$2; shift ;;
    --print-packages)
        echo "apt-get install -y --no-install-recommends $NATIVE_PACKAGES $CROSS_PACKAGES $OPTIONAL_PACKAGES"
        exit 0
        ;;
    -h | --help) usage; exit 0 ;;
    *) echo "cross-aarch64.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case $jobs in '' | *[!0-9]*) echo "cross-aarch64.sh: -j takes a number, not '$jobs'" >&2; exit 2 ;; esac

src=$(cd "$(dirname "$0")/.." && pwd)
build=${build:-$src/build-aarch64}
start=$(date +%s)
step() { echo "== [$(($(date +%s) - start)) s] $*"; }

if [ -f "$src/config.status" ]; then
    echo "cross-aarch64.sh: $src is configured in place; run 'make distclean' there first" >&2
    exit 1
fi

if [ "$install" = yes ]; then
    step "installing the cross toolchain, arm64 libraries and qemu-user"
    if [ "$(id -u)" -ne 0 ]; then
        echo "cross-aarch64.sh: installing packages needs root (or pass --no-install)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update -qq
    # shellcheck disable=SC2086  # word lists
    apt-get install -y -qq --no-install-recommends $NATIVE_PACKAGES $CROSS_PACKAGES >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $OPTIONAL_PACKAGES >/dev/null 2>&1 ||
        echo "   ($OPTIONAL_PACKAGES did not install: building without PAPI)"
fi
for tool in $HOST-gcc $HOST-pkg-config qemu-aarch64 autoreconf; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "cross-aarch64.sh: $tool not found (run without --no-install, as root)" >&2
        exit 1
    }
done

if [ ! -x "$src/configure" ]; then
    step "bootstrap"
    "$src/bootstrap"
fi

step "configure --host=$HOST --enable-picky${extra:+ $extra} in $build"
mkdir -p "$build"
cd "$build"
# shellcheck disable=SC2086  # extra is a list of options
"$src/configure" --host=$HOST --enable-picky $extra >configure.out 2>&1 || {
    tail -30 configure.out >&2
    echo "cross-aarch64.sh: configure failed (whole output: $build/configure.out, config.log)" >&2
    exit 1
}
sed -n '/^hidp .* configured/,$p' configure.out

step "make -j$jobs"
make -j"$jobs" >make.out 2>&1 || {
    grep -E -B2 -A8 'error|Error' make.out | tail -40 >&2
    echo "cross-aarch64.sh: the build failed (whole output: $build/make.out)" >&2
    exit 1
}

pass=0 fail=0 skip=0 status=0
if [ "$check" = yes ]; then
    step "make -j$jobs check, under $(sed -n 's/^HIDP_EMULATOR = //p' Makefile)"
    make -j"$jobs" check >check.out 2>&1 || status=$?
    count() {
        n=$(sed -n "s/^# $1: *//p" check.out | tail -1)
        echo "${n:-0}"
    }
    pass=$(count PASS) skip=$(count SKIP)
    fail=$(($(count FAIL) + $(count ERROR) + $(count XPASS)))
    sed -n '/^# TOTAL/,/^# ERROR/p' check.out | sed 's/^#/  /'
    if [ "$status" -ne 0 ] || ! grep -q '^# TOTAL' check.out; then
        grep -E '^(FAIL|ERROR|XPASS)|rror' check.out | head -40 >&2 || true
        echo "cross-aarch64.sh: make check failed (logs: $build/test/*.log, $build/check.out)" >&2
        [ "$fail" -gt 0 ] || fail=1
        status=1
    fi
    echo "   skipped under emulation, by reason:"
    sed -n 's/^SKIP: \([^ ]*\) .*# SKIP \(.*\)/\1: \2/p' check.out | sort | uniq -c | sort -rn |
        sed 's/^/   /'
fi

stage=${stage:-$build/stage}
step "make install DESTDIR=$stage"
rm -rf "$stage"
make install DESTDIR="$stage" >install.out 2>&1 || {
    tail -20 install.out >&2
    echo "cross-aarch64.sh: make install failed" >&2
    exit 1
}
lib=$(find "$stage" -name 'libhidp.so.*.*.*' -type f | head -1)
tool=$(find "$stage" -path '*/bin/hidp' -type f | head -1)
size() { stat -c %s "$1"; }
stripped() {
    $HOST-strip -o "$build/stripped.tmp" "$1" && size "$build/stripped.tmp"
    rm -f "$build/stripped.tmp"
}
echo "   staged files:"
(cd "$stage" && find . ! -type d | sort | sed 's/^\./     /')
echo "   aarch64 sizes (bytes)          installed   stripped"
printf '     %-28s %9d %10d\n' "${lib##*/}" "$(size "$lib")" "$(stripped "$lib")"
printf '     %-28s %9d %10d\n' "hidp" "$(size "$tool")" "$(stripped "$tool")"
file "$lib" "$tool" 2>/dev/null | sed "s|$stage||; s/^/   /" || true
echo "   for a board: copy $stage to its root ('make install-strip' gives stripped files)"

step "done"
echo "aarch64: $pass passed, $fail failed, $skip skipped"
exit "$status"
