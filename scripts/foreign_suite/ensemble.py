"""Two detectors' picks averaged (a test-time ensemble, issue 19): each suite tomogram's
candidates at threshold 0.02 from two models (`ladder_vs10*/raw.csv`, written by `scale_ladder.py
SUITE 10 [--model M]`) matched greedily, strongest first, one pick per 40 Å from each model; the
fused score is the mean of the two (0 where a model has no pick there), the position and class
the stronger pick's. Scored with the SHREC rule at a ladder of common thresholds, beside each
model alone.

    python ensemble.py SUITE_DIR LADDER_A LADDER_B     # e.g. ladder_vs10 ladder_vs10_s9_1000

Uses the suite's venv (numpy); TOMOPICK_BIN names the binary.
"""
import csv
import os
import sys

import numpy as np

from score_picks import score_picks, validation_tomograms

B = os.environ.get("TOMOPICK_BIN", os.path.expanduser("~/.cache/tomopick/target/release/tomopick"))
LADDER = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def read(path):
    return [(r["class"], float(r["x"]), float(r["y"]), float(r["z"]), float(r["score"]))
            for r in csv.DictReader(open(path))]


def fuse(a, b, radius=40.0):
    """`a` and `b` as one list of (class, x, y, z, mean score), as the module's doc says."""
    allp = sorted([(r, 0) for r in a] + [(r, 1) for r in b], key=lambda t: -t[0][4])
    pos = np.array([r[1:4] for r, _ in allp]).reshape(-1, 3)
    used = np.zeros(len(allp), bool)
    out = []
    for i, (r, src) in enumerate(allp):
        if used[i]:
            continue
        used[i] = True
        near = np.where(~used & (np.linalg.norm(pos - pos[i], axis=1) < radius))[0]
        other = [j for j in near if allp[j][1] != src]
        partner = 0.0
        if other:
            used[other[0]] = True
            partner = allp[other[0]][0][4]
        out.append((*r[:4], (r[4] + partner) / 2))
    return out


def main():
    suite, la, lb = sys.argv[1:4]
    tomos = validation_tomograms(suite)
    table = {}
    for t in tomos:
        d = f"{suite}/{t}"
        a, b = read(f"{d}/{la}/raw.csv"), read(f"{d}/{lb}/raw.csv")
        for name, rows in [(la, a), (lb, b), ("mean of both", fuse(a, b))]:
            table.setdefault(name, {})[t] = [
                score_picks(B, d, [r for r in rows if r[4] >= th], f"{d}/ensemble_{la}_{lb}/{name.replace(' ', '_')}_t{th}")[0]
                for th in LADDER]
    for name, res in table.items():
        means = [np.mean([res[t][i] for t in tomos]) for i in range(len(LADDER))]
        oracle = np.mean([max(res[t]) for t in tomos])
        print(f"{name}: " + " ".join(f"{th}:{m:.3f}" for th, m in zip(LADDER, means)) +
              f" | best common {max(means):.3f} | per-tomogram best {oracle:.3f}")


if __name__ == "__main__":
    main()
