"""How well could any detector do on a suite tomogram? An ideal observer's bound (issue 19).

For each particle, the ideal observer knows its exact noise-free appearance (shape, orientation,
CTF, missing wedge: the suite's own noise-free tomogram, remade with the same draws and no noise)
and where it might be; it sees the tomogram's real noise (the noisy tomogram minus the noise-free
one: coloured by the reconstruction filter, Poisson where the spec says so). Its best statistic
for "this particle is here" is the prewhitened matched filter F = S / P, with S the particle's
noise-free signal (inside its mask grown by 2 voxels, other particles' masks cut out, the local
solvent level subtracted) in a 32^3 box and P the noise's power spectrum in such boxes (averaged
periodograms). Its separation d' is measured: the filter's response to the noise-free box around
the particle over the standard deviation of its responses to 200 boxes of the noise alone. Not
knowing the class, orientation or position, and the clutter of neighbours and vesicle edges at
empty places, only make detection harder, so this is an upper bound.

From the d' of every particle: the fraction with d' >= 3 and >= 5, and the best F1 an observer
with those d' reaches when it must also reject the tomogram's empty positions (M independent
ones: free voxels over the mean particle volume; at threshold t it finds sum Phi(d'_i - t)
particles and M (1 - Phi(t)) false ones).

A second, tighter reference that is not a bound: the same filter as a known-template detector in
the real tomogram, "in clutter". Each particle's filter is applied to the noisy box at the
particle and to 1,000 noisy boxes at empty places (at least 3 voxels from any particle), both as
robust z-scores of the empty places' responses; its F1 counts the particles above a threshold
and M times the fraction of empty places above it. Neighbours' edges, vesicles, gold and the
reconstruction's slow swells now count against it, as they count against a detector; a
non-linear detector can learn to reject some of them (a gold bead is not a protein), so it can
beat this figure, but not the first. With `--picks NAME` (a run folder in each tomogram's
folder holding picks.csv, positions in Å) it also prints that run's recall per d' bin: how much of
what an ideal observer sees the detector finds.

    python ideal_observer.py SUITE [--tomos val00 ...] [--picks defaults adapted ...]

Also reads tomopick-sim's own tomogram folders (`tomopick simulate tomogram` writes the
noise-free reconstruction of the same draws beside the noisy one): `--tomos` names them in SUITE.

Uses the suite's venv (numpy, scipy, mrcfile). Noise-free tomograms are made once and kept
(SUITE/NAME/noise_free.mrc, about 30 s each).
"""
import argparse
import csv
import json
import math
import os
import sys

import mrcfile
import numpy as np
from scipy import ndimage
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from score_picks import validation_tomograms  # noqa: E402

BOX = 32
BINS = [0, 1, 2, 3, 4, 5, 7, 10, math.inf]


def noise_free(suite, name):
    """The tomogram NAME remade with the same draws and no noise (cached beside it)."""
    d = os.path.join(suite, name)
    out = os.path.join(d, "noise_free.mrc")
    if not os.path.exists(out):
        import make_suite

        p = json.load(open(os.path.join(d, "params.json")))
        rec = make_suite.simulate(dict(p, snr=1e12, noise="gaussian"))[0]
        make_suite.write_mrc(out, rec.astype(np.float32), make_suite.VOXEL_A)
    return mrcfile.read(out).astype(np.float64)


def params(d):
    """A suite tomogram's params.json, or for one of tomopick-sim's folders (reconstruction.mrc,
    noise_free.mrc, occupancy_mask.mrc, particle_locations.txt) its config's SNR (0: set by
    the dose)."""
    path = os.path.join(d, "params.json")
    if os.path.exists(path):
        return json.load(open(path))
    import tomllib

    cfg = tomllib.load(open(os.path.join(d, "config.toml"), "rb"))
    snr = cfg.get("imaging", {}).get("snr", 0.0)
    return {"snr": snr.get("fixed", 0.0) if isinstance(snr, dict) else snr}


