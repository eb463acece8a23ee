#!/bin/sh
# compare.sh - hidp against ONNX Runtime on the same ONNX files, inputs and thread counts.
#
# Each round runs both engines once per model and thread count (N timed runs each), swapping
# which goes first every round so neither always meets a warmer or cooler machine; the table
# gives, per model and thread count, the median over rounds of each engine's median latency and
# their ratio. Without ONNX Runtime (node, ort-run.js or the onnxruntime-node package missing)
# it prints hidp's figures alone and says so.
set -u

usage() {
    cat <<'EOF'
usage: bench/compare.sh [-m "MODELS"] [-t "THREADS"] [-n RUNS] [-r ROUNDS] [--hidp PATH]
                        [--ort-run PATH] [--csv | --markdown] [--timeout SECS]

Runs `hidp bench` and ONNX Runtime (node ort-run.js --bench) on the same models, inputs and
thread counts, alternating the engines round by round, and prints one row per model and thread
count: the median over rounds of each engine's median latency (ms), the ratio hidp / ORT (below
1: hidp is faster) and each engine's peak RSS (MB).

  -m "MODELS"     zoo names and/or .onnx paths (default: "resnet50 vgg16 resnet18 mobilenet_v2
                  efficientnet_b0"). Zoo models are written once to a temporary directory with
                  `hidp zoo NAME -o`. Both engines get the same input: NAME.input.npy next to an
                  .onnx path when there is one, else seeded random values written by hidp.
  -t "THREADS"    thread counts (default "1 2")
  -n RUNS         timed runs per engine per round (default 21; odd, so both engines' medians
                  are the middle run: ort-run.js takes the upper middle of an even count)
  -r ROUNDS       rounds (default 3)
  --hidp PATH     the hidp tool (default: $HIDP, else ./hidp, else the repository's build,
                  else hidp on PATH)
  --ort-run PATH  ort-run.js (default: $ORT_RUN, else ../shared/tools/ort-run.js next to the
                  repository)
  --csv           comma-separated output
  --markdown      a Markdown table
  --timeout SECS  limit on each single engine invocation (default 600)
  -h, --help      this text

Peak RSS: hidp's own figure (VmHWM); ORT's from /usr/bin/time when installed (the whole node
process), else the resident size ort-run.js reports at its end. Exit status: 0 done, 1 a run
failed, 2 bad usage.
EOF
}

die_usage() { echo "compare.sh: $1" >&2; echo "try 'bench/compare.sh --help'" >&2; exit 2; }
note() { echo "compare.sh: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
models="resnet50 vgg16 resnet18 mobilenet_v2 efficientnet_b0"
threads="1 2"
runs=21
rounds=3
format=text
limit=600
hidp=${HIDP:-}
ort_run=${ORT_RUN:-$repo/../shared/tools/ort-run.js}

need_arg() { [ "$2" -ge 2 ] || die_usage "$1 needs a value"; }
posint() { case $2 in '' | *[!0-9]* | 0) die_usage "$1 takes a whole number >= 1, not '$2'" ;; esac; }
while [ $# -gt 0 ]; do
    case $1 in
    -m) need_arg "$1" $#; models=$2; shift 2 ;;
    -t) need_arg "$1" $#; threads=$2; shift 2 ;;
    -n) need_arg "$1" $#; posint "$1" "$2"; runs=$2; shift 2 ;;
    -r) need_arg "$1" $#; posint "$1" "$2"; rounds=$2; shift 2 ;;
    --hidp) need_arg "$1" $#; hidp=$2; shift 2 ;;
    --ort-run) need_arg "$1" $#; ort_run=$2; shift 2 ;;
    --timeout) need_arg "$1" $#; posint "$1" "$2"; limit=$2; shift 2 ;;
    --csv) format=csv; shift ;;
    --markdown) format=markdown; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
    esac
