"""How far does a Laplacian-of-Gaussian blob detector get on the suite? (issue 19)

A classical baseline with no training at all: the tomogram's scale-normalised LoG at a few
scales (σ in voxels), dark or bright particles (`--polarity dark|bright|both`), local maxima one
per 40 Å, scored by the response over its robust spread (median absolute deviation over the
tomogram), the same ladder of thresholds for every tomogram; the SHREC rule with `tomopick
evaluate` (class-agnostic F1: every pick is called 1s3x). Prints the mean F1 per threshold, the best
common threshold and the per-tomogram best (an oracle). `--network` also scores the network's
own picks fused with the blobs: each network candidate (`ladder_vs10/raw.csv` from
scale_ladder.py, threshold 0.02) gets score p + W·z/10 where z is the LoG response at it.

    python blob_baseline.py SUITE_DIR [--tomos val00 ...] [--sigmas 1.5 2 3] [--polarity both]

Uses the suite's venv (numpy, scipy, mrcfile); TOMOPICK_BIN names the binary.
"""
import argparse
import csv
import os

import mrcfile
import numpy as np
from scipy.ndimage import gaussian_laplace, maximum_filter

from score_picks import score_picks, validation_tomograms

B = os.environ.get("TOMOPICK_BIN", os.path.expanduser("~/.cache/tomopick/target/release/tomopick"))
VOXEL_A = 10.0


def response(v, sigmas):
    """The strongest scale-normalised LoG response per voxel (dark blobs positive), in robust
    standard deviations."""
    best = None
    for s in sigmas:
        r = s * s * gaussian_laplace(v, s)
        best = r if best is None else np.maximum(best, r)
    med = np.median(best)
    mad = np.median(np.abs(best - med)) * 1.4826
    return (best - med) / mad


def blob_response(v, sigmas, polarity):
    """`response` for dark particles, bright ones (the tomogram negated) or either."""
    if polarity == "dark":
        return response(v, sigmas)
    if polarity == "bright":
        return response(-v, sigmas)
    return np.maximum(response(v, sigmas), response(-v, sigmas))


def peaks(z, min_dist_vox=4):
    """Local maxima of z, one per (2·min_dist+1)³ window, strongest first, as (z, y, x, value)."""
    m = (z == maximum_filter(z, size=2 * min_dist_vox + 1)) & (z > 1.0)
    idx = np.argwhere(m)
    vals = z[m]
    order = np.argsort(-vals)
    return idx[order], vals[order]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--tomos", nargs="*", default=None)
    ap.add_argument("--sigmas", nargs="+", type=float, default=[1.5, 2.0, 3.0])
    ap.add_argument("--polarity", default="dark", choices=["dark", "bright", "both"])
    ap.add_argument("--ladder", nargs="+", type=float, default=[2, 3, 4, 5, 6, 7, 8, 10, 12])
    ap.add_argument("--network", type=float, nargs="*", default=None,
                    help="weights W of the LoG term added to the network's candidates' scores")
    a = ap.parse_args()
    tomos = a.tomos or validation_tomograms(a.suite)
    tag = f"blob_{a.polarity}_" + "_".join(str(s) for s in a.sigmas)
    res, fused = {}, {}
    for t in tomos:
        d = f"{a.suite}/{t}"
        v = mrcfile.read(f"{d}/reconstruction.mrc").astype(np.float32)
        z = blob_response(v, a.sigmas, a.polarity)
        idx, vals = peaks(z)
        rows = [("1s3x", x * VOXEL_A, y * VOXEL_A, zz * VOXEL_A, float(s)) for (zz, y, x), s in zip(idx, vals)]
        res[t] = [score_picks(B, d, [r for r in rows if r[4] >= th], f"{d}/{tag}/t{th}") for th in a.ladder]
        print(t, " ".join(f"{th}:{f:.3f}" for th, (f, _) in zip(a.ladder, res[t])), flush=True)
        if a.network is not None:
            raw = f"{d}/ladder_vs10/raw.csv"
            net = [(r["class"], float(r["x"]), float(r["y"]), float(r["z"]), float(r["score"]))
                   for r in csv.DictReader(open(raw))]
            for w in a.network:
                sc = []
                for c, x, y, zz, p in net:
                    i = [min(max(int(round(q / VOXEL_A)), 0), n - 1) for q, n in zip((zz, y, x), z.shape)]
                    sc.append((c, x, y, zz, p + w * float(z[i[0], i[1], i[2]]) / 10.0))
                lad = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6]
                fused.setdefault(w, {})[t] = [
                    score_picks(B, d, [r for r in sc if r[4] >= th], f"{d}/{tag}_net{w}/t{th}") for th in lad]
    for name, table, lad in [("LoG blobs", res, a.ladder)] + [
            (f"network + {w}·z/10", fused[w], [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6]) for w in (a.network or [])]:
        means = [sum(table[t][i][0] for t in tomos) / len(tomos) for i in range(len(lad))]
        best = int(np.argmax(means))
        oracle = sum(max(f for f, _ in table[t]) for t in tomos) / len(tomos)
        print(f"{name} ({tag}): " + " ".join(f"{th}:{m:.3f}" for th, m in zip(lad, means)) +
              f" | best common {means[best]:.3f} at {lad[best]} | per-tomogram best {oracle:.3f}")
        print("   per tomogram best: " + " ".join(f"{t}:{max(f for f, _ in table[t]):.2f}" for t in tomos))


if __name__ == "__main__":
    main()
