#!/usr/bin/env bash
# Fuzzing the parsers (issue 18) with cargo-fuzz (libFuzzer, the nightly toolchain).
#
#   scripts/fuzz.sh SECONDS [TARGET...]     # run each target (default: all) for SECONDS
#
# Each target first replays its regression corpus (fuzz/regressions/<target>/: inputs that once
# crashed, hung or over-allocated, kept after the fix), then fuzzes from a working corpus in
# ~/.cache/tomopick/fuzz-corpus/<target>/ seeded with the repository's fixtures (so a campaign
# resumes where the last one stopped). Limits: 1 s per input (a hang), 1 GiB per allocation,
# 2 GiB RSS. A crash stops the run and leaves its input in fuzz/artifacts/<target>/; once fixed,
# copy it to fuzz/regressions/<target>/.
# CI runs `scripts/fuzz.sh 20`. Logs: ~/.cache/tomopick/fuzz-logs/TARGET-TIME-PID.log.
# Each clone's build leaves its own 130 MB sanitizer binary per target in the shared build folder
# (the path is part of cargo's hash), so after each target only its newest binary is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:?seconds per target}
shift
all=(mrc mrc_gz tiff ome_zarr star csv copick shrec imod structure sim_toml train_toml model_file)
targets=("${@:-${all[@]}}")
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked
corpus_root=${TOMOPICK_FUZZ_CORPUS:-$HOME/.cache/tomopick/fuzz-corpus}
# A build folder outside the clone, so CI and later campaigns reuse the sanitizer build.
target_dir=${TOMOPICK_FUZZ_TARGET:-$HOME/.cache/tomopick/fuzz-target}
logs=$HOME/.cache/tomopick/fuzz-logs
mkdir -p "$logs"
fx=tests/fixtures/made
sh=../shared/data/fixtures
seeds() {
  case $1 in
    mrc) ls $fx/*.mrc $sh/sample_tomos/*.mrc $sh/sample_tomos/*.rec 2> /dev/null ;;
    mrc_gz) ;;
    tiff) ls $fx/*.tif ;;
    ome_zarr) echo $fx/tomo.zarr/.zattrs ;;
    star) ls $fx/*.star $sh/relion5-project-cylindra/*/*/*.star $sh/annotations/*.star 2> /dev/null ;;
    csv) ls $fx/*.csv $sh/annotations/*.csv 2> /dev/null ;;
    copick) ls $fx/*.json $sh/annotations/*.json 2> /dev/null ;;
    shrec) ls examples/*/particle_locations.txt 2> /dev/null ;;
    imod) ls $sh/annotations/*.mod 2> /dev/null ;;
    structure) ls $fx/*.pdb $fx/*.cif 2> /dev/null ;;
    sim_toml) ls configs/tomogram_*.toml ;;
    train_toml) ls configs/detector_*.toml configs/classifier_*.toml ;;
    model_file) echo models/detector_shrec10a_fast.bpk ;;   # 1 MB; the 4 MB default makes every input 4×
  esac
}
for t in "${targets[@]}"; do
  c="$corpus_root/$t"
  mkdir -p "$c"
  for f in $(seeds "$t"); do [ -f "$f" ] && cp -n "$f" "$c/seed_$(basename "$f")"; done
  if [ "$t" = mrc_gz ]; then
    for f in $fx/mode2_float32.mrc $fx/mode1_int16.mrc; do gzip -c "$f" > "$c/seed_$(basename "$f").gz"; done
  fi
  opts=(-timeout=1 -malloc_limit_mb=1024 -rss_limit_mb=2048)
  # The atomic-model seeds are whole PDB/mmCIF entries of 100-270 KB, which the sanitizer build
  # parses in 0.2-1.1 s on a busy machine (linear in size; timed at a quarter, half and all of
  # one): inputs are cut to 64 KB, so that the 1 s limit still means a hang.
  [ "$t" = structure ] && opts+=(-max_len=65536)
  if [ -d "fuzz/regressions/$t" ] && [ -n "$(ls -A "fuzz/regressions/$t")" ]; then
    cargo +nightly fuzz run --target-dir "$target_dir" "$t" "fuzz/regressions/$t" -- -runs=0 "${opts[@]}"
  fi
  # One log per run (a CI run's 20 s beside an hour-long campaign must not write into its log).
  log="$logs/$t-$(date -u +%Y%m%dT%H%M%S)-$$.log"
  cargo +nightly fuzz run --target-dir "$target_dir" "$t" "$c" -- -max_total_time="$secs" "${opts[@]}" 2>&1 | tee "$log" | grep -E "^#[0-9]+.*(DONE|pulse)|ERROR|SUMMARY" || true
  # Stale sanitizer binaries of this target from other clones: all but the newest go.
  deps="$target_dir/x86_64-unknown-linux-gnu/release/deps"
  ls -t "$deps" 2> /dev/null | grep -E "^$t-[0-9a-f]{16}\$" | tail -n +2 | while read -r f; do rm -f "$deps/$f" "$deps/$f.d"; done || true
  if grep -q "ERROR: libFuzzer\|SUMMARY: " "$log"; then
    echo "fuzz target $t failed: see $log and fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
