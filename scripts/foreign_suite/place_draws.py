"""How much do template matching's names depend on the draw of reference places, and how many
places, or which estimator of each class's centre and spread there, steadies them? (issue 14)

`match-templates` standardises each class's correlation against its scores at N seeded places
of the tomogram away from the picks (median and 1.4826 × MAD; N = `--background`). One draw of
N places is one sample: its median and MAD carry sampling noise, which moves the names. Here
each suite tomogram's correlations at a large pool of places (default 1,000, drawn as
`match-templates` draws them: at least 10 voxels from every true particle and 16 from the
faces) are matched once (`match-templates --picks places.csv --background 0 --hand as-is
--protein P`, P the contrast the true positions gave), and then, for many random draws of N of
them, the true positions are named with E = 0.5 (the default rule) from each estimator:

- `median/MAD` (what `match-templates` does);
- `HD`: Harrell-Davis estimates of the same median and MAD (weighted averages of all order
  statistics; less noisy for the same N);
- `trimmed`: mean and SD of the middle 80 % (SD scaled to a normal's).

The correlations at the true positions come from `template_makeup.py`'s cached run
(SUITE/<tomo>/makeup/matched.csv; run it first). Prints, per estimator and N, the accuracy over
the part averaged over the draws, and its spread over draws (per tomogram, then averaged).

    python place_draws.py SUITE [--prefix val] [--bin tomopick] [--pool 1000] [--draws 200]

Needs numpy and scipy (the suite's venv). Pools are kept in SUITE/<tomo>/places/.
"""
import argparse
import csv
import json
import os
import subprocess

import mrcfile
import numpy as np
from scipy.stats.mstats import hdquantiles

from template_makeup import matched


def pool(binary, tomo_dir, size, min_dist=10.0, margin=16.0, seed=0):
    """The classes' correlations at `size` places of the tomogram (rows × classes)."""
    out_dir = os.path.join(tomo_dir, "places")
    path = os.path.join(out_dir, f"pool{size}.csv")
    if not os.path.exists(path):
        os.makedirs(out_dir, exist_ok=True)
        with mrcfile.open(os.path.join(tomo_dir, "reconstruction.mrc"), header_only=True) as m:
            shape = [int(m.header.nx), int(m.header.ny), int(m.header.nz)]
            vs = float(m.voxel_size.x)
        truth = np.array([[float(v) for v in line.split()[1:4]]
                          for line in open(os.path.join(tomo_dir, "particle_locations.txt"))])
        rng = np.random.default_rng(seed)
        places = []
        while len(places) < size:
            c = np.array([rng.uniform(margin, s - 1 - margin) for s in shape]).round()
            if np.min(np.linalg.norm(truth - c, axis=1)) >= min_dist:
                places.append(c)
        listed = os.path.join(out_dir, f"pool{size}_places.csv")
        with open(listed, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["class", "x", "y", "z"])
            w.writerows(["place", *(c * vs)] for c in places)
        params = json.load(open(os.path.join(tomo_dir, "params.json")))
        subprocess.run([binary, "-q", "match-templates", os.path.join(tomo_dir, "reconstruction.mrc"),
                        "--picks", listed, "--tilt-max", str(params["tilt_max_deg"]),
                        "--background", "0", "--hand", "as-is", "--protein", protein(binary, tomo_dir),
                        "-o", path], check=True, stdout=subprocess.DEVNULL)
    rows = list(csv.DictReader(open(path)))
    classes = [k[3:] for k in rows[0] if k.startswith("cc_")]
    return classes, np.array([[float(r["cc_" + c]) for c in classes] for r in rows])


def protein(binary, tomo_dir):
    """The contrast `match-templates` reads from the true positions (dark or bright)."""
    out = subprocess.run([binary, "match-templates", os.path.join(tomo_dir, "reconstruction.mrc"),
                          "--picks", os.path.join(tomo_dir, "particle_locations.txt"),
                          "--rotations", "2", "--hand", "as-is", "--background", "0",
                          "-o", os.path.join(tomo_dir, "places", "sign.csv")],
                         check=True, capture_output=True, text=True)
    return "bright" if "brighter" in out.stderr + out.stdout else "dark"


def estimates(ref, how):
    """Each class's (centre, spread) from its scores at the places `ref` (rows × classes)."""
    if how == "median/MAD":
        m = np.median(ref, 0)
        return m, 1.4826 * np.median(np.abs(ref - m), 0)
    if how == "HD":
        m = np.array([hdquantiles(ref[:, j], prob=[0.5])[0] for j in range(ref.shape[1])])
        mad = np.array([hdquantiles(np.abs(ref[:, j] - m[j]), prob=[0.5])[0] for j in range(ref.shape[1])])
        return m, 1.4826 * mad
    if how == "trimmed":
        lo, hi = np.percentile(ref, [10, 90], axis=0)
        inside = np.where((ref >= lo) & (ref <= hi), ref, np.nan)
        # The SD of a normal's middle 80 % is 0.661 of its SD.
        return np.nanmean(inside, 0), np.nanstd(inside, 0) / 0.661
    raise ValueError(how)


def names(cc, m, s, e=0.5):
    return ((cc - m) / s * np.exp(e * (np.log(s) - np.log(s).mean()))).argmax(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--prefix", default="val")
    ap.add_argument("--bin", default="tomopick")
    ap.add_argument("--pool", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800])
    a = ap.parse_args()
    tomos = sorted(t for t in os.listdir(a.suite) if t.startswith(a.prefix) and len(t) == 5)
    hows = ["median/MAD", "HD", "trimmed"]
    acc = {}  # (how, n) -> per tomogram: list of accuracies over draws
    rng = np.random.default_rng(1)
    for t in tomos:
        d = os.path.join(a.suite, t)
        classes, cc, _, y = matched(a.bin, d, 200)
        pc, ref = pool(a.bin, d, a.pool)
        assert pc == classes, (pc, classes)
        whole = {how: (names(cc, *estimates(ref, how)) == y).mean() for how in hows}
        line = [t] + [f"pool {how} {v:.3f}" for how, v in whole.items()]
        for n in a.sizes:
            draws = [rng.choice(len(ref), size=n, replace=False) for _ in range(a.draws)]
            for how in hows:
                acc.setdefault((how, n), []).append(
                    [(names(cc, *estimates(ref[i], how)) == y).mean() for i in draws])
            line.append(f"n{n} " + " ".join(f"{np.mean(acc[(how, n)][-1]):.3f}" for how in hows))
        print("  ".join(line), flush=True)
    print(f"\n{'estimator':<12} {'places':>6} {'accuracy (mean over draws)':>27} {'spread over draws':>18}")
    for (how, n), per in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        per = np.array(per)
        print(f"{how:<12} {n:>6} {per.mean():27.4f} {per.std(1).mean():18.4f}")
    print(f"({len(tomos)} tomograms, {a.draws} draws of each size from a pool of {a.pool} places)")


if __name__ == "__main__":
    main()
