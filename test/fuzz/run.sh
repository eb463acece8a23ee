#!/bin/sh
# run.sh - build the libFuzzer harnesses with clang and run each one for a bounded time.
#
# Usage: test/fuzz/run.sh [SECONDS]      (default 60 per harness; or FUZZ_TIME=SECONDS)
#
# Builds in a fresh temporary directory with `CC=clang configure --enable-fuzzing` (ASan and
# UBSan on, see m4/hidp_cflags.m4), then runs test/fuzz/fuzz_onnx and test/fuzz/fuzz_npy with
# -max_total_time. The seeds in test/fuzz/corpus are read but never written: new inputs the
# fuzzer finds go into a work corpus in the build directory. On a crash the reproducer
# (crash-*, leak-*, timeout-*) is kept in the build directory, whose path is printed, and the
# script exits non-zero; reproduce with `BUILD/test/fuzz/fuzz_onnx CRASH-FILE`. On success the
# build directory is removed unless KEEP=1.
#
# Needs clang with libFuzzer (Debian: clang and libclang-rt-dev for its version). Other knobs:
# CC (default clang), JOBS (make -j, default 2), FUZZ_ARGS (extra libFuzzer flags).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-${FUZZ_TIME:-60}}
jobs=${JOBS:-2}
build=$(mktemp -d "${TMPDIR:-/tmp}/hidp-fuzz.XXXXXX")
echo "run.sh: building in $build"

if [ ! -x "$src/configure" ]; then
    (cd "$src" && ./bootstrap)
fi
cd "$build"
# --enable-fuzzing instruments the library itself for coverage (m4/hidp_cflags.m4).
if ! CC=${CC:-clang} CFLAGS="${CFLAGS:--g -O1}" \
    "$src/configure" --enable-fuzzing >configure.log 2>&1; then
    tail -n 5 configure.log
    echo "run.sh: configure failed (see $build/configure.log)" >&2
    exit 1
fi
make -j"$jobs" test/fuzz/fuzz_onnx test/fuzz/fuzz_npy >make.log 2>&1 || {
    tail -n 20 make.log
    echo "run.sh: build failed (see $build/make.log)" >&2
    exit 1
}

# Tokens that help the fuzzer past the .npy header grammar.
cat >npy.dict <<'EOF'
"\x93NUMPY"
"'descr'"
"'<f4'"
"'fortran_order'"
"False"
"True"
"'shape'"
"(1, 3, 224, 224)"
"(),"
"L,"
EOF

status=0
for h in onnx npy; do
    mkdir -p "work-$h"
    dict=
    [ "$h" = npy ] && dict=-dict=npy.dict
    echo "run.sh: fuzz_$h for $secs s"
    # shellcheck disable=SC2086
    if ./test/fuzz/fuzz_$h -max_total_time="$secs" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/" $dict \
        ${FUZZ_ARGS:-} "work-$h" "$src/test/fuzz/corpus" >"fuzz_$h.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz_$h.log")
        cov=$(grep -o 'cov: [0-9]*' "fuzz_$h.log" | tail -n 1)
        echo "run.sh: fuzz_$h: ok, $runs runs, $cov"
    else
        status=1
        tail -n 40 "fuzz_$h.log"
        echo "run.sh: fuzz_$h FAILED: see $build/fuzz_$h.log and the crash-* file there" >&2
    fi
done

if [ "$status" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$build"
fi
exit "$status"
