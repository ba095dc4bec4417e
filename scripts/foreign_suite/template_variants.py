"""Would templates drawn wider or softer name more of the suite's particles? (issue 14)

Session 16 found the suite's small particles 5-28 % wider than ours at 10 Å, falling off more
slowly at their edge. This matches each validation tomogram's true positions against every
class's template as `tomopick simulate template` makes it plus variants of it (scaled about its
centre by each --scales factor; blurred by each --b-factors B, `simulate template --b-factor`),
all as one folder of maps (`match-templates --templates`, `--naming-exponent 0`), and names each
particle by the class whose best variant scores highest (each variant standardised against the
tomogram's reference places and weighted by its spread^E, as the default rule does), beside the
plain templates alone from the same run.

    python template_variants.py SUITE [--prefix val] [--bin tomopick] [--scales 1.1] [--b-factors 4000]
        [--tomos val00 val03] [--exponent 0.5]

Needs numpy and scipy (the suite's venv). Maps go to SUITE/variant_maps_<tag>/, runs to
SUITE/<tomo>/variants_<tag>/ and are reused.
"""
import argparse
import csv
import json
import os
import subprocess

import mrcfile
import numpy as np
from scipy import ndimage

from template_makeup import place_stats


def scaled(v, f):
    """`v` scaled by `f` about its centre voxel (N/2), in a box grown to hold it (even edge)."""
    n = v.shape[0]
    m = n + 2 * int(np.ceil(max(f - 1, 0) * n / 2 + 1))
    c_in, c_out = n / 2, m / 2
    matrix = np.eye(3) / f
    offset = c_in - matrix @ np.full(3, c_out)
    return ndimage.affine_transform(v, matrix, offset=offset, output_shape=(m, m, m), order=3)


def write(path, v):
    with mrcfile.new(path) as m:
        m.set_data(v)
        m.voxel_size = 10.0


def make_maps(binary, out, scales, b_factors):
    """The plain templates and their variants in `out` (class~variant.mrc); returns `out`."""
    if os.path.isdir(out):
        return out
    tmp = out + ".tmp"
    subprocess.run([binary, "-q", "simulate", "template", "--voxel-size", "10", "-o", tmp + "/plain"], check=True)
    for b in b_factors:
        subprocess.run([binary, "-q", "simulate", "template", "--voxel-size", "10", "--b-factor", str(b),
                        "-o", f"{tmp}/b{b:g}"], check=True)
    os.makedirs(tmp + "/all")
    for f in sorted(os.listdir(tmp + "/plain")):
        name = f[:-4]
        with mrcfile.open(f"{tmp}/plain/{f}") as m:
            v = np.array(m.data, np.float32)
        write(f"{tmp}/all/{name}.mrc", v)
        for s in scales:
            write(f"{tmp}/all/{name}~s{s:g}.mrc", scaled(v, s).astype(np.float32))
        for b in b_factors:
            os.rename(f"{tmp}/b{b:g}/{f}", f"{tmp}/all/{name}~b{b:g}.mrc")
    os.rename(tmp + "/all", out)
    return out


def matched(binary, tomo_dir, maps, tag):
    out_dir = os.path.join(tomo_dir, f"variants_{tag}")
    path = os.path.join(out_dir, "matched.csv")
    if not os.path.exists(path):
        os.makedirs(out_dir, exist_ok=True)
        tilt = json.load(open(os.path.join(tomo_dir, "params.json")))["tilt_max_deg"]
        subprocess.run([binary, "-q", "match-templates", os.path.join(tomo_dir, "reconstruction.mrc"),
                        "--picks", os.path.join(tomo_dir, "particle_locations.txt"), "--templates", maps,
                        "--tilt-max", str(tilt), "--naming-exponent", "0", "-o", path],
                       check=True, stdout=subprocess.DEVNULL)
    rows = list(csv.DictReader(open(path)))
    names = [k[3:] for k in rows[0] if k.startswith("cc_")]
    cc = np.array([[float(r["cc_" + c]) for c in names] for r in rows])
    z = np.array([[float(r["z_" + c]) for c in names] for r in rows])
    return names, cc, z, [r["input_class"] for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--prefix", default="val")
    ap.add_argument("--tomos", nargs="*")
    ap.add_argument("--bin", default="tomopick")
    ap.add_argument("--scales", type=float, nargs="*", default=[1.1])
    ap.add_argument("--b-factors", type=float, nargs="*", default=[4000.0])
    ap.add_argument("--exponent", type=float, default=0.5)
    a = ap.parse_args()
    tag = "_".join([f"s{s:g}" for s in a.scales] + [f"b{b:g}" for b in a.b_factors])
    maps = make_maps(a.bin, os.path.join(a.suite, f"variant_maps_{tag}"), a.scales, a.b_factors)
    tomos = a.tomos or sorted(t for t in os.listdir(a.suite) if t.startswith(a.prefix) and len(t) == 5)
    kinds = ["plain"] + [f"s{s:g}" for s in a.scales] + [f"b{b:g}" for b in a.b_factors]
    rules = kinds + ["best variant"]
    acc = {r: [] for r in rules}
    print("tomogram " + " ".join(f"{r:>12}" for r in rules))
    for t in tomos:
        names, cc, z, truth = matched(a.bin, os.path.join(a.suite, t), maps, tag)
        m, s = place_stats(cc, z)
        w = (cc - m) / s * np.exp(a.exponent * (np.log(s) - np.log(s).mean()))
        classes = sorted({n.split("~")[0] for n in names})
        y = np.array([classes.index(c) for c in truth])
        col = {n: i for i, n in enumerate(names)}

        def named(kind_list):
            per_class = np.stack([np.max(np.stack([w[:, col[c if k == "plain" else f"{c}~{k}"]]
                                                   for k in kind_list], 1), 1) for c in classes], 1)
            return (per_class.argmax(1) == y).mean()

        for k in kinds:
            acc[k].append(named([k]))
        acc["best variant"].append(named(kinds))
        print(f"{t:<8} " + " ".join(f"{acc[r][-1]:12.3f}" for r in rules), flush=True)
    print(f"{'mean':<8} " + " ".join(f"{np.mean(acc[r]):12.3f}" for r in rules))


if __name__ == "__main__":
    main()
