#!/bin/sh
# shellcheck disable=SC2015  # "ok ... || not_ok": ok only echoes, so it cannot fail
# test_profile_cli.sh - `hidp run` and `hidp bench` with --profile, --profile-json, --events and
# --trace on the tiny in-repo model: a table row per layer and a total, a JSON profile and a
# Chrome trace that parse and hold one event per layer per worker per run, events left out with
# their reason, and failures that leave no file behind.
set -u
bin=${HIDP_BUILDDIR:-.}/hidp
src=${HIDP_SRCDIR:-.}
data=$src/test/data
tap_name=profile
. "$src/test/tap.sh"

if [ ! -x "$bin" ]; then
    echo "1..0 # SKIP $bin not built"
    exit 0
fi
model=$data/tiny_cnn.onnx
input=$data/tiny_cnn.input.npy

# layers: the number of layers hidp runs for the model (from hidp info's table)
layers=$("$bin" info "$model" 2>/dev/null | awk '/^ *[0-9]+ /{n++} END{print n+0}')
[ "$layers" -gt 0 ] && ok "hidp info lists $layers layers" || not_ok "hidp info lists the layers"

# json_valid FILE: the file is one JSON document (Python's parser where there is one, else a
# bracket balance check that at least catches truncation).
json_valid() {
    if [ -x /usr/bin/python3 ]; then
        /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"
    else
        tr -cd '{}[]' <"$1" | awk '{o=gsub(/[{[]/,""); c=gsub(/[}\]]/,""); exit !(o==c)}'
    fi
}

expect 0 "total: layers" "run --profile prints a table and its total" -- \
    run "$model" -i "$input" -n 3 --profile
rows=$(awk '/^ *[0-9]+  /{n++} END{print n+0}' "$tmp/out")
[ "$rows" -eq "$layers" ] && ok "one table row per layer ($rows)" ||
    not_ok "one table row per layer" "rows $rows, layers $layers" "$(cat "$tmp/out")"
grep -q "^profile: 3 runs" "$tmp/out" && ok "the table says how many runs" ||
    not_ok "the table says how many runs" "$(cat "$tmp/out")"

expect 0 "trace of 2 runs" "run --trace writes a trace" -- \
    run "$model" -i "$input" -n 2 -t 2 --trace "$tmp/t.json" --profile-json "$tmp/p.json"
json_valid "$tmp/t.json" && ok "the trace is JSON" || not_ok "the trace is JSON" "$(head -c 400 "$tmp/t.json")"
json_valid "$tmp/p.json" && ok "the profile is JSON" || not_ok "the profile is JSON" "$(head -c 400 "$tmp/p.json")"
# one complete event ("ph":"X") per layer per worker that had a share, per run: with 2 workers
# between 1 and 2 per layer and run
events=$(grep -c '"ph":"X"' "$tmp/t.json")
if [ "$events" -ge $((2 * layers)) ] && [ "$events" -le $((4 * layers)) ]; then
    ok "trace: $events events for $layers layers x 2 runs on 2 workers"
else
    not_ok "trace: one event per layer per worker per run" "events $events, layers $layers"
fi
[ "$(grep -c '"thread_name"' "$tmp/t.json")" -eq 2 ] && ok "trace: a named track per worker" ||
    not_ok "trace: a named track per worker" "$(grep thread_name "$tmp/t.json")"
[ "$(grep -c '"index":' "$tmp/p.json")" -eq "$layers" ] && ok "profile JSON: every layer" ||
    not_ok "profile JSON: every layer" "$(head -c 400 "$tmp/p.json")"
expect 0 "trace of 1 runs" "one thread: exactly one event per layer" -- \
    run "$model" -i "$input" --trace "$tmp/t1.json"
[ "$(grep -c '"ph":"X"' "$tmp/t1.json")" -eq "$layers" ] && ok "1 run, 1 worker: $layers events" ||
    not_ok "1 run, 1 worker: one event per layer" "$(grep -c '"ph":"X"' "$tmp/t1.json") events"

