#!/bin/sh
# test_bench_kernels.sh - smoke test of bench/bench_kernels and bench/plot_kernels.sh: tiny
# shapes, one sample each, so it runs in seconds. It checks the program runs, that CSV and JSON
# carry every field with sane values (positive GFLOP/s, FLOP counts that match the shapes, hidp's
# sgemm agreeing with cblas_sgemm), and that bad arguments fail. It never checks speed.
set -u
bin=${HIDP_BUILDDIR:-.}/bench/bench_kernels
src=${HIDP_SRCDIR:-.}
fixtures=${HIDP_FIXTURES:-$src/../shared/fixtures}
tap_name=kbench
. "$src/test/tap.sh"

check() { # DESCRIPTION DIAGNOSTIC COMMAND...: ok if COMMAND succeeds
    what=$1 diag=$2
    shift 2
    if "$@"; then ok "$what"; else not_ok "$what" "$diag"; fi
}

if [ ! -x "$bin" ]; then
    echo "1..0 # SKIP $bin not built"
    exit 0
fi

# Fast settings: one sample, a given peak (no 0.3 s measurement).
fast="-r 1 --time 0.001 --peak 100"

# run NAME ARGS...: runs bench_kernels ARGS into $tmp/NAME.out / .err, returns its status.
run() {
    name=$1
    shift
    "$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
}

# col FILE KIND COLUMN: the values of COLUMN in the CSV rows of kind KIND, one per line.
col() {
    grep -v '^#' "$1" | awk -F, -v kind="$2" -v name="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        $1 == kind { if (c) print $c; else print "NO_SUCH_COLUMN" }'
}

# all_in FILE KIND COLUMN LO HI: every value of the column is a number in [LO, HI], and there is
# at least one.
all_in() {
    vals=$(col "$1" "$2" "$3")
    [ -n "$vals" ] || return 1
    echo "$vals" | awk -v lo="$4" -v hi="$5" '
        !/^-?[0-9.]+(e[-+]?[0-9]+)?$/ { bad = 1 } ($1 + 0 < lo || $1 + 0 > hi) { bad = 1 }
        END { exit bad }'
}

# has_fields FILE FIELD...: the CSV header names every FIELD.
has_fields() {
    f=$1
    shift
    head=$(grep -v '^#' "$f" | head -n 1)
    for k in "$@"; do
        case ",$head," in *",$k,"*) ;; *) echo "# missing field $k in: $head"; return 1 ;; esac
    done
}

# ---- usage ----
run help --help
check "--help exits 0 and names the commands" "$(cat "$tmp/help.out")" \
    grep -q "sgemm.*" "$tmp/help.out"
run bad frobnicate
check "unknown command: exit 2" "status $?" test $? -eq 2
run bad sgemm --shapes "3,4"
st=$?
check "bad --shapes: exit 2 with a reason" "status $st: $(cat "$tmp/bad.err")" \
    sh -c "[ $st -eq 2 ] && grep -q 'shapes' '$tmp/bad.err'"
run bad sgemm --isa nosuchisa
check "unknown --isa: exit 2" "status $?" test $? -eq 2
run bad conv
check "conv without a model: exit 2" "status $?" test $? -eq 2
run bad conv "$tmp/missing.onnx" $fast
st=$?
check "conv on a missing file: exit 1 naming it" "status $st: $(cat "$tmp/bad.err")" \
    sh -c "[ $st -eq 1 ] && grep -q 'missing.onnx' '$tmp/bad.err'"

# ---- sgemm ----
if run sg sgemm --shapes "16,32,24;33,17,9;1,1,1" $fast --csv; then
    ok "sgemm --csv runs"
else
    not_ok "sgemm --csv runs" "$(cat "$tmp/sg.err")"
fi
check "sgemm CSV has every field" "$(cat "$tmp/sg.out")" has_fields "$tmp/sg.out" kind shape m n k \
    isa mflop hidp_ms hidp_gflops cblas_gflops ratio hidp_peak cblas_peak peak_gflops max_err
check "sgemm CSV: one row per shape" "$(col "$tmp/sg.out" sgemm shape | tr '\n' ' ')" \
    test "$(col "$tmp/sg.out" sgemm shape | tr '\n' ' ')" = "16x32x24 33x17x9 1x1x1 "
check "sgemm CSV: mflop = 2 M N K" "$(col "$tmp/sg.out" sgemm mflop | tr '\n' ' ')" \
    test "$(col "$tmp/sg.out" sgemm mflop | tr '\n' ' ')" = "0.024576 0.010098 2e-06 "
