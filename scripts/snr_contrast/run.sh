#!/usr/bin/env bash
# What "per-projection SNR" means in tomopick-sim and in the foreign suite (issue 19): our own
# tomograms with val03's geometry at several SNRs, and the suite's validation tomograms, each
# measured by the particles' contrast over the noise around them (particle_cnr.py); and the
# detector's class-agnostic SHREC F1 on our own ones (`tomopick pick` with its defaults, or with
# MODEL=file.bpk), to compare with the suite's at the same contrast.
#
#   scripts/snr_contrast/run.sh [SNR...]        # default: 1 0.2 0.05 0.03 0.01 0.005 0.003
#
# Uses the foreign suite's scratch venv (scripts/foreign_suite.sh makes it and the suite).
set -euo pipefail
cd "$(dirname "$0")/../.."
suite=${TOMOPICK_SUITE:-$HOME/.cache/tomopick/foreign_suite}
venv=${TOMOPICK_SUITE_VENV:-$HOME/.cache/tomopick/suite-venv}
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
[ -x "$bin" ] || cargo build --release -p tomopick
[ -x "$venv/bin/python" ] || scripts/foreign_suite.sh validation > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
snrs=("${@:-1 0.2 0.05 0.03 0.01 0.005 0.003}")
folders=()
for s in ${snrs[@]}; do
  sed "s/SNR_VALUE/$s/" scripts/snr_contrast/own_like_val03.toml > "$work/snr$s.toml"
  "$bin" -q simulate tomogram --config "$work/snr$s.toml" --seed 5 -o "$work/tomopick-sim_snr$s"
  folders+=("$work/tomopick-sim_snr$s")
done
model=()
[ -n "${MODEL:-}" ] && model=(--model "$MODEL")
for f in "${folders[@]}"; do
  "$bin" -q pick "$f/reconstruction.mrc" "${model[@]}" -o "$f/picks.csv" > /dev/null
  "$bin" -q evaluate --picks "$f/picks.csv" --truth "$f/particle_locations.txt" --occupancy "$f/occupancy_mask.mrc" \
    --classes "$f/classes.toml" --beta 1 -o "$f/eval" > "$f/eval.txt"
  grep "class-agnostic" "$f/eval.txt" | head -1 | awk -F'|' -v n="${f##*/}" '{print n "\tF1 (SHREC) " $10}'
done
"$venv/bin/python" scripts/snr_contrast/particle_cnr.py "${folders[@]}" | sed "s|$work/||"
for d in "$suite"/val*/; do
  "$venv/bin/python" -c "import json,sys; p=json.load(open(sys.argv[1])); print(p['name'], 'SNR', p['snr'], p['noise'], 'noise,', p['recon_filter'], end='\t')" "$d/params.json"
  "$venv/bin/python" scripts/snr_contrast/particle_cnr.py "${d%/}" | cut -f2-
done