def box(vol, c):
    """The BOX^3 box of `vol` centred on voxel c (z, y, x), zero-padded at the edges."""
    out = np.zeros((BOX,) * 3)
    lo = [ci - BOX // 2 for ci in c]
    src = tuple(slice(max(0, l), min(n, l + BOX)) for l, n in zip(lo, vol.shape))
    dst = tuple(slice(s.start - l, s.stop - l) for s, l in zip(src, lo))
    out[dst] = vol[src]
    return out


def noise_psd(noise, rng, n=300):
    """Mean periodogram of BOX^3 boxes of the noise volume."""
    acc = np.zeros((BOX,) * 3)
    for _ in range(n):
        c = [int(rng.integers(BOX // 2, s - BOX // 2)) for s in noise.shape]
        acc += np.abs(np.fft.fftn(box(noise, c))) ** 2
    return acc / n


def dprimes(clean, noise, noisy, labels, truth, psd, rng, n_noise=200, n_empty=1000):
    """d' of every particle (truth rows: class, x, y, z in voxels; mask value = row + 1): its
    prewhitened matched filter's response to the noise-free box around it (the particle with
    whatever lies near it, as in the data) over the spread of that filter's response to boxes of
    the noise alone at random places (measured, not modelled, so the filter's cut-outs and the
    noise's edges cannot inflate it). Returned for the full template and its spherical average
    ("orientation unknown"), each with the same filter's robust z-scores in the real tomogram
    (`clutter_scores`)."""
    noise_boxes = np.stack([box(noise, [int(rng.integers(BOX // 2, n - BOX // 2)) for n in noise.shape]).ravel()
                            for _ in range(n_noise)])
    floor = 1e-3 * psd.mean()
    dp, filters, at = [], ([], []), []
    for i, (_, x, y, z) in enumerate(truth):
        c = (int(round(z)), int(round(y)), int(round(x)))
        lab = box(labels, c)
        own = lab == i + 1
        if not own.any():
            dp.append([0.0, 0.0])
            for fs in filters:
                fs.append(np.zeros(BOX ** 3, np.float32))
            at.append(np.zeros(BOX ** 3, np.float32))
            continue
        grown = ndimage.binary_dilation(own, iterations=2) & ((lab == 0) | own)
        ring = ndimage.binary_dilation(grown, iterations=3) & ~grown & (lab == 0)
        cb = box(clean, c)
        base = np.median(cb[ring]) if ring.any() else 0.0
        s = np.where(grown, cb - base, 0.0)
        row = []
        for t, fs in zip((s, spherical(s)), filters):
            f = np.real(np.fft.ifftn(np.fft.fftn(t) / (psd + floor))).ravel()
            row.append(float(f @ cb.ravel() / (noise_boxes @ f).std()))
            fs.append(f.astype(np.float32))
        dp.append(row)
        at.append(box(noisy, c).ravel().astype(np.float32))
    dp = np.array(dp)
    empty = np.stack([box(noisy, c).ravel().astype(np.float32) for c in empty_centres(labels, rng, n_empty)])
    at = np.stack(at)
    clutter = [clutter_scores(np.stack(fs), at, empty) for fs in filters]
    return dp[:, 0], dp[:, 1], clutter[0], clutter[1]


def clutter_scores(filters, at, empty):
    """A known-template observer in the real tomogram: each particle's filter applied to the
    noisy box at the particle and to the noisy tomogram's empty places (`empty_centres`: noise,
    neighbours' edges, vesicles, gold, the reconstruction's slow swells, everything a detector's
    false picks come from), both as robust z-scores of those empty places' responses (median,
    1.4826 MAD). Returns the particles' z and the empty places' z (empty places x particles).
    Not a bound on a non-linear detector (one can learn that a gold bead is not a protein), but
    what the best linear filter for each particle would score in the data as it is."""
    null = empty @ filters.T                                  # empty places x particles
    med = np.median(null, axis=0)
    sd = 1.4826 * np.median(np.abs(null - med), axis=0) + 1e-30
    z = (np.einsum("ij,ij->i", filters, at) - med) / sd
    return z, (null - med) / sd


def best_f1_empirical(z, null_z, m):
    """Best F1 when the particles score z and the m empty positions score like null_z."""
    null_sorted = np.sort(np.ravel(null_z))
    best = 0.0
    for t in np.arange(-2.0, 30.0, 0.05):
        tp = float((z >= t).sum())
        fp = m * (len(null_sorted) - np.searchsorted(null_sorted, t)) / len(null_sorted)
        best = max(best, 2 * tp / (2 * tp + fp + (len(z) - tp)))
    return best


def empty_centres(labels, rng, n, clearance=3.0):
    """n random voxels (z, y, x) at least `clearance` voxels from every particle and half a box
    from the edges: the places a detector must reject."""
    far = ndimage.distance_transform_edt(labels == 0) >= clearance
    inner = np.zeros_like(far)
    inner[tuple(slice(BOX // 2, s - BOX // 2) for s in far.shape)] = True
    idx = np.flatnonzero(far & inner)
    return [np.unravel_index(i, far.shape) for i in rng.choice(idx, size=n, replace=False)]


R_VOX = np.sqrt(sum(a ** 2 for a in np.meshgrid(*[np.arange(BOX) - BOX // 2] * 3, indexing="ij")))
R_BIN = np.round(R_VOX * 2).astype(int)


def spherical(s):
    """`s` averaged over every rotation about the box centre (its radial profile, 0.5-voxel
    shells): the template of an observer that knows the particle's class and place but not its
    orientation or the missing wedge's shape on it."""
    prof = np.bincount(R_BIN.ravel(), s.ravel()) / np.maximum(np.bincount(R_BIN.ravel()), 1)
    return prof[R_BIN]


def best_f1(d, m):
    """Best F1 over thresholds for particles of separations d among m empty positions."""
    best = (0.0, 0.0)
    for t in np.arange(0.0, 8.0, 0.05):
        tp = norm.cdf(d - t).sum()
        fp = m * norm.sf(t)
        f1 = 2 * tp / (2 * tp + fp + (len(d) - tp))
        best = max(best, (f1, t))
    return best


def by_bins(got, d):
    """Recall/count per d' bin."""
    out = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        sel = (d >= lo) & (d < hi)
        out.append(f"{got[sel].mean():.2f}/{sel.sum()}" if sel.any() else "-")
    return out


def found(picks_csv, labels):
    """Mask values (particle numbers) that the picks land in (positions in Å, 10 Å voxels), the
    mask grown by one voxel as the SHREC rule (`tomopick evaluate`) does."""
    labels = ndimage.grey_dilation(labels, footprint=ndimage.generate_binary_structure(3, 1))
    hit = set()
    with open(picks_csv) as f:
        for r in csv.DictReader(f):
            z, y, x = (int(round(float(r[k]) / 10.0)) for k in ("z", "y", "x"))
            if all(0 <= a < n for a, n in zip((z, y, x), labels.shape)):
                v = int(labels[z, y, x])
                if v:
                    hit.add(v)
    return hit


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--tomos", nargs="*", default=None, help="folders in SUITE (default: val*)")
    ap.add_argument("--picks", nargs="*", default=[], help="run folders in each tomogram's folder to compare")
    a = ap.parse_args()
    names = a.tomos or validation_tomograms(a.suite)
    rows = []
    for name in names:
        d = os.path.join(a.suite, name)
        p = params(d)
        noisy = mrcfile.read(os.path.join(d, "reconstruction.mrc")).astype(np.float64)
        labels = mrcfile.read(os.path.join(d, "occupancy_mask.mrc")).astype(np.int64)
        clean = noise_free(a.suite, name)
        # tomopick-sim writes its noise-free reconstruction on its own scale: the noisy one is
        # a x clean + b + noise, a and b fitted (the suite's: a = 1, b = 0).
        a_, b_ = np.polyfit(clean.ravel()[::7], noisy.ravel()[::7], 1)
        clean = a_ * clean + b_
        noise = noisy - clean
        truth = [(t[0], *map(float, t[1:4])) for t in (line.split() for line in open(os.path.join(d, "particle_locations.txt")))]
        psd = noise_psd(noise, np.random.default_rng(0))
        dp, dp_iso, (zc, null_c), (zc_iso, null_c_iso) = dprimes(clean, noise, noisy, labels, truth, psd,
                                                                  np.random.default_rng(1))
        occupied = labels > 0
        m = int((~occupied).sum() / (occupied.sum() / len(truth)))
        f1, t = best_f1(dp, m)
        f1_iso, _ = best_f1(dp_iso, m)
        row = {"name": name, "snr": p["snr"], "n": len(dp), "median_dprime": float(np.median(dp)),
               "frac_d3": float((dp >= 3).mean()), "frac_d5": float((dp >= 5).mean()), "ideal_f1": f1,
               "median_dprime_iso": float(np.median(dp_iso)), "ideal_f1_iso": f1_iso,
               "median_z_clutter": float(np.median(zc)), "f1_clutter": best_f1_empirical(zc, null_c, m),
               "median_z_iso_clutter": float(np.median(zc_iso)), "f1_iso_clutter": best_f1_empirical(zc_iso, null_c_iso, m),
               "noise_clean_corr": float(np.corrcoef(noise.ravel()[::97], clean.ravel()[::97])[0, 1])}
        classes = sorted({t[0] for t in truth})
        row["median_dprime_per_class"] = {c: float(np.median([x for x, t in zip(dp, truth) if t[0] == c])) for c in classes}
        row["median_dprime_iso_per_class"] = {c: float(np.median([x for x, t in zip(dp_iso, truth) if t[0] == c])) for c in classes}
        # Each class alone against the empty places: an upper bound on its per-class F1 (naming
        # it among the other classes only costs more).
        row["ideal_f1_per_class"] = {c: best_f1(np.array([x for x, t in zip(dp, truth) if t[0] == c]), m)[0] for c in classes}
        row["f1_clutter_per_class"] = {c: best_f1_empirical(zc[idx], null_c[:, idx], m) for c in classes
                                       for idx in [np.array([t[0] == c for t in truth])]}
        row["dprime"] = [[t[0], float(x), float(y), float(u), float(v)] for t, x, y, u, v in zip(truth, dp, dp_iso, zc, zc_iso)]
        for run in a.picks:
            path = os.path.join(d, run, "picks.csv")
            if not os.path.exists(path):
                continue
            hit = found(path, labels)
            got = np.array([(i + 1) in hit for i in range(len(dp))])
            per_bin = by_bins(got, dp)
            row[f"recall_{run}"] = float(got.mean())
            row[f"recall_by_dprime_{run}"] = per_bin
            row[f"recall_by_dprime_iso_{run}"] = by_bins(got, dp_iso)
        rows.append(row)
        print(f"{name} SNR {p['snr']:g}: {len(dp)} particles, median d' {row['median_dprime']:.1f}, "
              f"d'>=3 {row['frac_d3']:.2f}, d'>=5 {row['frac_d5']:.2f}, ideal F1 {f1:.3f} (t {t:.2f}, M {m}); "
              f"orientation unknown: median d' {row['median_dprime_iso']:.1f}, F1 {f1_iso:.3f}; "
              f"noise-clean corr {row['noise_clean_corr']:+.3f}", flush=True)
        print(f"   known template in the real tomogram (clutter): median z {row['median_z_clutter']:.1f}, F1 "
              f"{row['f1_clutter']:.3f}; orientation unknown: median z {row['median_z_iso_clutter']:.1f}, F1 "
              f"{row['f1_iso_clutter']:.3f}")
        print("   ideal F1 per class (alone): " + " ".join(f"{c} {v:.2f}" for c, v in row["ideal_f1_per_class"].items()))
        print("   known template in clutter, per class (alone): " + " ".join(
            f"{c} {v:.2f}" for c, v in row["f1_clutter_per_class"].items()))
        print("   median d' per class (orientation unknown): " + " ".join(
            f"{c} {v:.1f} ({row['median_dprime_iso_per_class'][c]:.1f})" for c, v in row["median_dprime_per_class"].items()))
        for run in a.picks:
            if f"recall_{run}" in row:
                print(f"   {run}: recall {row[f'recall_{run}']:.2f}; by d' bin {BINS[:-1]}: {' '.join(row[f'recall_by_dprime_{run}'])}"
                      f"; orientation unknown: {' '.join(row[f'recall_by_dprime_iso_{run}'])}")
    # One file per part prefix; the rows of tomograms not measured this time are kept.
    out = os.path.join(a.suite, f"ideal_observer_{names[0][:3]}.json")
    kept = []
    if os.path.exists(out):
        done = {r["name"] for r in rows}
        kept = [r for r in json.load(open(out)) if r["name"] not in done]
    with open(out + ".tmp", "w") as f:
        json.dump(sorted(kept + rows, key=lambda r: r["name"]), f, indent=1)
    os.replace(out + ".tmp", out)
    print(f"mean ideal F1 {np.mean([r['ideal_f1'] for r in rows]):.3f}; SNR >= 0.2: "
          f"{np.mean([r['ideal_f1'] for r in rows if r['snr'] >= 0.2]):.3f}; written {out}")


if __name__ == "__main__":
    main()
