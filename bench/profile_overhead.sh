#!/bin/sh
# profile_overhead.sh - what profiling costs: `hidp bench` of a model with and without
# --profile (and --events, --trace), alternating within each round so both see the same machine,
# then the median over rounds of each setting's median latency and the ratio to the plain run.
# It also checks the profile's own account: the layers' wall times against the time measured
# around each run.
#
# usage: bench/profile_overhead.sh [-m MODEL] [-t THREADS] [-n RUNS] [-r ROUNDS] [--hidp BIN]
#        (default: -m resnet50 -t 1 -n 21 -r 3; MODEL is an ONNX file or a zoo name)
set -eu
model=resnet50 threads=1 runs=21 rounds=3
here=$(cd "$(dirname "$0")" && pwd)
hidp=${HIDP:-$here/../hidp}
while [ $# -gt 0 ]; do
    case $1 in
    -m) model=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -n) runs=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    --hidp) hidp=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "profile_overhead.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[ -x "$hidp" ] || { echo "profile_overhead.sh: $hidp not built (make, or --hidp BIN)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hidp-overhead.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

settings="plain profile events trace"
r=1
while [ "$r" -le "$rounds" ]; do
    for s in $settings; do
        case $s in
        plain) extra="" ;;
        profile) extra="--profile" ;;
        events) extra="--profile --events task-clock,page-faults,context-switches" ;;
        trace) extra="--profile --trace $tmp/trace.json" ;;
        esac
        # shellcheck disable=SC2086  # $extra is a list of options
        timeout 900 "$hidp" bench "$model" -t "$threads" -n "$runs" --json $extra \
            >"$tmp/$s.$r.json" 2>"$tmp/$s.$r.err" ||
            { cat "$tmp/$s.$r.err" >&2; exit 1; }
        sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p' "$tmp/$s.$r.json" >>"$tmp/$s.medians"
        # the profile's total line (on stderr with --json): layers' sum and its share
        grep "^total: layers" "$tmp/$s.$r.err" >>"$tmp/$s.totals" 2>/dev/null || true
    done
    r=$((r + 1))
done
echo "model $model, $threads thread(s), $runs runs x $rounds rounds; median of per-round medians (ms)"
base=$(median <"$tmp/plain.medians")
for s in $settings; do
    m=$(median <"$tmp/$s.medians")
    printf '  %-8s %9.3f  x%.3f\n' "$s" "$m" "$(echo "$m $base" | awk '{print $1/$2}')"
done
echo "profile account (last round): $(tail -n 1 "$tmp/profile.totals")"