all_in "$tmp/sg.out" sgemm hidp_gflops 1e-6 1e6 && all_in "$tmp/sg.out" sgemm cblas_gflops 1e-6 1e6 &&
    ok "sgemm: hidp and cblas GFLOP/s are positive numbers" ||
    not_ok "sgemm: hidp and cblas GFLOP/s are positive numbers" "$(cat "$tmp/sg.out")"
all_in "$tmp/sg.out" sgemm max_err 0 1e-5 && ok "sgemm: hidp agrees with cblas_sgemm (max_err <= 1e-5)" ||
    not_ok "sgemm: hidp agrees with cblas_sgemm (max_err <= 1e-5)" "$(col "$tmp/sg.out" sgemm max_err)"
all_in "$tmp/sg.out" sgemm peak_gflops 100 100 && ok "sgemm: --peak is used" ||
    not_ok "sgemm: --peak is used" "$(col "$tmp/sg.out" sgemm peak_gflops)"
check "sgemm: a geomean row" "$(cat "$tmp/sg.out")" test "$(col "$tmp/sg.out" geomean shape)" = geomean

if run sgj sgemm --shapes "8,8,8" $fast --json -t 2 --isa generic; then
    ok "sgemm --json -t 2 --isa generic runs"
else
    not_ok "sgemm --json -t 2 --isa generic runs" "$(cat "$tmp/sgj.err")"
fi
check "JSON: every line is one object" "$(cat "$tmp/sgj.out")" \
    sh -c "! grep -v '^{.*}\$' '$tmp/sgj.out'"
check "JSON: a meta object with threads 2 and the hidp ISA" "$(head -n 1 "$tmp/sgj.out")" \
    sh -c "head -n 1 '$tmp/sgj.out' | grep '\"kind\":\"meta\"' | grep '\"threads\":2' | grep -q '\"hidp_isa\":\"generic\"'"
check "JSON: the sgemm object has the fields" "$(cat "$tmp/sgj.out")" \
    sh -c "grep '\"kind\":\"sgemm\"' '$tmp/sgj.out' | grep '\"m\":8,\"n\":8,\"k\":8' | grep '\"hidp_gflops\":[0-9]' | grep -q '\"cblas_gflops\":[0-9]'"

run sga sgemm --isa all --shapes "8,9,10" $fast --csv
check "sgemm --isa all: a row per kernel, generic among them" "$(cat "$tmp/sga.out")" \
    sh -c "[ \"\$(grep -c '^sgemm,' '$tmp/sga.out')\" -ge 1 ] && grep -q '^sgemm,8x9x10,8,9,10,generic,' '$tmp/sga.out'"

# ---- im2col ----
if run im im2col --shapes "4,9,11,3,1;3,10,10,3,2" $fast --csv; then
    ok "im2col --csv runs"
else
    not_ok "im2col --csv runs" "$(cat "$tmp/im.err")"
fi
check "im2col CSV has every field" "$(cat "$tmp/im.out")" has_fields "$tmp/im.out" c h w k s \
    pixels cols_mb im2col_ms im2col_gbs pack_gbs memcpy_gbs ratio
check "im2col: output pixels per shape" "$(col "$tmp/im.out" im2col pixels | tr '\n' ' ')" \
    test "$(col "$tmp/im.out" im2col pixels | tr '\n' ' ')" = "99 25 "
all_in "$tmp/im.out" im2col im2col_gbs 1e-6 1e5 && all_in "$tmp/im.out" im2col memcpy_gbs 1e-6 1e5 &&
    ok "im2col: GB/s are positive numbers" || not_ok "im2col: GB/s are positive numbers" "$(cat "$tmp/im.out")"

# ---- conv ----
model=$src/test/data/tiny_cnn.onnx
if run cv conv "$model" $fast --csv; then
    ok "conv tiny_cnn --csv runs"
else
    not_ok "conv tiny_cnn --csv runs" "$(cat "$tmp/cv.err")"
fi
check "conv CSV has every field" "$(cat "$tmp/cv.out")" has_fields "$tmp/cv.out" kind layer kernel \
    cin cout h w kh kw s g gemm_m gemm_n gemm_k batch mflop conv_ms conv_gflops \
    hidp_sgemm_gflops cblas_gflops ratio vs_hidp peak_frac peak_gflops
# tiny_cnn: a 3x3 conv 3->8 on 16x16 (pad 1), a 1x1 conv 8->8 on 8x8.
check "conv: one row per Conv, with its MFLOP" "$(col "$tmp/cv.out" conv mflop | tr '\n' ' ')" \
    test "$(col "$tmp/cv.out" conv mflop | tr '\n' ' ')" = "0.110592 0.008192 "
