#!/usr/bin/env bash
# Template matching's names on our own SHREC-like test tomograms (those of
# scripts/bench_detector_accuracy.sh: 512×512×200 at 10 Å, 2,500 particles, ±60°, 3 µm defocus,
# not phase-flipped): the default detector's picks, renamed by `tomopick match-templates`
# without a CTF and with `--defocus 3` (the simulation's), each scored with `tomopick evaluate`
# (SHREC rule): class-agnostic F1, macro F1 and per-class F1.
#
#   scripts/own_template_matching.sh [SEED ...]        (default: 77 78; about 8 minutes per seed on 2 cores)
#
# Reuses /tmp/tomopick_acc/<seed>/ (the tomogram and picks of bench_detector_accuracy.sh) and
# writes tm_none.csv, tm_ctf3.csv and rep_*/ there.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
[ -x "$bin" ] || cargo build --release -p tomopick
seeds=("$@")
[ $# -gt 0 ] || seeds=(77 78)
for seed in "${seeds[@]}"; do
  d=/tmp/tomopick_acc/$seed
  [ -d "$d" ] || "$bin" -q simulate tomogram --seed "$seed" -o "$d"
  [ -f "$d/picks.csv" ] || "$bin" -q pick "$d/reconstruction.mrc" -o "$d/picks.csv" > /dev/null
  for tag in none ctf3; do
    ctf=()
    [ "$tag" = ctf3 ] && ctf=(--defocus 3)
    [ -f "$d/tm_$tag.csv" ] || "$bin" -q match-templates "$d/reconstruction.mrc" --picks "$d/picks.csv" \
      --tilt-max 60 "${ctf[@]}" -o "$d/tm_$tag.csv" > /dev/null
  done
  for f in picks tm_none tm_ctf3; do
    rm -rf "$d/rep_$f"
    "$bin" -q evaluate --picks "$d/$f.csv" --truth "$d/particle_locations.txt" \
      --occupancy "$d/occupancy_mask.mrc" --classes "$d/classes.toml" --beta 1 -o "$d/rep_$f" > /dev/null
    python3 - "$d/rep_$f/report.json" "$seed" "$f" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["shrec"]
pc = r["per_class"]
macro = sum(s["f_beta"] for s in pc.values()) / len(pc)
print(f"seed {sys.argv[2]} {sys.argv[3]}: F1 {r['overall']['f_beta']:.3f} macro {macro:.3f}; "
      + ", ".join(f"{c} {s['f_beta']:.2f}" for c, s in pc.items()))
PY
  done
done
