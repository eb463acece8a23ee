#!/bin/sh
# Regenerates the in-repo test models in test/data and their expected outputs from ONNX Runtime.
# Developers only (needs node and onnxruntime-node, see ../shared/tools/ort-run.js); `make check`
# uses the committed files.
#   usage: test/gen_models.sh BUILDDIR
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: test/gen_models.sh BUILDDIR}
ort=${ORT_RUN:-$src/../shared/tools/ort-run.js}
make -C "$build" test/gen_models >/dev/null
"$build/test/gen_models" "$src/test/data"
for m in tiny_cnn upsample_net shape_net opset10_net; do
    node "$ort" "$src/test/data/$m.onnx" "$src/test/data/$m.input.npy" "$src/test/data/$m.ort.npy"
done
