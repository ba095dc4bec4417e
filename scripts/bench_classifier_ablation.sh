#!/usr/bin/env bash
# The classifier ablation of issue 5 (BENCHMARKS.md): a classifier trained with domain
# randomisation against one trained with the paper's fixed parameters, both tested on boxes cut
# from tilt-series tomograms (configs/classifier_test_tomogram.toml: the other imaging route, a
# tilt range outside the training ranges, crowded neighbours, gold and vesicles).
#
#   scripts/bench_classifier_ablation.sh [RANDOMIZED_MODEL] [FIXED_MODEL]
#   SEEDS="501 502 503" OUT=/tmp/ablation scripts/bench_classifier_ablation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/tomopick}
RANDOMIZED=${1:-runs/classifier_shrec10a/model.bpk}
FIXED=${2:-runs/classifier_fixed/model.bpk}
SEEDS=${SEEDS:-"501 502 503"}
OUT=${OUT:-/tmp/tomopick_ablation}
mkdir -p "$OUT"
dirs=()
for s in $SEEDS; do
  [ -d "$OUT/t$s" ] || "$BIN" -q simulate tomogram --config configs/classifier_test_tomogram.toml --seed "$s" -o "$OUT/t$s"
  dirs+=("$OUT/t$s")
done
for model in "$RANDOMIZED" "$FIXED"; do
  for sigma in 0 1; do
    name=$(basename "$(dirname "$model")")_sigma$sigma
    echo -n "$name: "
    "$BIN" -q evaluate-classifier "${dirs[@]}" --model "$model" --smooth "$sigma" -o "$OUT/$name"
  done
done
echo "reports in $OUT/*/report.md"
