"""Can the detector's class names be corrected by class priors alone? (issue 14)

Two rules on the detector's own class probabilities at its picks (`tomopick pick --class-scores`;
no pick added or dropped, so class-agnostic F1 stays the detector's), scored with the SHREC rule
(each pick rounded to a voxel of the 6-connected dilated occupancy mask, as `tomopick evaluate`;
the script's macro F1 equals `evaluate`'s):

- `bias`: one log-offset per class added before the argmax, fitted by coordinate ascent (grid
  -4..4 by 0.5, three rounds) on half of the validation part and scored on the other half (four
  splits), optionally with our own tomogram weighted in (`--own DIR --own-weight W`), as the
  thresholds are fitted;
- `em`: each tomogram's class priors re-estimated from its own picks (Saerens et al. 2002: the
  posteriors times prior ratio, iterated; `damp` an exponent on the ratio), no parameter fitted.

    python class_priors.py SUITE_DIR [--model M] [--own DIR] [--bin tomopick]

Uses the suite's venv (numpy, scipy, mrcfile). Picks go to valNN/cs_<tag>/.
"""
import argparse
import csv
import os
import subprocess

import mrcfile
import numpy as np
from scipy.ndimage import generate_binary_structure, grey_dilation

from score_picks import read_class_scores, validation_tomograms

GRID = np.arange(-4, 4.01, 0.5)


def load(binary, tdir, tag, model):
    """(classes, particle hit by each pick or -1, log class probabilities, true class per particle)."""
    out = os.path.join(tdir, f"cs_{tag}")
    scores = os.path.join(out, "scores.csv")
    if not os.path.exists(scores):
        os.makedirs(out, exist_ok=True)
        subprocess.run([binary, "-q", "pick", os.path.join(tdir, "reconstruction.mrc"), "-o",
                        os.path.join(out, "picks.csv"), "--class-scores", scores, "--overwrite"]
                       + (["--model", model] if model else []), check=True, stdout=subprocess.DEVNULL)
    classes, rows = read_class_scores(scores)
    with mrcfile.open(os.path.join(tdir, "occupancy_mask.mrc"), permissive=True) as m:
        occ = np.rint(m.data).astype(np.int64)
        vox = float(m.voxel_size.x)
    occ = grey_dilation(occ, footprint=generate_binary_structure(3, 1))
    with open(os.path.join(tdir, "particle_locations.txt")) as f:
        truth = [line.split()[0] for line in f if line.strip()]
    tc = np.array([classes.index(c) if c in classes else -1 for c in truth])
    hit = []
    for r in rows:
        i = [int(round(v / vox)) for v in (r[2], r[1], r[0])]
        inside = all(0 <= i[k] < occ.shape[k] for k in range(3))
        lab = int(occ[i[0], i[1], i[2]]) if inside else 0
        hit.append(lab - 1 if 0 < lab <= len(truth) else -1)
    return classes, np.array(hit), np.log(np.array([r[4] for r in rows]) + 1e-5), tc


def macro(hit, pred, tc, n_classes):
    """Mean SHREC F1 over the classes present: distinct particles of class c hit by picks named c."""
    f1 = []
    for c in range(n_classes):
        n_true = int((tc == c).sum())
        if n_true == 0:
            continue
        named = pred == c
        tp = len({int(h) for h in hit[named] if h >= 0 and tc[h] == c})
        f1.append(2 * tp / max(1, int(named.sum()) + n_true))
    return float(np.mean(f1))


def mean_macro(data, names, bias, own=None, own_weight=0.0):
    m = [macro(h, (lp + bias).argmax(1), tc, len(c)) for c, h, lp, tc in (data[n] for n in names)]
    s = sum(m)
    if own is not None and own_weight:
        c, h, lp, tc = own
        s += own_weight * macro(h, (lp + bias).argmax(1), tc, len(c))
        return s / (len(m) + own_weight)
    return s / len(m)


def fit_bias(data, names, own, own_weight):
    n = len(data[names[0]][0])
    bias = np.zeros(n)
    best = mean_macro(data, names, bias, own, own_weight)
    for _ in range(3):
        for c in range(n):
            for g in GRID:
                b = bias.copy()
                b[c] = g
                s = mean_macro(data, names, b, own, own_weight)
                if s > best + 1e-9:
                    best, bias = s, b
    return bias


def em(logp, iters, damp):
    p = np.exp(logp)
    p /= p.sum(1, keepdims=True)
    n = p.shape[1]
    prior = np.full(n, 1.0 / n)
    for _ in range(iters):
        q = p * (prior * n) ** damp
        q /= q.sum(1, keepdims=True)
        prior = q.mean(0)
    return np.log(p * (prior * n) ** damp + 1e-12)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--model", default=None)
    ap.add_argument("--tag", default="default")
    ap.add_argument("--own", default=None, help="one of our own annotated tomogram folders")
    ap.add_argument("--own-weight", type=float, default=10.0)
    ap.add_argument("--bin", default="tomopick")
    a = ap.parse_args()
    val = validation_tomograms(a.suite)
    data = {n: load(a.bin, os.path.join(a.suite, n), a.tag, a.model) for n in val}
    own = load(a.bin, a.own, a.tag, a.model) if a.own else None
    zero = np.zeros(len(data[val[0]][0]))
    print("| bias fitted on | own weight | fitted half: before -> after | other half: before -> after |")
    print("|---|---:|---|---|")
    for w in ([0.0, a.own_weight] if own else [0.0]):
        for fit, held in ((val[:5], val[5:]), (val[5:], val[:5]), (val[::2], val[1::2]), (val[1::2], val[::2])):
            b = fit_bias(data, fit, own, w)
            print(f"| {' '.join(fit)} | {w:g} | {mean_macro(data, fit, zero):.3f} -> {mean_macro(data, fit, b):.3f} "
                  f"| {mean_macro(data, held, zero):.3f} -> {mean_macro(data, held, b):.3f} |", flush=True)
    print("\n| EM priors: iterations, damp | validation macro F1 | own |")
    print("|---|---:|---:|")
    for iters, damp in ((0, 1.0), (1, 1.0), (3, 0.5), (3, 1.0), (10, 1.0)):
        m = np.mean([macro(h, em(lp, iters, damp).argmax(1), tc, len(c)) for c, h, lp, tc in data.values()])
        o = macro(own[1], em(own[2], iters, damp).argmax(1), own[3], len(own[0])) if own else float("nan")
        print(f"| {iters}, {damp:g} | {m:.3f} | {o:.3f} |", flush=True)


if __name__ == "__main__":
    main()
