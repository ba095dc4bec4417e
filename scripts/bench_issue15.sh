#!/usr/bin/env bash
# Issue 15's figures in one interleaved run: per round, a SHREC-size pick (wall time), the
# per-layer convolution benchmark with its GEMM ceiling, the PyTorch copy of the same network
# (plain and oneDNN channels_last_3d, from a scratch venv), a detector training step and the
# classifier's inference. Freed memory is kept on both sides, as `tomopick` itself does.
# Run it on a quiet machine (nothing else on the cores): every figure is a share of them.
#
#   scripts/bench_issue15.sh [ROUNDS]
#
# The tomogram is simulated once into ~/.cache/tomopick/bench_s77 (seed 77, 512 x 512 x 200).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
venv=${TOMOPICK_TORCH_VENV:-$HOME/.cache/tomopick/torch-venv}
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check torch numpy
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tomopick/target}
cargo build --release -q -p tomopick
cargo build --release -q -p tomopick-nn --example bench_conv_layers --example bench_train_step \
  --example bench_classifier
bin=$CARGO_TARGET_DIR/release
ex=$bin/examples
tomo=$HOME/.cache/tomopick/bench_s77
[ -f "$tomo/reconstruction.mrc" ] || "$bin/tomopick" -q simulate tomogram --seed 77 -o "$tomo"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || echo 'AVX2, no AVX-512')"; date -u +%FT%TZ
for r in $(seq "$rounds"); do
  echo "== round $r: SHREC-size pick"
  /usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin/tomopick" -q pick "$tomo/reconstruction.mrc" \
    -o "$out/picks.csv"
  echo "== round $r: per-layer convolutions (tomopick)"
  "$ex/bench_conv_layers"
  echo "== round $r: PyTorch"
  "$venv/bin/python" scripts/bench_torch_efficient.py
  echo "== round $r: detector training step (8 x 64^3)"
  "$ex/bench_train_step" 8 4
  echo "== round $r: classifier inference (batches of 16 x 40^3)"
  "$ex/bench_classifier" 4 efficient
done
