#!/bin/sh
# test_cli.sh - the `hidp` tool end to end: --help everywhere, a good run, and every bad input
# the engine-core issue lists (each must fail with a one-line reason and write nothing).
set -u
bin=${HIDP_BUILDDIR:-.}/hidp
data=${HIDP_SRCDIR:-.}/test/data
tap_name=cli
. "${HIDP_SRCDIR:-.}/test/tap.sh"

# npy FILE DESCR FORTRAN SHAPE FLOATS: writes a .npy with the given header and FLOATS*4 zero bytes.
npy() {
    dict="{'descr': '$2', 'fortran_order': $3, 'shape': ($4), }"
    len=$((${#dict} + 1))
    pad=$(( (64 - (10 + len) % 64) % 64 ))
    hlen=$((len + pad))
    {
        printf '\223NUMPY\001\000'
        printf "\\$(printf %03o $((hlen % 256)))\\$(printf %03o $((hlen / 256)))"
        printf '%s' "$dict"
        printf "%${pad}s\n" ""
        head -c $(($5 * 4)) /dev/zero
    } >"$1"
}

if [ ! -x "$bin" ]; then
    echo "1..0 # SKIP $bin not built"
    exit 0
fi

model=$data/tiny_cnn.onnx
input=$data/tiny_cnn.input.npy

expect 0 "usage: hidp" "hidp --help" -- --help
expect 0 "usage: hidp run" "hidp run --help" -- run --help
expect 0 "usage: hidp info" "hidp info --help" -- info --help
expect 2 "unknown command" "unknown command" -- frobnicate
expect 2 "usage" "hidp without a command" --
expect 0 "Conv" "info lists the layers" -- info "$model"
expect 0 "MFLOPs" "info prints totals" -- info "$model"

expect 0 "" "run writes the output" -- run "$model" -i "$input" -o "$tmp/y.npy"
if [ -s "$tmp/y.npy" ] && [ "$(head -c 6 "$tmp/y.npy" | tail -c 5)" = "NUMPY" ]; then
    ok "output is a .npy file"
else
    not_ok "output is a .npy file" "$(ls -l "$tmp" 2>&1)"
fi
expect 0 "median" "run -n times several runs" -- run "$model" -i "$input" -t 2 -n 3 -o "$tmp/y2.npy"
cmp -s "$tmp/y.npy" "$tmp/y2.npy" && ok "2 threads give the same bytes as 1" || not_ok "2 threads give the same bytes as 1"
expect 0 "output prob" "run without -o prints a summary" -- run "$model" -i "$input"

# Bad input: each fails with a one-line reason naming the culprit, and writes nothing.
check_none() {
    if [ -e "$tmp/never.npy" ]; then not_ok "$1: nothing written" "found $tmp/never.npy"; rm -f "$tmp/never.npy"
    else ok "$1: nothing written"; fi
}
expect 1 "missing.onnx" "missing model file" -- run "$tmp/missing.onnx" -i "$input" -o "$tmp/never.npy"
check_none "missing model"
expect 1 "not an ONNX model" "a .npy given as the model" -- run "$input" -i "$input" -o "$tmp/never.npy"
check_none "not ONNX"
head -c 1000 "$model" >"$tmp/trunc.onnx"
expect 1 "trunc.onnx" "truncated model" -- run "$tmp/trunc.onnx" -i "$input" -o "$tmp/never.npy"
check_none "truncated model"
: >"$tmp/empty.onnx"
expect 1 "empty.onnx" "empty model file" -- info "$tmp/empty.onnx"
head -c 4096 /dev/urandom >"$tmp/noise.onnx"
expect 1 "noise.onnx" "random bytes as a model" -- info "$tmp/noise.onnx"
expect 1 "LRN (node 'lrn1')" "unsupported op named with its node" -- run "$data/unsupported_op.onnx" -i "$input" -o "$tmp/never.npy"
check_none "unsupported op"
expect 1 "LRN (node 'lrn1')" "info lists unsupported ops" -- info "$data/unsupported_op.onnx"
expect 1 "missing.npy" "missing input file" -- run "$model" -i "$tmp/missing.npy" -o "$tmp/never.npy"
npy "$tmp/shape.npy" "<f4" False "1, 3, 17, 16" $((3 * 17 * 16))
expect 1 "1x3x17x16" "input of the wrong shape" -- run "$model" -i "$tmp/shape.npy" -o "$tmp/never.npy"
check_none "wrong shape"
npy "$tmp/rank.npy" "<f4" False "3, 16, 16" $((3 * 16 * 16))
expect 1 "image" "input of the wrong rank" -- run "$model" -i "$tmp/rank.npy" -o "$tmp/never.npy"
npy "$tmp/f64.npy" "<f8" False "1, 3, 16, 16" $((2 * 3 * 16 * 16))
expect 1 "<f8" "float64 input refused" -- run "$model" -i "$tmp/f64.npy" -o "$tmp/never.npy"
npy "$tmp/be.npy" ">f4" False "1, 3, 16, 16" $((3 * 16 * 16))
expect 1 ">f4" "big-endian input refused" -- run "$model" -i "$tmp/be.npy" -o "$tmp/never.npy"
npy "$tmp/fortran.npy" "<f4" True "1, 3, 16, 16" $((3 * 16 * 16))
expect 1 "ortran" "Fortran-order input refused" -- run "$model" -i "$tmp/fortran.npy" -o "$tmp/never.npy"
npy "$tmp/short.npy" "<f4" False "1, 3, 16, 16" 100
expect 1 "short.npy" "truncated input data" -- run "$model" -i "$tmp/short.npy" -o "$tmp/never.npy"
check_none "bad inputs"
expect 1 "no-such-dir" "unwritable output path" -- run "$model" -i "$input" -o "$tmp/no-such-dir/y.npy"
if [ -e "$tmp/no-such-dir" ]; then not_ok "no directory created"; else ok "no directory created"; fi
expect 2 "--threads" "bad thread count" -- run "$model" -i "$input" -t 0
expect 2 "--threads" "non-numeric thread count" -- run "$model" -i "$input" -t two
expect 2 "input is needed" "run without -i" -- run "$model"
expect 0 "output prob" "run on 2 threads, cores all, equal shares" -- run "$model" -i "$input" -t 2 --cores all --split equal
expect 1 "PU 99 is not one of" "run --cores naming a PU the board lacks" -- run "$model" -i "$input" -t 2 --cores 99
expect 1 "cores takes all, big, little" "run --cores with a bad list" -- run "$model" -i "$input" --cores 1-
expect 2 "split takes calibrated or equal" "run --split with a bad value" -- run "$model" -i "$input" --split fast

# hidp topo, on a saved topology (never the host's) and on this machine.
expect 0 "usage: hidp topo" "hidp topo --help" -- topo --help
expect 2 "usage" "hidp topo with an argument" -- topo extra
expect 0 "^cache " "hidp topo on this machine (calibrated or not, it says where the cache is)" -- topo
export HWLOC_XMLFILE="$data/topo/rk3588.xml"
expect 0 "Cortex-A55  *0-3 " "hidp topo on the RK3588 XML" -- topo
expect 0 '"pus": \[4, 5, 6, 7\], "cores": 4, "core_type": "Cortex-A76"' \
    "hidp topo --json on the RK3588 XML" -- topo --json
HWLOC_XMLFILE=$tmp/no-such.xml
expect 1 "no-such.xml" "hidp topo with a missing HWLOC_XMLFILE" -- topo
if command -v python3 >/dev/null 2>&1; then
    if HWLOC_XMLFILE=$data/topo/intel-hybrid.xml "$bin" topo --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
k = d["kinds"]
assert [x["pus"] for x in k] == [[0, 1, 2, 3], [4, 5, 6, 7]], k
assert k[0]["core_type"] == "IntelCore" and k[0]["cores"] == 2 and k[0]["speed"] is None, k
' >"$tmp/json.err" 2>&1; then ok "hidp topo --json parses"; else not_ok "hidp topo --json parses" "$(cat "$tmp/json.err")"; fi
else
    skip "hidp topo --json parses" "python3 not installed"
fi
unset HWLOC_XMLFILE

tap_done
