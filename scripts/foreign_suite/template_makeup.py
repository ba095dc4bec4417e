"""Template matching's names and the sample's make-up (issue 14).

`tomopick match-templates` standardises each class's correlation before the highest names a
pick. Over the picks (`--background 0`, the rule before session 30) that assumes the sample
holds its classes in about equal numbers, as the suite's tomograms do; a cell's tomogram is
mostly ribosomes. Against reference places of the tomogram away from the picks (the default)
it does not depend on the sample. This script measures both at the suite's true positions:

- balanced: every particle of each tomogram (the suite as made);
- dominated: subsets where one class (4v94, 4cr2, 5mrc, 3qm1, 1qvr in turn, where a tomogram
  holds at least 8 of it) makes three quarters of the picks, the rest drawn at random (seed 0)
  from the other classes;

for the z-scores over the picks (recomputed from each subset's correlations) and for the
reference places' z-scores weighted by (spread / mean spread)^E for each --exponents E (one
`match-templates --naming-exponent 0` run per tomogram gives the plain z-scores; each class's
median and spread at the places follow from its correlations and z-scores).

    python template_makeup.py SUITE [--prefix val] [--bin tomopick] [--exponents 0 0.25 0.5 0.75 1]
        [--background 200] [--rotations 1500] [--match-args '--refine 200'] [--ctf]

Needs numpy (the suite's venv). Runs are kept in SUITE/<tomo>/makeup/ (makeup_bgN/ for another
--background, then _rN for another --rotations, the --match-args' words and _ctf for --ctf) and
reused. --ctf gives match-templates each tomogram's mean defocus and phase flipping.
"""
import argparse
import csv
import json
import os
import subprocess

import numpy as np

from template_match import ctf_args

DOMINANT = ["4v94", "4cr2", "5mrc", "3qm1", "1qvr"]


def matched(binary, tomo_dir, background, rotations=1500, extra=(), ctf=False):
    """(classes, cc [picks × classes], plain z, true class index) at the true positions."""
    out_dir = os.path.join(tomo_dir, "makeup" if background == 200 else f"makeup_bg{background}")
    if rotations != 1500:
        out_dir += f"_r{rotations}"
    if extra:
        out_dir += "_" + "_".join(a.lstrip("-").replace("-", "") for a in extra)
    if ctf:
        out_dir += "_ctf"
    path = os.path.join(out_dir, "matched.csv")
    if not os.path.exists(path):
        os.makedirs(out_dir, exist_ok=True)
        params = json.load(open(os.path.join(tomo_dir, "params.json")))
        tilt = params["tilt_max_deg"]
        subprocess.run([binary, "-q", "match-templates", os.path.join(tomo_dir, "reconstruction.mrc"),
                        "--picks", os.path.join(tomo_dir, "particle_locations.txt"),
                        "--tilt-max", str(tilt), "--naming-exponent", "0",
                        "--background", str(background), "--rotations", str(rotations), "-o", path] + list(extra) + (ctf_args(params) if ctf else []),
                       check=True, stdout=subprocess.DEVNULL)
    rows = list(csv.DictReader(open(path)))
    classes = [k[3:] for k in rows[0] if k.startswith("cc_")]
    cc = np.array([[float(r["cc_" + c]) for c in classes] for r in rows])
    z = np.array([[float(r["z_" + c]) for c in classes] for r in rows])
    y = np.array([classes.index(r["input_class"]) for r in rows])
    return classes, cc, z, y


def place_stats(cc, z):
    """Each class's median and spread at the reference places, from cc = median + spread × z."""
    m, s = [], []
    for j in range(cc.shape[1]):
        a = np.vstack([z[:, j], np.ones(len(z))]).T
        slope, icpt = np.linalg.lstsq(a, cc[:, j], rcond=None)[0]
        s.append(slope)
        m.append(icpt)
    return np.array(m), np.array(s)


def rules(cc, m, s, exponents):
    """Scores by rule name for the rows of cc (a whole tomogram or a subset)."""
    out = {"over picks": (cc - cc.mean(0)) / (cc.std(0) + 1e-9)}
    log_mean = np.log(s).mean()
    for e in exponents:
        out[f"places, E={e:g}"] = (cc - m) / s * np.exp(e * (np.log(s) - log_mean))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--prefix", default="val")
    ap.add_argument("--bin", default="tomopick")
    ap.add_argument("--exponents", type=float, nargs="+", default=[0, 0.25, 0.5, 0.75, 1])
    ap.add_argument("--background", type=int, default=200, help="reference places (match-templates --background)")
    ap.add_argument("--rotations", type=int, default=1500, help="orientations per class (match-templates --rotations)")
    ap.add_argument("--ctf", action="store_true", help="each tomogram's defocus and phase flipping (params.json)")
    ap.add_argument("--match-args", default="", help="more match-templates arguments, e.g. '--refine 200'")
    a = ap.parse_args()
    tomos = sorted(t for t in os.listdir(a.suite) if t.startswith(a.prefix) and len(t) == 5)
    rng = np.random.default_rng(0)
    balanced, dominated, by_class = {}, {}, {}
    for t in tomos:
        classes, cc, z, y = matched(a.bin, os.path.join(a.suite, t), a.background, a.rotations, a.match_args.split(), a.ctf)
        m, s = place_stats(cc, z)
        for name, v in rules(cc, m, s, a.exponents).items():
            balanced.setdefault(name, []).append((v.argmax(1) == y).mean())
        for dc in DOMINANT:
            k = classes.index(dc)
            main_, rest = np.where(y == k)[0], np.where(y != k)[0]
            if len(main_) < 8:
                continue
            sub = np.concatenate([main_, rng.choice(rest, size=max(3, len(main_) // 3), replace=False)])
            for name, v in rules(cc[sub], m, s, a.exponents).items():
                named = v.argmax(1)
                dominated.setdefault(name, []).append((named == y[sub]).mean())
                by_class.setdefault((name, dc), []).append((named[: len(main_)] == k).mean())
        print(t, " ".join(f"{balanced[n][-1]:.3f}" for n in balanced), flush=True)
    print(f"\n{'rule':<18} {'balanced':>9} {'dominated':>10}  " + " ".join(f"{d:>6}" for d in DOMINANT))
    for name in balanced:
        per = [np.mean(by_class.get((name, d), [np.nan])) for d in DOMINANT]
        print(f"{name:<18} {np.mean(balanced[name]):9.3f} {np.mean(dominated[name]):10.3f}  "
              + " ".join(f"{v:6.3f}" for v in per))
    print(f"({len(tomos)} tomograms; dominated: {len(dominated['over picks'])} subsets; "
          "the last columns: the dominant class's own particles named right)")


if __name__ == "__main__":
    main()