check "conv: GEMM shapes (M,N,K)" "$(grep -v '^#' "$tmp/cv.out")" test \
    "$(col "$tmp/cv.out" conv gemm_m | tr '\n' ,)$(col "$tmp/cv.out" conv gemm_n | tr '\n' ,)$(col "$tmp/cv.out" conv gemm_k | tr '\n' ,)" \
    = "8,8,256,64,27,8,"
# Which kernel ops/conv.c picks may change; that each row names one may not.
kernels=$(col "$tmp/cv.out" conv kernel | grep -cE '^(im2col|1x1|dw|shifted|winograd|other)$')
check "conv: each row names its kernel" "$(col "$tmp/cv.out" conv kernel | tr '\n' ' ')" \
    test "$kernels" -eq 2
all_in "$tmp/cv.out" conv conv_gflops 1e-6 1e6 && all_in "$tmp/cv.out" conv cblas_gflops 1e-6 1e6 &&
    all_in "$tmp/cv.out" conv ratio 1e-6 1e6 &&
    ok "conv: GFLOP/s and ratios are positive numbers" ||
    not_ok "conv: GFLOP/s and ratios are positive numbers" "$(cat "$tmp/cv.out")"
check "conv: a total row summing the MFLOP" "$(col "$tmp/cv.out" total mflop)" \
    test "$(col "$tmp/cv.out" total mflop)" = "0.118784"

if run cvj conv "$model" $fast --json -t 2; then
    ok "conv --json -t 2 runs"
else
    not_ok "conv --json -t 2 runs" "$(cat "$tmp/cvj.err")"
fi
check "conv JSON: meta, 2 convs, a total" "$(cat "$tmp/cvj.out")" \
    test "$(grep -c '"kind":"conv"' "$tmp/cvj.out") $(grep -c '"kind":"total"' "$tmp/cvj.out") $(grep -c '"kind":"meta"' "$tmp/cvj.out")" = "2 1 1"

