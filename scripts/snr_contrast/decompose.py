"""Where the two simulators' "SNR" parts ways (issue 19): one foreign-suite sample imaged with and
without noise, under its own reconstruction filter and under tomopick-sim's, measured the same
way as tomopick-sim's own tomograms.

    python scripts/snr_contrast/decompose.py --out DIR [--name val03] [--snr 0.2] [--set KEY=VALUE...]
    python scripts/snr_contrast/decompose.py --measure CLEAN_FOLDER NOISY_FOLDER

The first form builds the suite sample of tomogram NAME once (scripts/foreign_suite/), images it
noise-free (SNR 1e12) and at SNR with Gaussian noise (the same CTF and misalignment draws), under
the spec's own filter and under "cosine" (a ramp times cos(pi k / 2 k_max): tomopick-sim's WBP
filter), and prints for each: the particles' contrast (median over particles of the mean inside
the mask minus the mean over a shell 2-3 voxels out) over three spreads in those shells: the
noise alone (noisy minus clean), the noise-free tomogram's own clutter, and the noisy tomogram,
raw and low-passed by a Gaussian of 1.5 voxels; and the 0-degree projection's signal variance
split into what the particles and what the rest (ice, vesicles, gold) contribute. The second form
measures a pair of tomopick-sim folders (`tomopick simulate tomogram` at a huge SNR and at the
SNR, same seed) the same way.
"""

import argparse
import os
import sys

import mrcfile
import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "foreign_suite"))


def _shells(labels):
    inside_any = labels > 0
    shell = ndimage.binary_dilation(inside_any, iterations=3) & ~ndimage.binary_dilation(inside_any, iterations=1)
    owner = np.where(shell, ndimage.grey_dilation(labels, size=(7, 7, 7)), 0)
    return inside_any, shell, owner, np.unique(labels[inside_any])


def measure(clean, noisy, labels):
    """Rows of (smoothing, contrast, noise spread, clutter spread, noisy spread) for the pair."""
    inside_any, shell, owner, ids = _shells(labels)
    rows = []
    for sigma in (0.0, 1.5):
        c = ndimage.gaussian_filter(clean, sigma) if sigma else clean
        n = ndimage.gaussian_filter(noisy, sigma) if sigma else noisy
        contrast = np.asarray(ndimage.mean(c, labels, ids)) - np.asarray(ndimage.mean(c, owner, ids))
        rows.append((sigma, float(np.median(np.abs(contrast))) * np.sign(np.median(contrast)),
                     float((n - c)[shell].std()), float(c[shell].std()), float(n[shell].std())))
    return rows


def report(tag, rows):
    for sigma, con, noise, clutter, total in rows:
        lp = "low-passed" if sigma else "raw"
        print(f"{tag}\t{lp}\tcontrast/noise-only {con / noise:.3f}\tcontrast/clutter {con / clutter:.3f}"
              f"\tcontrast/noisy {con / total:.3f}\tnoise/clutter {noise / clutter:.2f}")


def read(folder):
    return mrcfile.read(os.path.join(folder, "reconstruction.mrc")).astype(np.float64)


def suite(out, name, snr, overrides=()):
    import imaging
    import make_suite
    import density
    import sample

    part = {"val": "validation", "tes": "test"}[name[:3]]
    p = make_suite.spec(part, int(name[3:]))
    for kv in overrides:
        k, v = kv.split("=", 1)
        p[k] = type(p[k])(v) if not isinstance(p[k], bool) else v.lower() in ("1", "true")
    rng = np.random.default_rng(p["seed"] + 7919)
    templates = density.templates(p, rng)
    contrast, labels, _ = sample.build(p, templates, make_suite.SHAPE_ZYX, make_suite.VOXEL_A, rng)
    labels = labels.astype(np.int64)
    # The 0-degree signal variance: the whole sample, and the particles alone (the rest set to 0).
    nz, ny, nx = contrast.shape
    ky, kx = imaging._freqs(ny, nx, make_suite.VOXEL_A)
    ctf = imaging._ctf(p, ky, kx, np.random.default_rng(1), 0.0) * imaging._mtf(ky, kx, make_suite.VOXEL_A)

    def var0(vol):
        proj, _ = imaging._project(vol, 0.0, nx)
        return float(np.real(np.fft.ifft2(np.fft.fft2(imaging.SIGMA_E * make_suite.VOXEL_A * proj) * ctf)).var() * 4)

    v_all = var0(contrast)
    v_part = var0(np.where(labels > 0, contrast, 0.0))
    print(f"{name}: 0-degree signal variance, whole sample {v_all:.3e}, particles alone {v_part:.3e}"
          f" ({100 * v_part / v_all:.0f} %); particles {len(np.unique(labels)) - 1}")
    for filt in (p["recon_filter"], "cosine"):
        recs = {}
        for s in (1e12, snr):
            q = dict(p, snr=s, noise="gaussian", recon_filter=filt)
            recs[s] = imaging.tilt_series_wbp(contrast, q, make_suite.VOXEL_A, np.random.default_rng(12345)).astype(np.float64)
            d = os.path.join(out, f"{name}_{filt}_snr{s:g}")
            os.makedirs(d, exist_ok=True)
            for fname, data in (("reconstruction.mrc", recs[s]), ("occupancy_mask.mrc", labels)):
                with mrcfile.new(os.path.join(d, fname), overwrite=True) as m:
                    m.set_data(data.astype(np.float32))
                    m.voxel_size = make_suite.VOXEL_A
        report(f"suite {name} {' '.join(overrides)} {filt} SNR {snr:g}", measure(recs[1e12], recs[snr], labels))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--name", default="val03")
    ap.add_argument("--snr", type=float, default=0.2)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override spec fields")
    ap.add_argument("--measure", nargs=2, metavar=("CLEAN", "NOISY"))
    a = ap.parse_args()
    if a.measure:
        labels = mrcfile.read(os.path.join(a.measure[0], "occupancy_mask.mrc")).astype(np.int64)
        report(f"tomopick-sim {os.path.basename(a.measure[1].rstrip('/'))}", measure(read(a.measure[0]), read(a.measure[1]), labels))
    else:
        suite(a.out, a.name, a.snr, a.set)


if __name__ == "__main__":
    main()
