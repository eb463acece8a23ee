#!/bin/sh
# shellcheck disable=SC2015  # "ok ... || not_ok": ok only echoes, so it cannot fail
# test_zoo_ort.sh - `hidp zoo` end to end: the command's usage and failures (exit 2 for bad
# usage, 1 with a one-line reason otherwise, nothing written either way), seeded output, and
# then, when ONNX Runtime is installed (node, ort-run.js, the onnxruntime-node package), every
# zoo model at 224x224: ONNX Runtime loads and runs the file, and `hidp run` gives the same
# logits within 1e-4 of their largest magnitude. Without ONNX Runtime those cases SKIP.
set -u
bin=${HIDP_BUILDDIR:-.}/hidp
diff_bin=${HIDP_BUILDDIR:-.}/test/npy_diff
src=${HIDP_SRCDIR:-.}
ort_run=${ORT_RUN:-$src/../shared/tools/ort-run.js}
ort_dir=${ORT_NODE_DIR:-${HOME:-/root}/.ort/node_modules/onnxruntime-node}
tap_name=zoo
. "$src/test/tap.sh"

# nothing_written DESCRIPTION: the failed command left no file in $tmp/never (temporaries
# included).
nothing_written() {
    if [ -n "$(ls -A "$tmp/never")" ]; then not_ok "$1: nothing written" "$(ls -A "$tmp/never")"
    else ok "$1: nothing written"; fi
}

if [ ! -x "$bin" ] || [ ! -x "$diff_bin" ]; then
    echo "1..0 # SKIP $bin or $diff_bin not built"
    exit 0
fi
mkdir "$tmp/never"

# ---- the command itself (no ONNX Runtime needed) ----
expect 0 "usage: hidp zoo" "zoo --help" -- zoo --help
expect 0 "25557032" "zoo --list gives torchvision's parameter counts" -- zoo --list
for m in resnet18 resnet50 resnet152 vgg16 mobilenet_v2 squeezenet1_1 efficientnet_b0 googlenet; do
    grep -q "^$m " "$tmp/out" && ok "zoo --list names $m" || not_ok "zoo --list names $m" "$(cat "$tmp/out")"
done
expect 2 "model name is needed" "zoo without a model" -- zoo
expect 2 "output is needed" "zoo without -o" -- zoo squeezenet1_1
expect 2 "one model name" "zoo with two models" -- zoo resnet18 resnet50 -o "$tmp/never/x.onnx"
expect 2 "--size" "zoo --size 0" -- zoo resnet18 --size 0 -o "$tmp/never/x.onnx"
expect 2 "--size" "zoo --size abc" -- zoo resnet18 --size abc -o "$tmp/never/x.onnx"
expect 2 "--seed" "zoo --seed -1" -- zoo resnet18 --seed -1 -o "$tmp/never/x.onnx"
expect 2 "same file" "zoo --input naming the model file" -- zoo resnet18 -o "$tmp/never/x" --input "$tmp/never/x"
expect 2 "usage" "zoo with an unknown option" -- zoo resnet18 --frobnicate -o "$tmp/never/x.onnx"
nothing_written "usage errors"
expect 1 "unknown zoo model 'resnet51'.*googlenet" "unknown model: one line listing the zoo" -- \
    zoo resnet51 -o "$tmp/never/x.onnx" --input "$tmp/never/x.npy"
nothing_written "unknown model"
expect 1 "too small.*smallest size vgg16 builds at is 32" "vgg16 at 16x16 is too small" -- \
    zoo vgg16 --size 16 -o "$tmp/never/x.onnx" --input "$tmp/never/x.npy"
nothing_written "too small"
expect 1 "no-such-dir" "unwritable model path" -- zoo squeezenet1_1 --size 64 -o "$tmp/never/no-such-dir/x.onnx"
expect 1 "no-such-dir" "unwritable input path" -- \
    zoo squeezenet1_1 --size 64 -o "$tmp/never/x.onnx" --input "$tmp/never/no-such-dir/x.npy"
nothing_written "unwritable paths"

expect 0 "squeezenet1_1" "zoo writes a model and an input" -- \
    zoo squeezenet1_1 --size 64 --seed 5 -o "$tmp/a.onnx" --input "$tmp/a.npy"
expect 0 "" "the same seed again" -- zoo squeezenet1_1 --size 64 --seed 5 -o "$tmp/b.onnx" --input "$tmp/b.npy"
cmp -s "$tmp/a.onnx" "$tmp/b.onnx" && cmp -s "$tmp/a.npy" "$tmp/b.npy" &&
    ok "the same seed gives the same model and input bytes" || not_ok "the same seed gives the same model and input bytes"
expect 0 "" "another seed" -- zoo squeezenet1_1 --size 64 --seed 6 -o "$tmp/c.onnx" --input "$tmp/c.npy"
! cmp -s "$tmp/a.onnx" "$tmp/c.onnx" && ! cmp -s "$tmp/a.npy" "$tmp/c.npy" &&
    ok "another seed gives another model and input" || not_ok "another seed gives another model and input"
expect 0 "output output: 1x1000" "hidp run takes the model with its input" -- run "$tmp/a.onnx" -i "$tmp/a.npy"
rm -f "$tmp"/[abc].onnx "$tmp"/[abc].npy

# ---- every model at 224 against ONNX Runtime ----
ort=yes
if [ "${HIDP_EMULATED:-}" = 1 ]; then
    ort=no why="under emulation (each model at 224 takes minutes in qemu; the native build compares)"
elif ! command -v node >/dev/null 2>&1; then
    ort=no why="node is not installed"
elif [ ! -f "$ort_run" ]; then
    ort=no why="$ort_run does not exist (set ORT_RUN)"
elif ! node -e 'require(process.argv[1])' "$ort_dir" >/dev/null 2>&1; then
    ort=no why="onnxruntime-node does not load from $ort_dir"
fi

for m in resnet18 resnet50 resnet152 vgg16 mobilenet_v2 squeezenet1_1 efficientnet_b0 googlenet; do
    if [ "$ort" = no ]; then
        skip "$m at 224: ONNX Runtime loads it and hidp matches it" "$why"
        continue
    fi
    f=$tmp/$m
    if ! "$bin" zoo "$m" --seed 3 -o "$f.onnx" --input "$f.in.npy" >"$tmp/out" 2>&1; then
        not_ok "$m at 224: hidp zoo writes it" "$(cat "$tmp/out")"
        continue
    fi
    ok "$m at 224: hidp zoo writes it ($(cut -d, -f4 "$tmp/out" | tr -d ' '))"
    if node "$ort_run" "$f.onnx" "$f.in.npy" "$f.ort.npy" >"$tmp/out" 2>&1; then
        ok "$m at 224: ONNX Runtime loads and runs it"
    else
        not_ok "$m at 224: ONNX Runtime loads and runs it" "$(tail -3 "$tmp/out")"
        rm -f "$f".*
        continue
    fi
    if ! "$bin" run "$f.onnx" -i "$f.in.npy" -o "$f.hidp.npy" >"$tmp/out" 2>&1; then
        not_ok "$m at 224: hidp runs it" "$(cat "$tmp/out")"
    elif "$diff_bin" "$f.hidp.npy" "$f.ort.npy" 1e-4 >"$tmp/out" 2>&1; then
        ok "$m at 224: hidp = ONNX Runtime within 1e-4 ($(cat "$tmp/out"))"
    else
        not_ok "$m at 224: hidp = ONNX Runtime within 1e-4" "$(cat "$tmp/out")"
    fi
    rm -f "$f".*
done

tap_done