done
for t in $threads; do posint -t "$t"; done
[ -n "$models" ] || die_usage "-m names no model"
[ -n "$threads" ] || die_usage "-t names no thread count"

if [ -z "$hidp" ]; then
    for c in ./hidp "$repo/hidp"; do
        if [ -x "$c" ]; then hidp=$c; break; fi
    done
    [ -n "$hidp" ] || hidp=$(command -v hidp) || { note "no hidp tool found (use --hidp PATH)"; exit 1; }
fi
[ -x "$hidp" ] || { note "$hidp is not an executable hidp"; exit 1; }

# A limit on each invocation keeps the whole comparison bounded (coreutils timeout when present).
if command -v timeout >/dev/null 2>&1; then bounded() { timeout "$limit" "$@"; }; else bounded() { "$@"; }; fi

# ONNX Runtime is there when node, ort-run.js and the onnxruntime-node package it loads all are
# (the package path follows ort-run.js's own default).
ort=yes
ort_dir=${ORT_NODE_DIR:-${HOME:-/root}/.ort/node_modules/onnxruntime-node}
if ! command -v node >/dev/null 2>&1; then
    ort=no why="node is not installed"
elif [ ! -f "$ort_run" ]; then
    ort=no why="$ort_run does not exist (set ORT_RUN or --ort-run)"
elif ! node -e 'require(process.argv[1])' "$ort_dir" >/dev/null 2>&1; then
    ort=no why="onnxruntime-node does not load from $ort_dir"
fi
[ "$ort" = yes ] || note "ONNX Runtime not found: $why; hidp figures only"
gnu_time=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true >/dev/null 2>&1; then gnu_time=/usr/bin/time; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hidp-compare.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json_num FILE KEY: the number after "KEY": on the first line of FILE that has it.
json_num() { sed -n "s/.*\"$2\": *\\(-\\{0,1\\}[0-9][0-9.eE+-]*\\).*/\\1/p" "$1" | head -n 1; }
# median: of the numbers on stdin, one a line (the mean of the two middle ones for an even count).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# prepare_model M: sets onnx and input for model M (a path or a zoo name); returns 1 if it can't.
prepare_model() {
    name=$(basename "$1" .onnx)
    if [ -f "$1" ]; then
        onnx=$1 name=$(basename "$1") # a file keeps its .onnx in the table, a zoo name has none
        input=${1%.onnx}.input.npy
        [ -f "$input" ] && return 0
        input=$tmp/$idx.input.npy
    else
        onnx=$tmp/$idx.$name.onnx input=$tmp/$idx.input.npy
        if ! bounded "$hidp" zoo "$1" -o "$onnx" --input "$input" >/dev/null 2>"$tmp/err" &&
            ! bounded "$hidp" zoo "$1" -o "$onnx" >/dev/null 2>"$tmp/err"; then
            note "$1: $(head -n 1 "$tmp/err")"
            return 1
        fi
        [ -f "$input" ] && return 0
    fi
    # No input file given: hidp writes its seeded random input for both engines to use.
    if ! bounded "$hidp" bench "$onnx" -n 1 -w 0 --json --save-input "$input" >/dev/null 2>"$tmp/err"; then
        note "$1: $(head -n 1 "$tmp/err")"
        return 1
    fi
}

run_hidp() { # T: appends the median and peak RSS to the model's hidp lists
    if ! bounded "$hidp" bench "$onnx" -i "$input" -t "$1" -n "$runs" --json >"$tmp/h.json" 2>"$tmp/err"; then
        note "$name, $1 threads: hidp failed: $(head -n 1 "$tmp/err")"
        return 1
    fi
    json_num "$tmp/h.json" median_ms >>"$tmp/h_med"
    json_num "$tmp/h.json" peak_rss_mb >>"$tmp/h_rss"
}

