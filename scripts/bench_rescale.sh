#!/usr/bin/env bash
# Picking tomograms at voxel sizes the default model (10 Å) was not trained at: the same physical
# extent (1600 × 1600 × 800 Å, 120 particles, SHREC-like imaging) simulated at 10, 7 and 13.5 Å,
# picked (a) as `tomopick pick` does, resampling to 10 Å on the fly, and (b) pretending the voxels
# are 10 Å (`--voxel-size 10`, positions mapped back to the true voxel size before scoring).
#
#   scripts/bench_rescale.sh [SEED ...]          (default: 4242 4243)
#
# Prints the class-agnostic F1 (SHREC metric) of both, per voxel size and seed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/tomopick
[ -x "$bin" ] || cargo build --release -p tomopick
seeds=("${@:-4242 4243}")
out=/tmp/tomopick_rescale
mkdir -p "$out"
f1() {
  "$bin" -q evaluate --picks "$1" --truth "$2/particle_locations.txt" --occupancy "$2/occupancy_mask.mrc" \
    --classes "$2/classes.toml" --beta 1 -o "$3" > /dev/null
  python3 -c "import json,sys; o=json.load(open(sys.argv[1]))['shrec']['overall']; print(f\"{o['f1']:.3f} (P {o['precision']:.2f}, R {o['recall']:.2f})\")" "$3/report.json"
}
for seed in ${seeds[@]}; do
  for vs in 10 7 13.5; do
    d="$out/$seed-$vs"
    shape=$(python3 -c "print(','.join(str(round(n * 10 / $vs)) for n in (160, 160, 80)))")
    [ -d "$d" ] || "$bin" -q simulate tomogram --seed "$seed" --shape "$shape" --particles 120 --voxel-size "$vs" -o "$d"
    rm -rf "$d"/picks* "$d"/as10.csv "$d"/report*
    start=$(date +%s.%N)
    "$bin" -q pick "$d/reconstruction.mrc" -o "$d/picks.csv" > /dev/null
    secs=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
    # Pretending: the picks' voxels (Å / 10) are the tomogram's own voxels.
    "$bin" -q pick "$d/reconstruction.mrc" -o "$d/as10.csv" --voxel-size 10 > /dev/null
    python3 - "$d/as10.csv" "$d/picks_as10.csv" "$vs" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({**r, **{k: float(r[k]) * float(sys.argv[3]) / 10 for k in "xyz"}})
PY
    echo "seed $seed, $vs Å ($shape voxels): resampled $(f1 "$d/picks.csv" "$d" "$d/report") in $secs s; as if 10 Å $(f1 "$d/picks_as10.csv" "$d" "$d/report_as10")"
  done
done
