#!/bin/sh
# shellcheck disable=SC2015  # "ok ... || not_ok": ok only echoes, so it cannot fail
# test_bench.sh - `hidp bench` and bench/compare.sh end to end on the tiny in-repo model: the
# JSON line and its keys, the order of the statistics, several thread counts, seeded inputs,
# every bad usage (exit 2) and failure (exit 1, one line naming the culprit), and a compare.sh
# table without ONNX Runtime. Figures are checked for sense, never against a time limit.
set -u
bin=${HIDP_BUILDDIR:-.}/hidp
src=${HIDP_SRCDIR:-.}
data=$src/test/data
compare=$src/bench/compare.sh
tap_name=bench
. "$src/test/tap.sh"

check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    what=$1
    shift
    if "$@" >"$tmp/check" 2>&1; then ok "$what"; else not_ok "$what" "$(cat "$tmp/check")"; fi
}


# json_check FILE LINES RUNS THREADS...: every line is a JSON object with the documented keys,
# min <= median <= p90 <= max, mean within [min, max], runs and threads as asked.
json_check() {
    if [ -x /usr/bin/python3 ]; then
        /usr/bin/python3 - "$@" <<'EOF'
import json, sys
path, lines, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
keys = ["model", "threads", "runs", "min_ms", "median_ms", "p90_ms", "max_ms", "peak_rss_mb",
        "throughput_ips", "mean_ms", "prepare_ms", "load_ms", "gflops", "mflops", "hidp_version",
        "input", "batch", "warmup", "stddev_ms", "rss_growth_mb", "tune_runs", "tune_ms"]
text = open(path).read().splitlines()
assert len(text) == lines, "%d lines, want %d: %r" % (len(text), lines, text)
for line, t in zip(text, threads):
    o = json.loads(line)
    assert isinstance(o, dict), line
    missing = [k for k in keys if k not in o]
    assert not missing, "missing keys %s in %s" % (missing, line)
    assert o["runs"] == runs, "runs %r, want %d" % (o["runs"], runs)
    assert o["threads"] == int(t), "threads %r, want %s" % (o["threads"], t)
    assert 0 < o["min_ms"] <= o["median_ms"] <= o["p90_ms"] <= o["max_ms"], line
    assert o["min_ms"] <= o["mean_ms"] <= o["max_ms"], line
    assert o["peak_rss_mb"] > 0 and o["throughput_ips"] > 0 and o["mflops"] > 0, line
    assert abs(o["throughput_ips"] - 1000.0 / o["median_ms"] * o["batch"]) <= 1e-3 * o["throughput_ips"] + 0.01, line
EOF
    else
        # No Python: the same checks with grep and awk, so nothing is skipped.
        f=$1 lines=$2 runs=$3
        [ "$(wc -l <"$f")" -eq "$lines" ] || { echo "$(wc -l <"$f") lines, want $lines"; return 1; }
        for k in model threads runs min_ms median_ms p90_ms max_ms peak_rss_mb throughput_ips \
            mean_ms prepare_ms gflops hidp_version tune_runs tune_ms; do
            [ "$(grep -c "\"$k\":" "$f")" -eq "$lines" ] || { echo "key $k missing"; return 1; }
        done
        grep -q "^{.*}\$" "$f" || { echo "not one object per line"; return 1; }
        awk -v runs="$runs" '{
            for (i = 1; i <= split($0, kv, ","); i++) { split(kv[i], p, ":"); gsub(/[{}"]/, "", p[1]); v[p[1]] = p[2] + 0 }
            if (v["runs"] != runs || !(v["min_ms"] <= v["median_ms"] && v["median_ms"] <= v["p90_ms"] && v["p90_ms"] <= v["max_ms"])) { print "bad line: " $0; exit 1 }
        }' "$f"
    fi
}

if [ ! -x "$bin" ]; then
    echo "1..0 # SKIP $bin not built"
    exit 0
fi
model=$data/tiny_cnn.onnx
input=$data/tiny_cnn.input.npy

expect 0 "usage: hidp bench" "bench --help" -- bench --help
expect 0 "nearest rank" "--help defines the median and p90" -- bench --help
if "$bin" bench --help 2>&1 >/dev/null | grep -q .; then not_ok "--help writes to stdout only"; else ok "--help writes to stdout only"; fi

"$bin" bench "$model" -n 5 --json >"$tmp/one.json" 2>"$tmp/err"
st=$?
[ "$st" -eq 0 ] && ok "bench -n 5 --json succeeds" || not_ok "bench -n 5 --json succeeds" "exit $st" "$(cat "$tmp/err")"
check "one JSON line with every key, runs 5, min <= median <= p90 <= max" json_check "$tmp/one.json" 1 5 1
if [ -s "$tmp/err" ]; then not_ok "nothing on stderr when it is not a terminal" "$(cat "$tmp/err")"; else ok "nothing on stderr when it is not a terminal"; fi

"$bin" bench "$model" -n 4 -t 1,2 --json >"$tmp/two.json" 2>"$tmp/err"
check "-t 1,2 gives two JSON lines, threads 1 then 2" json_check "$tmp/two.json" 2 4 1 2
"$bin" bench "$model" -n 3 -t 2 -t 1 --json >"$tmp/rep.json" 2>"$tmp/err"
check "a repeated -t adds a thread count" json_check "$tmp/rep.json" 2 3 2 1
"$bin" bench "$model" -i "$input" -n 7 -w 0 --json >"$tmp/in.json" 2>"$tmp/err"
check "-i INPUT -n 7 -w 0" json_check "$tmp/in.json" 1 7 1
grep -q '"input":"1x3x16x16","batch":1,' "$tmp/one.json" && ok "generated input: declared shape" || not_ok "generated input: declared shape" "$(cat "$tmp/one.json")"
grep -q '"input":"2x3x16x16","batch":2,' "$tmp/in.json" && ok "-i binds the shape (batch 2)" || not_ok "-i binds the shape (batch 2)" "$(cat "$tmp/in.json")"
"$bin" bench "$model" -n 3 -w 1 --json >"$tmp/w.json" 2>/dev/null
grep -q '"warmup":1,' "$tmp/w.json" && ok "-w is reported" || not_ok "-w is reported" "$(cat "$tmp/w.json")"
"$bin" bench "$model" -w 1 --json >"$tmp/auto.json" 2>/dev/null
runs=$(sed -n 's/.*"runs":\([0-9]*\).*/\1/p' "$tmp/auto.json")
if [ -n "$runs" ] && [ "$runs" -ge 10 ] && [ "$runs" -le 1000 ]; then ok "automatic run count $runs is within 10..1000"
else not_ok "automatic run count within 10..1000" "$(cat "$tmp/auto.json")"; fi

expect 0 "median" "human output: latency" -- bench "$model" -n 3 -t 1,2
for pat in "min .* median .* p90 .* max" "inferences/s" "peak RSS" "prepare" "threads     2"; do
    grep -q -- "$pat" "$tmp/out" && ok "human output has '$pat'" || not_ok "human output has '$pat'" "$(cat "$tmp/out")"
done

# -v: the engine's log on stderr (with two threads, the tuner's verdict and what it rests on);
# stdout stays JSON only.
"$bin" bench "$model" -n 3 -t 2 -v --json >"$tmp/v.json" 2>"$tmp/v.err"
grep -q "\[debug\] plan tuned from: .*estimate [0-9.]* ms" "$tmp/v.err" &&
    ok "-v logs the tuner's candidates and their medians" ||
    not_ok "-v logs the tuner's candidates and their medians" "$(cat "$tmp/v.err")"
[ "$(grep -c . "$tmp/v.json")" -eq 1 ] && grep -q '^{"model"' "$tmp/v.json" &&
    ok "-v leaves stdout to the JSON line" || not_ok "-v leaves stdout to the JSON line" "$(cat "$tmp/v.json")"
"$bin" bench "$model" -n 3 -t 2 2>"$tmp/nov.err" >/dev/null
grep -q "plan tuned" "$tmp/nov.err" && not_ok "without -v nothing is logged" "$(cat "$tmp/nov.err")" ||
    ok "without -v nothing is logged"

# --no-tune: no tuning at all, also not in the timed runs (enough of them for a whole tuning)
"$bin" bench "$model" -n 300 -t 2 -v --no-tune >/dev/null 2>"$tmp/nt.err"
grep -q "plan tuned" "$tmp/nt.err" && not_ok "--no-tune: the timed runs are no tuning trials" \
    "$(cat "$tmp/nt.err")" || ok "--no-tune: the timed runs are no tuning trials"
expect 0 "plan tuned" "--fixed-plan tunes" -- bench "$model" -n 3 -t 2 -v --fixed-plan
expect 2 "one of them" "--no-tune with --fixed-plan" -- bench "$model" --no-tune --fixed-plan
expect 0 "latency ms" "--no-take-back runs" -- bench "$model" -n 3 -t 2 --no-take-back
expect 0 "latency ms" "--no-stripes runs" -- bench "$model" -n 3 -t 2 --no-stripes

# Seeded inputs: the same seed writes the same bytes, another seed other bytes; the saved input
# feeds the model back.
"$bin" bench "$model" -n 1 --seed 7 --save-input "$tmp/a.npy" >/dev/null 2>&1
"$bin" bench "$model" -n 1 --seed 7 --save-input "$tmp/b.npy" >/dev/null 2>&1
"$bin" bench "$model" -n 1 --seed 8 --save-input "$tmp/c.npy" >/dev/null 2>&1
if [ -s "$tmp/a.npy" ] && cmp -s "$tmp/a.npy" "$tmp/b.npy"; then ok "same seed, same input"; else not_ok "same seed, same input" "$(ls -l "$tmp")"; fi
if [ -s "$tmp/c.npy" ] && ! cmp -s "$tmp/a.npy" "$tmp/c.npy"; then ok "another seed, another input"; else not_ok "another seed, another input"; fi
# 1x3x16x16 floats after a header whose length is a multiple of 64 bytes.
size=$(($(wc -c <"$tmp/a.npy") - 3 * 16 * 16 * 4))
[ "$size" -gt 0 ] && [ $((size % 64)) -eq 0 ] && ok "saved input holds 1x3x16x16 floats" || not_ok "saved input holds 1x3x16x16 floats" "$(ls -l "$tmp/a.npy")"
expect 0 "runs" "the saved input feeds the model" -- bench "$model" -i "$tmp/a.npy" -n 2

# Bad usage: exit 2 and a reason.
expect 2 "--threads" "-t 0" -- bench "$model" -t 0
expect 2 "--threads" "-t 1,,2" -- bench "$model" -t 1,,2
expect 2 "--threads" "-t two" -- bench "$model" -t two
expect 2 "--runs" "-n 0" -- bench "$model" -n 0
expect 2 "--warmup" "-w -1" -- bench "$model" -w -1
expect 2 "--seed" "--seed x" -- bench "$model" --seed x
expect 2 "usage" "unknown option" -- bench "$model" --frobnicate
expect 2 "MODEL" "no model" -- bench
expect 2 "one MODEL" "two models" -- bench "$model" "$model"
expect 2 "zoo models" "--size with a file" -- bench "$model" --size 64
expect 2 "save-input" "--save-input with -i" -- bench "$model" -i "$input" --save-input "$tmp/x.npy"

# Failures: exit 1, one line naming the culprit.
expect 1 "missing.onnx" "missing model file" -- bench "$tmp/missing.onnx"
expect 1 "nosuchmodel" "neither a file nor a zoo name" -- bench nosuchmodel
expect 1 "missing.npy" "missing input file" -- bench "$model" -i "$tmp/missing.npy"
expect 1 "LRN" "unsupported op" -- bench "$data/unsupported_op.onnx"
expect 1 "not an ONNX model" "a .npy given as the model" -- bench "$input"
"$bin" bench "$data/upsample_net.onnx" -n 1 --save-input "$tmp/other.npy" >/dev/null 2>&1
if [ -s "$tmp/other.npy" ] && ! cmp -s "$tmp/other.npy" "$input"; then
    expect 1 "hidp bench:" "input of another model's shape" -- bench "$model" -i "$tmp/other.npy"
else
    not_ok "input of another model's shape" "could not write $tmp/other.npy"
fi

# A zoo name, once the zoo is built in.
"$bin" bench mobilenet_v2 --size 32 -n 2 -w 0 --json >"$tmp/zoo.json" 2>"$tmp/err"
st=$?
if [ "$st" -ne 0 ] && grep -q "no model zoo" "$tmp/err"; then
    skip "bench a zoo name" "this build has no model zoo yet ($(cat "$tmp/err"))"
elif [ "$st" -eq 0 ] && grep -q '"source":"zoo"' "$tmp/zoo.json" && grep -q '"input":"1x3x32x32"' "$tmp/zoo.json"; then
    ok "bench a zoo name (mobilenet_v2 --size 32)"
else
    not_ok "bench a zoo name (mobilenet_v2 --size 32)" "exit $st" "$(cat "$tmp/err" "$tmp/zoo.json")"
fi

# compare.sh: --help, bad usage, and a 1-round table with ONNX Runtime made absent.
if [ ! -f "$compare" ]; then
    not_ok "bench/compare.sh exists" "$compare"
else
    sh "$compare" --help >"$tmp/out" 2>&1 && grep -q "usage: bench/compare.sh" "$tmp/out" &&
        ok "compare.sh --help" || not_ok "compare.sh --help" "$(cat "$tmp/out")"
    sh "$compare" -r 0 >"$tmp/out" 2>&1
    [ $? -eq 2 ] && grep -q -- "-r" "$tmp/out" && ok "compare.sh -r 0 is bad usage" || not_ok "compare.sh -r 0 is bad usage" "$(cat "$tmp/out")"
    mkdir "$tmp/t"
    TMPDIR=$tmp/t ORT_RUN=$tmp/no-ort-run.js sh "$compare" --hidp "$bin" -m "$model" -t "1 2" -n 3 -r 1 >"$tmp/out" 2>"$tmp/err"
    st=$?
    [ "$st" -eq 0 ] && ok "compare.sh without ORT succeeds" || not_ok "compare.sh without ORT succeeds" "exit $st" "$(cat "$tmp/err")"
    if grep -q "^model .*hidp/ORT" "$tmp/out" && [ "$(grep -c "^tiny_cnn.onnx " "$tmp/out")" -eq 2 ] &&
        grep -q "^tiny_cnn.onnx  *2  *[0-9.]*  *-  *-" "$tmp/out"; then
        ok "compare.sh prints a table: a row per thread count, ORT columns empty"
    else
        not_ok "compare.sh prints a table" "$(cat "$tmp/out")"
    fi
    grep -q "not found" "$tmp/out" && grep -q "not found" "$tmp/err" && ok "compare.sh says ORT was not found" || not_ok "compare.sh says ORT was not found" "$(cat "$tmp/out" "$tmp/err")"
    ORT_RUN=$tmp/no-ort-run.js sh "$compare" --hidp "$bin" -m "$model" -t 1 -n 3 -r 1 --csv >"$tmp/out" 2>/dev/null
    if [ "$(sed -n 1p "$tmp/out")" = "model,threads,hidp_median_ms,ort_median_ms,ratio_hidp_ort,hidp_peak_rss_mb,ort_peak_rss_mb" ] &&
        [ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "^tiny_cnn.onnx,1,[0-9.]*,-,-,[0-9.]*,-\$" "$tmp/out"; then
        ok "compare.sh --csv"
    else
        not_ok "compare.sh --csv" "$(cat "$tmp/out")"
    fi
    if [ -n "$(ls -A "$tmp/t")" ]; then
        not_ok "compare.sh removes its temporary directory" "$(ls -lA "$tmp/t")"
    else
        ok "compare.sh removes its temporary directory"
    fi
fi

# little_core.sh (root and cgroups to run): its help is the whole header comment, ending with
# the last line, and bad usage exits 2 before it needs either.
little=$src/bench/little_core.sh
sh "$little" -h >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -q "usage: bench/little_core.sh" "$tmp/out" &&
    grep -q "without a quota)" "$tmp/out" && grep -q "two busy cores cost each other" "$tmp/out" && grep -q "how long a cache line takes" "$tmp/out" && [ "$(tail -n 1 "$tmp/out")" = "same rounds, and prints the two paired: an A/B under the quota." ]; then
    ok "little_core.sh -h prints the header, all of it"
else
    not_ok "little_core.sh -h prints the header, all of it" "$(cat "$tmp/out")"
fi
sh "$little" -P bogus >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q -- "-P takes tuned, fixed, prepared or big" "$tmp/out" && ok "little_core.sh -P bogus is bad usage" ||
    not_ok "little_core.sh -P bogus is bad usage" "$(cat "$tmp/out")"
sh "$little" -e NOEQUALS >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q -- "-e NAME=VALUE" "$tmp/out" && ok "little_core.sh -e without a value is bad usage" ||
    not_ok "little_core.sh -e without a value is bad usage" "$(cat "$tmp/out")"
sh "$little" -x >"$tmp/out" 2>&1
[ $? -eq 2 ] && ok "little_core.sh -x is bad usage" || not_ok "little_core.sh -x is bad usage" "$(cat "$tmp/out")"
sh "$src/bench/profile_overhead.sh" -h >"$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "usage: bench/profile_overhead.sh" "$tmp/out" &&
    tail -n 1 "$tmp/out" | grep -q "^ *(default: -m resnet50 .*zoo name)\$" &&
    ok "profile_overhead.sh -h prints its header, down to its last line and no further" ||
    not_ok "profile_overhead.sh -h prints its header, down to its last line and no further" "$(cat "$tmp/out")"

# bench/ab_env: an A/B of an environment variable inside one process, on the tiny model; what
# it prints (both medians, the paired ratio and the rounds B won, each layer with --layers) and
# its bad usage (exit 2) and failures (exit 1, naming the model).
ab=${HIDP_BUILDDIR:-.}/bench/ab_env
# ab ARGS...: runs it, under a cross build's emulator when there is one (test/tap.sh)
ab() {
    # shellcheck disable=SC2086  # the prefix is a command and its arguments
    ${HIDP_RUN_PREFIX:-} "$ab" "$@"
}
ab --help >"$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "usage: bench/ab_env" "$tmp/out" && grep -q -- "--layers" "$tmp/out" &&
    ok "ab_env --help prints its usage" || not_ok "ab_env --help prints its usage" "$(cat "$tmp/out")"
ab -r 3 -n 2 --layers "$data/tiny_cnn.onnx" HIDP_NO_TRANSPOSED=1 >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -q "2 threads, 3 rounds of 2 runs each" "$tmp/out" &&
    grep -Eq "A \(HIDP_NO_TRANSPOSED unset\): [0-9.]+ ms, B \(HIDP_NO_TRANSPOSED=1\): [0-9.]+ ms" "$tmp/out" &&
    grep -Eq "paired A/B [0-9]+\.[0-9]{3} +\(B faster in [0-3] of 3 rounds" "$tmp/out" &&
    grep -Eq "^ +0 +c1 +[0-9.]+ +[0-9.]+ +[0-9.]+\$" "$tmp/out"; then
    ok "ab_env on the tiny model: both medians, the paired ratio, each layer"
else
    not_ok "ab_env on the tiny model: both medians, the paired ratio, each layer" "$(cat "$tmp/out")"
fi
for args in "$data/tiny_cnn.onnx" "$data/tiny_cnn.onnx =1" "-r 0 $data/tiny_cnn.onnx X=1" \
    "-t $data/tiny_cnn.onnx X=1" "--bogus $data/tiny_cnn.onnx X=1" "$data/tiny_cnn.onnx X=1 Y=2"; do
    # shellcheck disable=SC2086  # the words of $args are the arguments
    ab $args >"$tmp/out" 2>&1
    [ $? -eq 2 ] && grep -q "^ab_env: " "$tmp/out" && ok "ab_env $args: bad usage" ||
        not_ok "ab_env $args: bad usage" "$(cat "$tmp/out")"
done
ab "$tmp/none.onnx" X=1 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "^ab_env: $tmp/none.onnx: no such file" "$tmp/out" &&
    ok "ab_env on a missing model fails naming it" ||
    not_ok "ab_env on a missing model fails naming it" "$(cat "$tmp/out")"
ab "$data/unsupported_op.onnx" X=1 >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "^ab_env: .*unsupported_op.onnx: " "$tmp/out" &&
    ok "ab_env on a model it cannot prepare fails naming it" ||
    not_ok "ab_env on a model it cannot prepare fails naming it" "$(cat "$tmp/out")"

tap_done
