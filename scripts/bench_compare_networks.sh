#!/usr/bin/env bash
# The two detector networks side by side on the same test tomograms, after the same training
# (configs/compare_paper.toml and configs/compare_efficient.toml: same cubes, same steps):
#
#   tomopick train detector --config configs/compare_efficient.toml -o runs/compare_efficient
#   tomopick train detector --config configs/compare_paper.toml -o runs/compare_paper    # ~45 min
#   tomopick train detector --config configs/compare_efficient_long.toml -o runs/compare_efficient_long  # optional, 4× the data
#   tomopick train detector --config configs/compare_efficient_deep_long.toml -o runs/compare_efficient_deep_long  # optional
#   scripts/bench_compare_networks.sh [SEED ...]                                        (default 77 78)
#
# Test tomograms: SHREC-like (tilt series ±60°, WBP, 13 classes at 10 Å, gold, vesicles) of
# 256×256×200 voxels with 625 particles (SHREC's density), seeds never trained on. Each model
# picks at its own calibrated threshold; `paper` with the paper's tiling (64³ tiles, 8-voxel
# margins), `efficient` with its default tiles and with the paper's. Prints class-agnostic F1
# (both metrics), the mean per-class F1 and the pick time.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/tomopick
[ -x "$bin" ] || cargo build --release -p tomopick
seeds=("${@:-77 78}")
out=/tmp/tomopick_compare
mkdir -p "$out"
for seed in ${seeds[@]}; do
  d="$out/$seed"
  [ -d "$d" ] || "$bin" -q simulate tomogram --seed "$seed" --shape 256,256,200 --particles 625 -o "$d"
  for run in "efficient runs/compare_efficient/model.bpk 192" "efficient runs/compare_efficient/model.bpk 64" \
             "paper runs/compare_paper/model.bpk 64" "efficient-long runs/compare_efficient_long/model.bpk 192" \
             "efficient_deep-long runs/compare_efficient_deep_long/model.bpk 192"; do
    set -- $run
    [ -f "$2" ] || continue
    name="$1-tile$3"
    rm -rf "$d/$name"
    /usr/bin/time -f %e -o "$d/$name.time" "$bin" -q pick "$d/reconstruction.mrc" --model "$2" --tile "$3" -o "$d/$name.csv" > /dev/null
    secs=$(cat "$d/$name.time")
    "$bin" -q evaluate --picks "$d/$name.csv" --truth "$d/particle_locations.txt" \
      --occupancy "$d/occupancy_mask.mrc" --classes "$d/classes.toml" --beta 1 -o "$d/$name" > /dev/null
    python3 - "$d/$name/report.json" "$seed" "$name" "$secs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, c = r["shrec"], r["czii"]
mean = sum(v["f_beta"] for v in s["per_class"].values()) / len(s["per_class"])
print(f"seed {sys.argv[2]} {sys.argv[3]:<16} SHREC F1 {s['overall']['f_beta']:.3f} "
      f"(P {s['overall']['precision']:.3f}, R {s['overall']['recall']:.3f}), CZII F1 {c['overall']['f_beta']:.3f}, "
      f"mean per-class SHREC F1 {mean:.3f}, picked in {float(sys.argv[4]):.1f} s")
PY
  done
done
