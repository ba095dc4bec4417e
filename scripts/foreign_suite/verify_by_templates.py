"""Can template matching tell particles from the detector's false picks (issue 19)?

Reads, per tomogram, low-threshold picks and their class scores as `tomopick pick --threshold
0.05 --match-templates --class-scores S.csv -o P.csv` writes them, scores each pick by a rule,
and reports the class-agnostic SHREC F1 (occupancy mask dilated by the 6-connected cross, each
pick at its nearest voxel, duplicates counted against precision, as `tomopick evaluate`) at the
best threshold common to all the tomograms, and at each tomogram's own best (an oracle).

Rules: `det` (the detector's confidence), `cc` (the best template correlation over the
classes), `z` (the best z-score), `det+W*z` (confidence plus W times the best z-score),
`det*cc` (confidence times the best correlation).

  python verify_by_templates.py SCORES_DIR SUITE_DIR TOMO... [--rules R ...]

Needs numpy and mrcfile (the suite's venv).
"""
import argparse
import os
import sys

import mrcfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_picks import read_class_scores  # noqa: E402


def dilated_labels(path):
    m = np.asarray(mrcfile.open(path, permissive=True).data).astype(np.int64)
    p = np.pad(m, 1)
    out = m.copy()
    nz, ny, nx = m.shape
    for dz, dy, dx in [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]:
        out = np.maximum(out, p[1 + dz:1 + dz + nz, 1 + dy:1 + dy + ny, 1 + dx:1 + dx + nx])
    return out


def load(scores_dir, suite, tomo):
    """(hit label per pick, feature dict, number of true particles)."""
    d = os.path.join(suite, tomo)
    with mrcfile.open(os.path.join(d, "occupancy_mask.mrc"), permissive=True, header_only=True) as f:
        vs = float(f.voxel_size.x)
    labels = dilated_labels(os.path.join(d, "occupancy_mask.mrc"))
    n_truth = sum(1 for line in open(os.path.join(d, "particle_locations.txt")) if line.strip())
    _, rows = read_class_scores(os.path.join(scores_dir, tomo + ".scores.csv"))
    xyz = np.array([r[:3] for r in rows]).reshape(-1, 3)
    det = np.array([r[3] for r in rows])
    cc = np.array([r[5] for r in rows]).reshape(len(rows), -1)
    z = np.array([r[6] for r in rows]).reshape(len(rows), -1)
    idx = np.floor(xyz / vs + 0.5).astype(int)
    nz, ny, nx = labels.shape
    inside = (idx[:, 0] >= 0) & (idx[:, 0] < nx) & (idx[:, 1] >= 0) & (idx[:, 1] < ny) \
        & (idx[:, 2] >= 0) & (idx[:, 2] < nz)
    hit = np.zeros(len(rows), np.int64)
    hit[inside] = labels[idx[inside, 2], idx[inside, 1], idx[inside, 0]]
    feats = {"det": det, "cc": cc.max(axis=1), "z": z.max(axis=1)}
    return hit, feats, n_truth


def f1(hit, keep, n_truth):
    picks = int(keep.sum())
    if picks == 0:
        return 0.0
    tp = len(set(hit[keep & (hit > 0)].tolist()))
    p, r = tp / picks, tp / n_truth
    return 0.0 if tp == 0 else 2 * p * r / (p + r)


def rule_score(rule, f):
    if rule in f:
        return f[rule]
    if rule.startswith("det+") and rule.endswith("*z"):
        return f["det"] + float(rule[4:-2]) * f["z"]
    if rule == "det*cc":
        return f["det"] * np.clip(f["cc"], 0, None)
    raise SystemExit(f"unknown rule {rule}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scores_dir")
    ap.add_argument("suite")
    ap.add_argument("tomos", nargs="+")
    ap.add_argument("--rules", nargs="+",
                    default=["det", "cc", "z", "det+0.05*z", "det+0.1*z", "det+0.2*z", "det*cc"])
    a = ap.parse_args()
    data = [load(a.scores_dir, a.suite, t) for t in a.tomos]
    print(f"{'rule':<12} {'best common':>11} {'at':>7} {'oracle':>7}  per tomogram at the common threshold")
    for rule in a.rules:
        scores = [rule_score(rule, f) for _, f, _ in data]
        allv = np.concatenate(scores)
        ladder = np.quantile(allv, np.linspace(0, 0.99, 100))
        table = np.array([[f1(h, s >= t, n) for t in ladder] for (h, _, n), s in zip(data, scores)])
        mean = table.mean(axis=0)
        k = int(mean.argmax())
        oracle = table.max(axis=1).mean()
        print(f"{rule:<12} {mean[k]:11.3f} {ladder[k]:7.3f} {oracle:7.3f}  "
              + " ".join(f"{v:.3f}" for v in table[:, k]), flush=True)


if __name__ == "__main__":
    main()
