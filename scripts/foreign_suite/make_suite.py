#!/usr/bin/env python3
"""Foreign-domain validation suite: crowded tomograms with exact ground truth, made by code that
shares nothing with tomopick-sim.

Independent of tomopick-sim at every step:
- densities: gemmi's electron (Peng/ITC 4.3.2.2) or X-ray (IT92, rescaled) density calculators,
  or a mass-weighted Gaussian-blob model (pdb2vol-like) written here; B-factors 20-250 A^2;
  solvent displacement by a smoothed envelope; an optional hydration shell. The three classes
  without an atomic model (4cr2, 4v94, 5mrc) start from the same polnet maps tomopick-sim uses,
  but are re-thresholded, re-blurred and re-scaled here.
- sample: templates rotated at 5 A with scipy (uniform rotations), binned to 10 A, placed
  without overlap up to a target occupancy; spherical lipid vesicles with a two-leaflet profile;
  gold beads.
- imaging: projections by rotating the volume (scipy.ndimage.rotate) and summing; per-tilt 2D
  CTF with defocus jitter and dose-dependent damage; ice attenuation growing with 1/cos(tilt);
  residual tilt misalignment; noise that is Poisson counts at the dose that gives the target SNR,
  or Gaussian, or both (half the variance each, the Gaussian part low-passed).
- reconstruction: weighted back-projection written here (ramp times a window: ramp, Shepp-Logan,
  cosine, Hamming or Hann), with or without phase flipping.

SNR is that of the 0-degree projection: variance of the noise-free image (after CTF, detector
MTF and attenuation) over the variance of the noise. Every tilt gets the same dose, so tilted
views, which see thicker ice, have a lower SNR.

Outputs per tomogram (a folder): reconstruction.mrc (float32, 10 A), occupancy_mask.mrc
(particle number = line of particle_locations.txt), particle_locations.txt (SHREC: class x y z
Z1 X Z2, voxels), classes.toml (equivalent-sphere radii), params.json.

    make_suite.py --out DIR [--part validation|test|oracle|oracle_ramp|subset|all] [--only NAME ...] [--jobs N]
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import density  # noqa: E402
import imaging  # noqa: E402
import sample  # noqa: E402

VOXEL_A = 10.0
SHAPE_ZYX = (112, 256, 256)

# Per-projection SNRs of each part: the same ladder, different seeds for everything else.
SNR_LADDER = [1.0, 0.5, 0.3, 0.2, 0.2, 0.1, 0.05, 0.05, 0.03, 0.5]
PART_SEED = {"validation": 1000, "test": 2000, "oracle": 3000, "subset": 4000}
# Tomograms per part. "oracle" is a diagnostic only, never a choice or a report: tomograms of the
# suite's own kind to train on, for the in-domain upper bound (what a detector trained on this
# simulator's output reaches on the validation part).
PART_SIZE = {"validation": 10, "test": 10, "oracle": 40}
# Bumped when the same spec makes other voxels, so a suite made before is remade. 2: gemmi's
# densities at their true size (version 1 stretched them by 0-14 %, see density._box).
SUITE_VERSION = 2


def spec(part, i):
    """The imaging and sample parameters of tomogram `i` of a part (seeded, reproducible)."""
    seed = PART_SEED[part] + i
    rng = np.random.default_rng(seed)
    step = int(rng.choice([1, 2, 3, 4, 5]))
    tilt_max = int(round(rng.uniform(40, 70) / step) * step)
    return {
        "name": f"{part[:3]}{i:02d}",
        "part": part,
        "seed": seed,
        "snr": SNR_LADDER[i % len(SNR_LADDER)],
        "tilt_max_deg": tilt_max,
        "tilt_step_deg": step,
        "defocus_um": float(rng.uniform(1.0, 6.0)),
        "amplitude_contrast": float(rng.uniform(0.05, 0.10)),
        "vesicles": int(rng.integers(0, 4)) if rng.random() < 0.6 else 0,
        "gold": int(rng.integers(4, 20)) if rng.random() < 0.5 else 0,
        "occupancy": float(rng.uniform(0.04, 0.10)),
        "density_model": str(rng.choice(["gemmi_e", "gemmi_x", "gauss_blob"])),
        "b_factor_a2": float(rng.uniform(20, 250)),
        "blob_resolution_a": float(rng.uniform(12, 25)),
        "hydration": float(rng.uniform(0.0, 0.25)),
        "solvent_fraction": float(rng.uniform(0.8, 1.0)),
        "noise": str(rng.choice(["poisson", "gaussian", "mixed"])),
        "recon_filter": str(rng.choice(["ramp", "shepp-logan", "cosine", "hamming", "hann"])),
        "phase_flip": bool(rng.random() < 0.5),
        "misalign_px": float(rng.uniform(0.0, 1.0)),
        "ice_nm": float(rng.uniform(75, 110)),
        "interp_order": int(rng.choice([1, 3])),
        "damage_b_per_tilt": float(rng.uniform(0.0, 6.0)),
    }


# Samples of a few known complexes (part "subset", names sub00-sub05): three of the 13 classes
# each, as a purified or reconstituted sample holds, for `pick --classes` (the user names what is
# in the sample). Not a choice's data: the option has no parameter to tune.
SUBSET_SNR = [0.5, 0.3, 0.2, 0.2, 0.1, 0.05]
ALL_CLASSES = ["1bxn", "1qvr", "1s3x", "1u6g", "2cg9", "3cf3", "3d2f", "3gl1", "3h84", "3qm1", "4cr2", "4v94", "5mrc"]


def subset_spec(i):
    """Tomogram `i` of part "subset": a drawn spec of its own seed, three classes, a fixed SNR."""
    p = spec("subset", i)
    rng = np.random.default_rng(PART_SEED["subset"] + 100 + i)
    p["classes"] = sorted(str(c) for c in rng.choice(ALL_CLASSES, 3, replace=False))
    p["snr"] = SUBSET_SNR[i]
    return p


# Four more oracle tomograms with the plain ramp filter at SNR 0.1-0.3 and Gaussian or Poisson
# noise, the kind the 40 drawn ones hold least of (BENCHMARKS.md, "Correction: the in-domain runs
# had not seen the ramp filter's noise"): part "oracle_ramp", names ora40-ora43.
ORACLE_RAMP = [(0.1, "gaussian"), (0.2, "gaussian"), (0.2, "poisson"), (0.3, "gaussian")]


def parts(which):
    if which == "subset":
        return [subset_spec(i) for i in range(len(SUBSET_SNR))]
    if which == "oracle_ramp":
        return [dict(spec("oracle", PART_SIZE["oracle"] + j), recon_filter="ramp", snr=snr, noise=noise)
                for j, (snr, noise) in enumerate(ORACLE_RAMP)]
    names = ["validation", "test"] if which == "all" else [which]
    return [spec(p, i) for p in names for i in range(PART_SIZE[p])]


def write_mrc(path, data, voxel_a):
    import mrcfile

    tmp = path + ".tmp"
    with mrcfile.new(tmp, overwrite=True) as m:
        m.set_data(data)
        m.voxel_size = voxel_a
    os.replace(tmp, path)


def simulate(p, shape=SHAPE_ZYX):
    """Tomogram `p` in memory: (reconstruction, occupancy labels, truth rows, templates). The
    draws follow one stream from the spec's seed, so the same spec with another SNR or noise
    gives the same sample, optics and misalignment (the noise is drawn last)."""
    rng = np.random.default_rng(p["seed"] + 7919)
    templates = density.templates(p, rng)
    contrast, labels, truth = sample.build(p, templates, shape, VOXEL_A, rng)
    return imaging.tilt_series_wbp(contrast, p, VOXEL_A, rng), labels, truth, templates


def make(p, out_dir, shape=SHAPE_ZYX):
    """Makes one tomogram folder (`shape` z, y, x voxels); skips it when its params.json
    (written last) exists and was written by this SUITE_VERSION."""
    d = os.path.join(out_dir, p["name"])
    done = os.path.join(d, "params.json")
    if os.path.exists(done):
        with open(done) as f:
            if json.load(f).get("suite_version") == SUITE_VERSION:
                return p["name"], 0.0
        os.remove(done)
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    rec, labels, truth, templates = simulate(p, shape)
    write_mrc(os.path.join(d, "reconstruction.mrc"), rec.astype(np.float32), VOXEL_A)
    write_mrc(os.path.join(d, "occupancy_mask.mrc"), labels.astype(np.float32), VOXEL_A)
    with open(os.path.join(d, "particle_locations.txt"), "w") as f:
        for t in truth:
            f.write("{} {:.3f} {:.3f} {:.3f} {:.2f} {:.2f} {:.2f}\n".format(t["class"], *t["xyz"], *t["zxz"]))
    with open(os.path.join(d, "classes.toml"), "w") as f:
        f.write("# Equivalent-sphere radii of the occupancy masks, A (foreign suite)\n[radius_a]\n")
        for c, t in sorted(templates.items()):
            f.write(f'"{c}" = {t["radius_a"]:.1f}\n')
    counts = {}
    for t in truth:
        counts[t["class"]] = counts.get(t["class"], 0) + 1
    meta = dict(p, suite_version=SUITE_VERSION, particles=len(truth), counts=counts, seconds=round(time.time() - t0, 1),
                occupancy_reached=float((labels > 0).mean()))
    with open(os.path.join(d, "params.json.tmp"), "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(os.path.join(d, "params.json.tmp"), os.path.join(d, "params.json"))
    return p["name"], time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--part", default="all", choices=["validation", "test", "oracle", "oracle_ramp", "subset", "all"])
    ap.add_argument("--only", nargs="*", default=None, help="tomogram names, e.g. val03")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--list", action="store_true", help="print the specs and exit")
    a = ap.parse_args()
    specs = [p for p in parts(a.part) if not a.only or p["name"] in a.only]
    if a.list:
        for p in specs:
            print(json.dumps(p))
        return
    os.makedirs(a.out, exist_ok=True)
    if a.jobs > 1:
        with ProcessPoolExecutor(a.jobs) as ex:
            for name, s in ex.map(make, specs, [a.out] * len(specs)):
                print(f"{name}: {s:.0f} s", flush=True)
    else:
        for p in specs:
            name, s = make(p, a.out)
            print(f"{name}: {s:.0f} s", flush=True)


if __name__ == "__main__":
    main()