run_ort() { # T
    rm -f "$tmp/o.rss"
    if [ -n "$gnu_time" ]; then
        set -- "$gnu_time" -f %M -o "$tmp/o.rss" node "$ort_run" "$onnx" "$input" "$tmp/o.npy" --threads "$1" --bench "$runs"
    else
        set -- node "$ort_run" "$onnx" "$input" "$tmp/o.npy" --threads "$1" --bench "$runs"
    fi
    if ! bounded "$@" >"$tmp/o.json" 2>"$tmp/err"; then
        note "$name: ONNX Runtime failed: $(grep -v '^Command exited' "$tmp/err" | head -n 1)"
        return 1
    fi
    json_num "$tmp/o.json" median_ms >>"$tmp/o_med"
    if [ -s "$tmp/o.rss" ]; then
        awk '{ printf "%.2f\n", $1 / 1024 }' "$tmp/o.rss" >>"$tmp/o_rss"
    else
        json_num "$tmp/o.json" rss_mb >>"$tmp/o_rss"
    fi
}

: >"$tmp/rows"
status=0
idx=0
for m in $models; do
    idx=$((idx + 1))
    if ! prepare_model "$m"; then
        status=1
        continue
    fi
    for t in $threads; do
        for f in h_med h_rss o_med o_rss; do : >"$tmp/$f"; done
        r=1
        while [ "$r" -le "$rounds" ]; do
            if [ $((r % 2)) -eq 1 ] || [ "$ort" != yes ]; then
                run_hidp "$t" || status=1
                [ "$ort" = yes ] && { run_ort "$t" || status=1; }
            else
                run_ort "$t" || status=1
                run_hidp "$t" || status=1
            fi
            line="$name, $t thread(s), round $r/$rounds: hidp $(tail -n 1 "$tmp/h_med") ms"
            [ "$ort" = yes ] && line="$line, ORT $(tail -n 1 "$tmp/o_med") ms"
            note "$line"
            r=$((r + 1))
        done
        hm=$(median <"$tmp/h_med") hr=$(median <"$tmp/h_rss")
        om=- or=- ratio=-
        if [ "$ort" = yes ]; then
            om=$(median <"$tmp/o_med") or=$(median <"$tmp/o_rss")
            ratio=$(awk -v h="$hm" -v o="$om" 'BEGIN { if (h + 0 > 0 && o + 0 > 0) printf "%.3f", h / o; else print "-" }')
        fi
        # Latencies to 4 significant digits below 10 ms and 2 decimals above, RSS to 0.1 MB.
        echo "$name $t $hm $om $ratio $hr $or" | awk '
            function ms(v) { return v == "-" ? v : v + 0 < 10 ? sprintf("%.4g", v) : sprintf("%.2f", v) }
            function mb(v) { return v == "-" ? v : sprintf("%.1f", v) }
            { print $1, $2, ms($3), ms($4), $5, mb($6), mb($7) }' >>"$tmp/rows"
    done
done

case $format in
csv)
    echo "model,threads,hidp_median_ms,ort_median_ms,ratio_hidp_ort,hidp_peak_rss_mb,ort_peak_rss_mb"
    tr ' ' ',' <"$tmp/rows"
    ;;
markdown)
    echo "| model | threads | hidp median (ms) | ORT median (ms) | hidp/ORT | hidp peak RSS (MB) | ORT peak RSS (MB) |"
    echo "|---|---|---|---|---|---|---|"
    awk '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$tmp/rows"
    ;;
*)
    printf '%-18s %7s %12s %12s %9s %12s %12s\n' model threads "hidp ms" "ORT ms" hidp/ORT "hidp RSS MB" "ORT RSS MB"
    awk '{ printf "%-18s %7s %12s %12s %9s %12s %12s\n", $1, $2, $3, $4, $5, $6, $7 }' "$tmp/rows"
    echo "(median over $rounds round(s) of each engine's median of $runs runs)"
    [ "$ort" = yes ] || echo "ONNX Runtime not found ($why): hidp figures only"
    ;;
esac
exit "$status"
