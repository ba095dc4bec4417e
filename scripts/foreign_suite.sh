#!/usr/bin/env bash
# The foreign-domain suite end to end: makes the tomograms if they are missing (Python code that
# shares nothing with tomopick-sim: scripts/foreign_suite/make_suite.py), picks each with
# `tomopick pick`, scores it with `tomopick evaluate` (SHREC occupancy rule) and prints one table.
#
#   scripts/foreign_suite.sh [validation|test|all] [RUN_NAME] [-- PICK_ARGS...]
#
#   scripts/foreign_suite.sh validation                       # the shipped defaults, no flags
#   scripts/foreign_suite.sh validation t02 -- --threshold 0.2
#   scripts/foreign_suite.sh test new -- --model runs/det/model.bpk
#   ADAPT=1 scripts/foreign_suite.sh test adapted   # `tomopick adapt` on each tomogram first,
#                                                    # then pick with its adapted model
#   ADAPT=1 ADAPT_TM=1 scripts/foreign_suite.sh validation adapted_tm
#                                 # the same with --match-templates at the tomogram's tilt range
#
# Choices (thresholds, checkpoints, recipes) are made on the validation part only; the test part
# is for reporting. The suite lives in $TOMOPICK_SUITE (default ~/.cache/tomopick/foreign_suite,
# 20 tomograms of 256×256×112 at 10 Å, 29 MB each, about a minute each to make); its Python
# (numpy, scipy, gemmi, mrcfile) goes into a scratch venv beside it, never into tomopick.
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-validation}
run=${2:-defaults}
shift $(( $# >= 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
suite=${TOMOPICK_SUITE:-$HOME/.cache/tomopick/foreign_suite}
venv=${TOMOPICK_SUITE_VENV:-$HOME/.cache/tomopick/suite-venv}
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
[ -x "$bin" ] || cargo build --release -p tomopick
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy scipy gemmi mrcfile
fi
"$venv/bin/python" scripts/foreign_suite/make_suite.py --out "$suite" --part "$part" | grep -v ': 0 s$' || true
case $part in validation) prefix=val ;; test) prefix=tes ;; *) prefix="" ;; esac
for d in "$suite"/$prefix*/; do
  d=${d%/}
  rm -rf "$d/$run"
  mkdir -p "$d/$run"
  model=()
  if [ "${ADAPT:-0}" = 1 ]; then
    tm=()
    if [ "${ADAPT_TM:-0}" = 1 ]; then
      tilt=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tilt_max_deg"])' "$d/params.json")
      tm=(--match-templates --tilt-max "$tilt")
    fi
    "$bin" -q adapt "$d/reconstruction.mrc" -o "$d/$run/adapt" "${tm[@]}" ${ADAPT_ARGS:-} > /dev/null
    model=(--model "$d/$run/adapt/model.bpk")
  fi
  "$bin" -q pick "$d/reconstruction.mrc" -o "$d/$run/picks.csv" "${model[@]}" "$@" > /dev/null
  "$bin" -q evaluate --picks "$d/$run/picks.csv" --truth "$d/particle_locations.txt" \
    --occupancy "$d/occupancy_mask.mrc" --classes "$d/classes.toml" --beta 1 -o "$d/$run" > /dev/null
done
python3 scripts/foreign_suite/summarize.py "$suite" "$run" --prefix "$prefix" --json "$suite/summary_${part}_${run}.json"
