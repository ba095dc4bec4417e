#!/usr/bin/env bash
# Issue 15's side-by-side: tomopick's per-layer convolution benchmark (burn flex and the fused
# kernel) and a PyTorch copy of the same network (plain and oneDNN channels_last_3d), run in
# alternation ROUNDS times so that the machine's drift hits both. PyTorch goes into a scratch
# venv (~/.cache/tomopick/torch-venv, a few GB from PyPI), never into tomopick.
#
#   scripts/bench_conv_side_by_side.sh [ROUNDS] [D H W]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift $(( $# >= 1 ? 1 : 0 ))
size=("$@")
venv=${TOMOPICK_TORCH_VENV:-$HOME/.cache/tomopick/torch-venv}
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check torch numpy
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tomopick/target}
cargo build --release -q -p tomopick-nn --example bench_conv_layers
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
for r in $(seq "$rounds"); do
  echo "== round $r: tomopick"
  "$CARGO_TARGET_DIR/release/examples/bench_conv_layers" "${size[@]}"
  echo "== round $r: PyTorch"
  "$venv/bin/python" scripts/bench_torch_efficient.py "${size[@]}"
done
