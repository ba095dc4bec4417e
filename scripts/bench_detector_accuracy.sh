#!/usr/bin/env bash
# Accuracy of a detector model on fresh SHREC-like simulated tomograms (512×512×200 at 10 Å,
# 2,500 particles of the 13 SHREC 2021 classes, 30 gold beads, 2 vesicles, tilt series ±60° in
# 3° steps at 120 e/Å² and 3 µm defocus, WBP). Training never sees these seeds, this imaging
# route (it trains on the fast 3D route) or vesicle-laden full tomograms.
#
#   scripts/bench_detector_accuracy.sh [MODEL.bpk] [SEED ...]     (default: the embedded model, seeds 77 78)
#
# Writes /tmp/tomopick_acc/<seed>/{tomogram files, picks.csv, report/report.{md,json}} and prints
# the class-agnostic and per-class F1 of both metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
[ -x "$bin" ] || cargo build --release -p tomopick
model=()
if [ $# -gt 0 ] && [ -f "$1" ]; then model=(--model "$1"); shift; fi
seeds=("${@:-77 78}")
out=/tmp/tomopick_acc
mkdir -p "$out"
for seed in ${seeds[@]}; do
  d="$out/$seed"
  [ -d "$d" ] || "$bin" -q simulate tomogram --seed "$seed" -o "$d"
  rm -rf "$d/report" "$d/picks.csv"
  /usr/bin/time -f "seed $seed: picked in %e s" "$bin" -q pick "$d/reconstruction.mrc" -o "$d/picks.csv" "${model[@]}" > /dev/null
  "$bin" -q evaluate --picks "$d/picks.csv" --truth "$d/particle_locations.txt" \
    --occupancy "$d/occupancy_mask.mrc" --classes "$d/classes.toml" --beta 1 -o "$d/report" > /dev/null
  python3 - "$d/report/report.json" "$seed" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for m in ("shrec", "czii"):
    rep = r[m]
    o = rep["overall"]
    print(f"seed {sys.argv[2]} {m}: F1 {o['f_beta']:.3f} (P {o['precision']:.3f}, R {o['recall']:.3f}); per class: "
          + ", ".join(f"{c} {s['f_beta']:.2f}" for c, s in rep["per_class"].items()))
PY
done