# Grouped, depthwise and dilated convs, from the shared fixture.
if [ -r "$fixtures/opzoo.onnx" ]; then
    if run oz conv "$fixtures/opzoo.onnx" $fast --csv; then
        ok "conv opzoo (grouped, depthwise, dilated) runs"
    else
        not_ok "conv opzoo (grouped, depthwise, dilated) runs" "$(cat "$tmp/oz.err")"
    fi
    check "conv opzoo: a depthwise layer, with one GEMM per group" "$(grep -v '^#' "$tmp/oz.out")" \
        sh -c "grep -v '^#' '$tmp/oz.out' | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next }
            \$c[\"g\"] > 1 && \$c[\"g\"] == \$c[\"cin\"] && \$c[\"batch\"] == \$c[\"g\"] &&
            \$c[\"gemm_m\"] * \$c[\"g\"] == \$c[\"cout\"] && \$c[\"gemm_k\"] == 9 { f = 1 }
            END { exit !f }'"
else
    skip "conv opzoo" "no $fixtures/opzoo.onnx"
    skip "conv opzoo depthwise row" "no fixture"
fi

# ---- peak ----
if run pk peak --json; then
    ok "peak --json runs"
else
    not_ok "peak --json runs" "$(cat "$tmp/pk.err")"
fi
check "peak: every ISA row has a positive GFLOP/s" "$(cat "$tmp/pk.out")" \
    sh -c "grep '\"kind\":\"peak\"' '$tmp/pk.out' | sed 's/.*\"gflops\"://; s/}//' |
           awk '{ rows++ } !(\$1 + 0 > 0) { bad = 1 } END { exit bad || !rows }'"

# ---- stream ----
if run st stream -t 1 -r 1 --time 0.02 --csv; then
    ok "stream --csv runs"
else
    not_ok "stream --csv runs" "$(cat "$tmp/st.err")"
fi
sets=$(col "$tmp/st.out" stream set | tr '\n' ' ')
[ "$sets" = "l2 l3 dram " ] && ok "stream: one row per working set (l2, l3, dram)" ||
    not_ok "stream: one row per working set (l2, l3, dram)" "sets: $sets"
check "stream: every field in the header" "$(head -n 3 "$tmp/st.out")" \
    has_fields "$tmp/st.out" kind set bytes threads one_gbs all_gbs per_core scaling
for c in one_gbs all_gbs per_core scaling; do
    all_in "$tmp/st.out" stream $c 0.001 100000 && ok "stream: $c is a positive figure" ||
        not_ok "stream: $c is a positive figure" "$(col "$tmp/st.out" stream $c | tr '\n' ' ')"
done
if [ "$(nproc)" -ge 64 ]; then
    skip "stream -t beyond this machine's CPUs says why" "this machine has 64 CPUs or more"
elif run st2 stream -t 64; then
    not_ok "stream -t beyond this machine's CPUs fails" "it succeeded"
else
    check "stream -t beyond this machine's CPUs says why" "$(cat "$tmp/st2.err")" \
        grep -q "may use" "$tmp/st2.err"
fi

# ---- xcore ----
if [ "$(nproc)" -lt 2 ]; then
    skip "xcore --csv runs" "one CPU here"
elif run xc xcore -r 1 --csv; then
    ok "xcore --csv runs"
    sets=$(col "$tmp/xc.out" xcore set | tr '\n' ' ')
    [ "$sets" = "l2 l3 " ] && ok "xcore: one row per working set (l2, l3)" ||
        not_ok "xcore: one row per working set (l2, l3)" "sets: $sets"
    check "xcore: every field in the header" "$(head -n 3 "$tmp/xc.out")" \
        has_fields "$tmp/xc.out" kind set bytes handoff_ns other_gbs own_gbs own_over_other
    for c in handoff_ns other_gbs own_gbs own_over_other; do
        all_in "$tmp/xc.out" xcore $c 0.001 10000000 && ok "xcore: $c is a positive figure" ||
            not_ok "xcore: $c is a positive figure" "$(col "$tmp/xc.out" xcore $c | tr '\n' ' ')"
    done
else
    not_ok "xcore --csv runs" "$(cat "$tmp/xc.err")"
fi
if ! command -v taskset >/dev/null 2>&1; then
    skip "xcore on one CPU says it needs two" "no taskset"
else
    taskset -c 0 "$bin" xcore -r 1 >"$tmp/xc1.out" 2>"$tmp/xc1.err"
    st=$?
    check "xcore on one CPU: exit 2 saying it needs two" "status $st: $(cat "$tmp/xc1.err")" \
        sh -c "[ $st -eq 2 ] && grep -q 'needs two CPUs' '$tmp/xc1.err'"
fi

# ---- plot ----
plot=$src/bench/plot_kernels.sh
sh "$plot" -h >"$tmp/pl.help" 2>&1
check "plot_kernels.sh -h prints its header, down to its last line and no further" \
    "$(cat "$tmp/pl.help")" test "$(tail -n 1 "$tmp/pl.help")" = "macOS: brew install gnuplot)."
if ! command -v gnuplot >/dev/null 2>&1; then
    skip "plot_kernels.sh writes PNG and SVG" "gnuplot not installed"
    if sh "$plot" "$tmp/cv.out" "$tmp/plot" 2>"$tmp/pl.err"; then
        not_ok "plot_kernels.sh without gnuplot fails" "it succeeded"
    else
        check "plot_kernels.sh without gnuplot says how to install it" "$(cat "$tmp/pl.err")" \
            grep -q "apt-get install gnuplot" "$tmp/pl.err"
    fi
else
    grep -v '^{' "$tmp/cv.out" >"$tmp/conv.csv"
    if sh "$plot" "$tmp/conv.csv" "$tmp/conv" >"$tmp/pl.out" 2>&1; then
        check "plot_kernels.sh: conv PNG and SVG" "$(ls -l "$tmp")" \
            sh -c "head -c 4 '$tmp/conv.png' | grep -q PNG && grep -q '<svg' '$tmp/conv.svg'"
    else
        not_ok "plot_kernels.sh: conv PNG and SVG" "$(cat "$tmp/pl.out")"
    fi
    if sh "$plot" "$tmp/sg.out" "$tmp/sg" >"$tmp/pl.out" 2>&1 && [ -s "$tmp/sg.png" ] && [ -s "$tmp/sg.svg" ]; then
        ok "plot_kernels.sh: sgemm PNG and SVG"
    else
        not_ok "plot_kernels.sh: sgemm PNG and SVG" "$(cat "$tmp/pl.out")"
    fi
fi
if sh "$plot" "$tmp/pk.out" "$tmp/bad" >/dev/null 2>"$tmp/pl.err"; then
    not_ok "plot_kernels.sh refuses a file that is not a bench_kernels CSV" "it succeeded"
else
    ok "plot_kernels.sh refuses a file that is not a bench_kernels CSV"
fi

tap_done
