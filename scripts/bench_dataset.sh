#!/usr/bin/env bash
# Throughput of `tomopick pick` over a dataset: N SHREC-size tomograms (512×512×200 at 10 Å;
# one simulated tomogram, seed 77, linked N times under different names, so the disk cache may
# hold it: real datasets are read from disk once each), picked by one command into a fresh folder.
# With Slurm up (scripts/slurm_localhost.sh) it also times the job-array path for each task count
# given in SLURM_TASKS (default "1 2"), each task getting 2/tasks CPUs on this 2-core machine.
#
#   scripts/bench_dataset.sh [N]          (default 20)
#
# Prints wall seconds and tomograms per hour. Stop other work first (SIGSTOP a training).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
bin=${TOMOPICK_BIN:-${CARGO_TARGET_DIR:-target}/release/tomopick}
[ -x "$bin" ] || cargo build --release -p tomopick
work=/tmp/tomopick_dataset
src=/tmp/tomopick_acc/77
[ -f "$src/reconstruction.mrc" ] || "$bin" -q simulate tomogram --seed 77 -o "$src"
rm -rf "$work"; mkdir -p "$work/tomos"
for i in $(seq -w 1 "$n"); do ln -s "$src/reconstruction.mrc" "$work/tomos/TS_$i.mrc"; done
t0=$(date +%s.%N)
"$bin" -q pick "$work/tomos" -o "$work/out" > /dev/null
t1=$(date +%s.%N)
python3 -c "w=$t1-$t0; print(f'one machine: {$n} tomograms in {w:.1f} s = {3600*$n/w:.0f} tomograms/hour')"
if timeout 5 sinfo > /dev/null 2>&1; then
  for tasks in ${SLURM_TASKS:-1 2}; do
    rm -rf "$work/slurm$tasks"
    cpus=$(( 2 / tasks )); [ "$cpus" -ge 1 ] || cpus=1
    "$bin" -q pick "$work/tomos" -o "$work/slurm$tasks" --slurm "$work/s$tasks.sbatch" \
      --slurm-tasks "$tasks" --slurm-throttle "$tasks" --slurm-cpus "$cpus" --slurm-mem 4G > /dev/null
    t0=$(date +%s.%N)
    sbatch --wait --parsable "$work/s$tasks.sbatch" > /dev/null
    "$bin" -q pick "$work/tomos" -o "$work/slurm$tasks" > /dev/null   # the merge step
    t1=$(date +%s.%N)
    python3 -c "w=$t1-$t0; print(f'slurm, {$tasks} tasks x {$cpus} CPUs: {$n} tomograms in {w:.1f} s = {3600*$n/w:.0f} tomograms/hour')"
    for f in "$work"/out/TS_*.star; do cmp -s "$f" "$work/slurm$tasks/$(basename "$f")" || echo "DIFFERS: $f"; done
  done
fi
