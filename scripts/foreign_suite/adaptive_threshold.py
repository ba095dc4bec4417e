"""Can a tomogram's own score distribution set its pick threshold? (issue 19, item 3)

For each suite tomogram, the detector's candidates at threshold 0.02 (`ladder_vs10/raw.csv`,
written by `scale_ladder.py SUITE 10`) are cut at Otsu's threshold of their scores (the cut that
best separates the histogram into two groups), on the scores themselves and on their logits, and
scored with the SHREC rule (`tomopick evaluate`). Prints each tomogram's threshold, picks and F1,
and the mean F1 of each rule, to compare with the best common threshold (`scale_ladder.py`) and
the per-class thresholds that ship.

    python adaptive_threshold.py SUITE_DIR [val00 val01 ...]

Uses the suite's venv (numpy); TOMOPICK_BIN names the binary.
"""
import csv
import os
import sys

import numpy as np

from score_picks import score_picks, validation_tomograms

B = os.environ.get("TOMOPICK_BIN", os.path.expanduser("~/.cache/tomopick/target/release/tomopick"))


def otsu(x, bins=64):
    """The cut between histogram bins of `x` that maximises the between-group variance."""
    h, e = np.histogram(x, bins=bins)
    c = (e[:-1] + e[1:]) / 2
    best, cut = -1.0, e[1]
    for i in range(1, bins):
        w0, w1 = h[:i].sum(), h[i:].sum()
        if w0 == 0 or w1 == 0:
            continue
        m0, m1 = (h[:i] * c[:i]).sum() / w0, (h[i:] * c[i:]).sum() / w1
        v = w0 * w1 * (m0 - m1) ** 2
        if v > best:
            best, cut = v, e[i]
    return cut


def main():
    suite = sys.argv[1]
    tomos = sys.argv[2:] or validation_tomograms(suite)
    res = {}
    for t in tomos:
        d = f"{suite}/{t}"
        rows = [(r["class"], float(r["x"]), float(r["y"]), float(r["z"]), float(r["score"]))
                for r in csv.DictReader(open(f"{d}/ladder_vs10/raw.csv"))]
        s = np.array([r[4] for r in rows])
        logit = np.log(s / np.maximum(1 - s, 1e-9))
        for name, th in [("otsu on scores", otsu(s)), ("otsu on logits", 1 / (1 + np.exp(-otsu(logit))))]:
            f, _ = score_picks(B, d, [r for r in rows if r[4] >= th], f"{d}/adaptive_{name.replace(' ', '_')}")
            res.setdefault(name, []).append(f)
            print(f"{t} {name}: threshold {th:.3f}, {int((s >= th).sum())} picks, F1 {f:.3f}", flush=True)
    for name, f in res.items():
        print(f"{name}: mean F1 {np.mean(f):.3f}")


if __name__ == "__main__":
    main()
