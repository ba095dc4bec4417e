#!/usr/bin/env bash
# A detector checkpoint on the foreign suite's validation part, as the default was chosen
# (issue 19): export the run at STEP (resume a copy of it to that step), fit its thresholds on the
# validation part plus our own tomogram 900002 (weighted ×10, so our own tomograms keep theirs),
# pick and score the validation part.
#
#   scripts/foreign_checkpoint.sh RUN_DIR STEP NAME     # e.g. runs/stage8 250 s8_250
#
# Writes runs/NAME/{model,cal}.bpk and the suite's summary_validation_NAMEc.json. Run it right
# after the run writes its checkpoint at STEP (checkpoint_every), before the next one.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?run folder}
step=${2:?step}
name=${3:?name}
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
suite=${TOMOPICK_SUITE:-$HOME/.cache/tomopick/foreign_suite}
own=${TOMOPICK_OWN_CAL:-$HOME/.cache/tomopick/own_cal900002}
[ -d "$own" ] || "$bin" -q simulate tomogram --seed 900002 -o "$own"
rm -rf "runs/$name"
cp -r "$run" "runs/$name"
"$bin" -q train detector -o "runs/$name" --resume --steps "$step"
o=$own
"$bin" -q calibrate "$suite"/val0? $o $o $o $o $o $o $o $o $o $o --model "runs/$name/model.bpk" -o "runs/$name/cal.bpk"
scripts/foreign_suite.sh validation "${name}c" -- --model "runs/$name/cal.bpk"
