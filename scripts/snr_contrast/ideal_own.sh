#!/usr/bin/env bash
# The ideal observer's d' on our own tomograms (issue 19), to set beside the foreign suite's
# (scripts/foreign_suite/ideal_observer.py): tomograms of val03's geometry at each SNR, their
# noise-free counterpart made with the same seed at SNR 1e9 (the same draws without noise; the
# noise_free.mrc that `simulate tomogram` writes is on another scale and chain, so it is not
# used), picked with the defaults (MODEL=file.bpk for another model) and at threshold 0.1, and
# each particle's d' with the pickers' recall per d' bin.
#
#   scripts/snr_contrast/ideal_own.sh [SNR...]      # default: 0.2 0.05; folders in $OUT
#
# Uses the foreign suite's scratch venv (scripts/foreign_suite.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${TOMOPICK_SUITE_VENV:-$HOME/.cache/tomopick/suite-venv}
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
out=${OUT:-$HOME/.cache/tomopick/own_ideal}
[ -x "$bin" ] || cargo build --release -p tomopick
[ -x "$venv/bin/python" ] || scripts/foreign_suite.sh validation > /dev/null
mkdir -p "$out"
snrs=("${@:-0.2 0.05}")
model=()
[ -n "${MODEL:-}" ] && model=(--model "$MODEL")
names=()
for s in 1e9 ${snrs[@]}; do
  sed "s/SNR_VALUE/$s/" scripts/snr_contrast/own_like_val03.toml > "$out/cfg_$s.toml"
  [ -f "$out/snr$s/reconstruction.mrc" ] ||
    "$bin" -q simulate tomogram --config "$out/cfg_$s.toml" --seed 5 -o "$out/snr$s" > /dev/null
  [ "$s" = 1e9 ] && continue
  # The same draws without noise, under the name ideal_observer.py reads.
  [ -L "$out/snr$s/noise_free.mrc" ] || mv "$out/snr$s/noise_free.mrc" "$out/snr$s/potential_noise_free.mrc"
  ln -sfn "$out/snr1e9/reconstruction.mrc" "$out/snr$s/noise_free.mrc"
  mkdir -p "$out/snr$s/defaults" "$out/snr$s/t0.1"
  "$bin" -q pick "$out/snr$s/reconstruction.mrc" "${model[@]}" -o "$out/snr$s/defaults/picks.csv" --overwrite > /dev/null
  "$bin" -q pick "$out/snr$s/reconstruction.mrc" "${model[@]}" --threshold 0.1 -o "$out/snr$s/t0.1/picks.csv" --overwrite > /dev/null
  names+=("snr$s")
done
cd scripts/foreign_suite
"$venv/bin/python" ideal_observer.py "$out" --tomos "${names[@]}" --picks defaults t0.1