expect 0 "task-clock" "--events task-clock adds its column" -- \
    run "$model" -i "$input" --profile --events task-clock,no-such-event
grep -q "events not counted:.*no-such-event" "$tmp/err" && ok "an unknown event is named once on stderr" ||
    not_ok "an unknown event is named once on stderr" "$(cat "$tmp/err")"
expect 1 "empty name" "--events with an empty name fails" -- \
    run "$model" -i "$input" --events "a,,b" -o "$tmp/never.npy"
[ ! -e "$tmp/never.npy" ] && ok "... and writes no output" || not_ok "... and writes no output"
expect 1 "trace" "a trace in a missing directory fails" -- \
    run "$model" -i "$input" --trace "$tmp/nodir/t.json" -o "$tmp/never2.npy"
[ ! -e "$tmp/never2.npy" ] && ok "... and writes no output" || not_ok "... and writes no output"
[ -z "$(find "$tmp" -name '*.tmp*')" ] && ok "no temporary files are left" ||
    not_ok "no temporary files are left" "$(find "$tmp" -name '*.tmp*')"

"$bin" bench "$model" -n 3 --json --profile >"$tmp/b.json" 2>"$tmp/b.err"
[ $? -eq 0 ] && json_valid "$tmp/b.json" && ok "bench --json --profile: stdout stays JSON" ||
    not_ok "bench --json --profile: stdout stays JSON" "$(cat "$tmp/b.json" "$tmp/b.err")"
grep -q "total: layers" "$tmp/b.err" && ok "... and the table goes to stderr" ||
    not_ok "... and the table goes to stderr" "$(cat "$tmp/b.err")"
expect 2 "one thread count" "bench --trace with two thread counts is refused" -- \
    bench "$model" -t 1,2 --trace "$tmp/x.json"
expect 0 "\-\-events LIST" "bench --help lists the profiling options" -- bench --help

# --energy on the recorded Jetson Orin tree (test/data/sysfs): constant rails, so the watts are
# the files' values and the joules follow from the time
orin=$data/sysfs/jetson-orin
expect 0 "J/inference" "run --energy on a Jetson Orin tree" -- \
    run "$model" -i "$input" -n 20 --energy --sysfs-root "$orin"
grep -q "VDD_IN  *6.00 W  (in the total)" "$tmp/out" && ok "VDD_IN 6.00 W is the total" ||
    not_ok "VDD_IN 6.00 W is the total" "$(cat "$tmp/out")"
grep -q "VDD_SOC " "$tmp/out" && grep -q "VDD_CPU_GPU_CV " "$tmp/out" && ok "every rail has a line" ||
    not_ok "every rail has a line" "$(cat "$tmp/out")"
# J/inference = 6 W x seconds / runs, as printed
awk '/^energy/{j=$2; s=$(NF-3); gsub(/[^0-9.e-]/,"",s); want=6*s/20; d=j-want; if (d<0) d=-d;
     exit !(d <= 0.01*want + 1e-9)}' "$tmp/out" && ok "J/inference = 6 W x time / runs" ||
    not_ok "J/inference = 6 W x time / runs" "$(grep ^energy "$tmp/out")"
HIDP_SYSFS_ROOT=$orin "$bin" bench "$model" -n 5 --energy >"$tmp/out" 2>&1 &&
    grep -q "J/inference" "$tmp/out" && ok "bench --energy with HIDP_SYSFS_ROOT" ||
    not_ok "bench --energy with HIDP_SYSFS_ROOT" "$(cat "$tmp/out")"
expect 1 "/nonexistent" "--energy under a missing root fails, naming it" -- \
    run "$model" -i "$input" --energy --sysfs-root /nonexistent -o "$tmp/never3.npy"
[ ! -e "$tmp/never3.npy" ] && ok "... and writes no output" || not_ok "... and writes no output"
expect 1 "no readable power sensor" "--energy without sensors fails, saying so" -- \
    run "$model" -i "$input" --energy --sysfs-root "$data/topo"
tap_done
