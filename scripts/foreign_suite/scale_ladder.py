"""Does the detector see another simulator's particles at the wrong size? (issue 19)

Each tomogram is picked at threshold 0.02 as if its voxels were VS Å (`pick --voxel-size VS`:
`tomopick` resamples it to the model's 10 Å, so VS < 10 shrinks the particles by VS/10 and
VS > 10 enlarges them), optionally after a filter at its own size (`--filter gauss:SIGMA_VOX` or
`--filter cutoff:FRACTION_OF_NYQUIST`, a soft-edged spherical low-pass, or `--filter
highpass:SIGMA_VOX,ALPHA`, the tomogram minus ALPHA times its Gaussian blur, `--filter
match:REF.mrc`, its radially averaged power spectrum matched to a reference tomogram's, or
`--filter window:hann|cosine|gaussS`, a reconstruction filter's window applied across the tilt
axis, or `--filter deconv:STRENGTH`, tom_deconv's Wiener filter for the tomogram's CTF, its
defocus and phase flipping read from its params.json as a user would give them) to tell size from
smoothing or from the dark ring a stronger high-pass leaves around particles; the picks are mapped back to the tomogram's frame and scored (SHREC rule, `tomopick
evaluate`) at a ladder of common thresholds. Prints, per setting, the mean F1 per threshold, the
best common threshold's F1 and macro F1, and the per-tomogram best (an oracle).

    python scale_ladder.py SUITE_DIR [--tomos val00 val01 ...] [--filter gauss:0.7] VS [VS ...]

`--fuse W` with two sizes also scores their union (test-time augmentation over scales): greedy by
score, one pick per 40 Å, the second size's scores times W, the class from the first size's pick
where one lies within 40 Å.

Uses the suite's venv (numpy, scipy, mrcfile); TOMOPICK_BIN names the binary. Results go under
each tomogram's folder (`ladder_<setting>/`); a setting already picked is not picked again.
"""
import argparse
import csv
import json
import os
import subprocess

import mrcfile
import numpy as np
from scipy.ndimage import gaussian_filter

from score_picks import score_picks, validation_tomograms

B = os.environ.get("TOMOPICK_BIN", os.path.expanduser("~/.cache/tomopick/target/release/tomopick"))
LADDER = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9]


def setting_name(spec):
    """A filter spec as a file-name part (a reference tomogram by its folder's name)."""
    if spec.startswith("match:"):
        return "match_" + os.path.basename(os.path.dirname(os.path.abspath(spec[6:])))
    return spec.replace(":", "_").replace(",", "_")


def nyquist_fraction(shape):
    """|k| of every coefficient of an rfftn of a `shape` (z, y, x) volume, 1 at Nyquist."""
    axes = [np.fft.fftfreq(n) for n in shape[:2]] + [np.fft.rfftfreq(shape[2])]
    return 2 * np.sqrt(sum(a ** 2 for a in np.meshgrid(*axes, indexing="ij")))


def radial_power(v, nbins=64):
    """Mean power of `v`'s spectrum in shells of |k| (k as a fraction of Nyquist, 0-sqrt(3))."""
    k = nyquist_fraction(v.shape)
    idx = np.minimum((k / np.sqrt(3) * nbins).astype(int), nbins - 1)
    p = np.abs(np.fft.rfftn(v - v.mean())) ** 2
    return np.bincount(idx.ravel(), p.ravel(), nbins) / np.maximum(np.bincount(idx.ravel(), None, nbins), 1), idx


def xz_window(v, name, strength=1.0):
    """`v` (z, y, x) times a reconstruction filter's window on |k| in the x-z plane: by the
    central-slice theorem what that window on every projection's rows does to a weighted
    back-projection about y, so a ramp-filtered tomogram becomes a Hann- or cosine-filtered one.
    `name`: hann, cosine or gauss<S> (a Gaussian of S voxels across the tilt axis only)."""
    kz = np.fft.fftfreq(v.shape[0])[:, None, None]
    kx = np.fft.rfftfreq(v.shape[2])[None, None, :]
    r = np.minimum(np.sqrt(kz ** 2 + kx ** 2) / 0.5, 1.0)
    if name == "hann":
        w = 0.5 * (1 + np.cos(np.pi * r))
    elif name == "cosine":
        w = np.cos(np.pi * r / 2)
    elif name.startswith("gauss"):
        w = np.exp(-2 * (np.pi * float(name[5:]) * r * 0.5) ** 2)
    else:
        raise SystemExit(f"--filter window:{name}: want hann, cosine or gaussS")
    return np.fft.irfftn(np.fft.rfftn(v) * w, v.shape, axes=(0, 1, 2))


def deconvolve(v, defocus_um, phase_flipped, strength=1.0, falloff=1.0, highpass_nyquist=0.02, vox=10.0,
               amplitude=0.07):
    """tom_deconv (Tegunov; IsoNet's `deconv`): a Wiener filter for a CTF of this defocus (300 kV,
    Cs 2.7 mm) with an SNR that falls exponentially with frequency and a cosine high-pass at
    `highpass_nyquist`; the CTF's first lobe taken as positive, so the particles keep their
    sign; |CTF| for phase-flipped tomograms."""
    k = np.minimum(nyquist_fraction(v.shape), 1.0)
    k_a = k * 0.5 / vox
    lam, cs = 0.019687, 2.7e7
    chi = np.pi * lam * defocus_um * 1e4 * k_a ** 2 - 0.5 * np.pi * cs * lam ** 3 * k_a ** 4
    ctf = np.sin(chi + np.arctan(amplitude / np.sqrt(1 - amplitude ** 2)))
    if phase_flipped:
        ctf = np.abs(ctf)
    hp = 1 - np.cos(np.minimum(1.0, k / highpass_nyquist) * np.pi)
    snr = np.exp(-k * falloff * 100 / vox) * 10 ** (3 * strength) * hp
    w = ctf * snr / (ctf * ctf * snr + 1)
    return np.fft.irfftn(np.fft.rfftn(v) * w, v.shape, axes=(0, 1, 2))


def match_spectrum(v, ref):
    """`v` filtered so that its radially averaged power spectrum, relative to its variance, is the
    reference tomogram's (no labels: signal and noise together, as a user's tomogram gives it)."""
    pv, idx = radial_power(v)
    pr, _ = radial_power(ref)
    gain = np.sqrt((pr / max(pr.sum(), 1e-30)) / np.maximum(pv / max(pv.sum(), 1e-30), 1e-30))
    return np.fft.irfftn(np.fft.rfftn(v - v.mean()) * gain[idx], v.shape, axes=(0, 1, 2))


def filtered(d, spec):
    """The tomogram of folder `d`, filtered as `spec` says (written once beside it)."""
    if not spec:
        return f"{d}/reconstruction.mrc"
    out = f"{d}/filtered_{setting_name(spec)}.mrc"
    if os.path.exists(out):
        return out
    kind, value = spec.split(":", 1)
    v = mrcfile.read(f"{d}/reconstruction.mrc").astype(np.float32)
    if kind == "gauss":
        v = gaussian_filter(v, float(value))
    elif kind == "cutoff":
        k = nyquist_fraction(v.shape)
        w = np.clip((float(value) + 0.05 - k) / 0.1, 0, 1)
        v = np.fft.irfftn(np.fft.rfftn(v) * w, v.shape, axes=(0, 1, 2))
    elif kind == "highpass":
        sigma, alpha = (float(t) for t in value.split(","))
        v = v - alpha * gaussian_filter(v, sigma)
    elif kind == "window":
        v = xz_window(v, value)
    elif kind == "match":
        v = match_spectrum(v, mrcfile.read(value).astype(np.float32))
    elif kind == "deconv":
        p = json.load(open(f"{d}/params.json"))
        v = deconvolve(v, p["defocus_um"], p["phase_flip"], strength=float(value))
    else:
        raise SystemExit(f"--filter {spec}: want gauss:SIGMA, cutoff:FRACTION, highpass:SIGMA,ALPHA, window:NAME, "
                         "match:REF.mrc or deconv:STRENGTH")
    with mrcfile.new(out + ".tmp", overwrite=True) as m:
        m.set_data(v.astype(np.float32))
        m.voxel_size = 10.0
    os.replace(out + ".tmp", out)
    return out


def fuse(a, b, weight, radius=40.0):
    """`a` and `b` (class, x, y, z, score) as one list, as the module's doc says."""
    allp = sorted([(r, 0) for r in a] + [((*r[:4], r[4] * weight), 1) for r in b], key=lambda t: -t[0][4])
    pos = np.array([r[1:4] for r, _ in allp]).reshape(-1, 3)
    used = np.zeros(len(allp), bool)
    out = []
    for i, (r, src) in enumerate(allp):
        if used[i]:
            continue
        near = np.where(~used & (np.linalg.norm(pos - pos[i], axis=1) < radius))[0]
        used[near] = True
        first = [j for j in near if allp[j][1] == 0]
        out.append((allp[first[0]][0][0] if src == 1 and first else r[0], *r[1:]))
    return out


def score_ladder(d, raw, out, back=1.0):
    """The picks in `raw` (a pick at 0.02 of suite folder `d`, positions times `back` into the
    tomogram's frame) scored at each threshold of LADDER under `out`/t<threshold>: a list of
    (F1, macro F1), and the rows (class, x, y, z, score)."""
    rows = [(r["class"], *(float(r[k]) * back for k in "xyz"), float(r["score"]))
            for r in csv.DictReader(open(raw))]
    return [score_picks(B, d, [r for r in rows if r[4] >= th], f"{out}/t{th}") for th in LADDER], rows


def report(setting, res, tomos):
    means = [sum(res[t][i][0] for t in tomos) / len(tomos) for i in range(len(LADDER))]
    best = means.index(max(means))
    macro = sum(res[t][best][1] for t in tomos) / len(tomos)
    oracle = sum(max(f for f, _ in res[t]) for t in tomos) / len(tomos)
    print(f"{setting}: F1 at " + " ".join(f"{th}:{m:.3f}" for th, m in zip(LADDER, means)) +
          f" | best common {means[best]:.3f} (macro {macro:.3f}) | per-tomogram best {oracle:.3f}")
    print("   per tomogram best: " + " ".join(f"{t}:{max(f for f, _ in res[t]):.2f}" for t in tomos))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("sizes", nargs="+", help="voxel sizes to claim, Å (10: as it is)")
    ap.add_argument("--tomos", nargs="*", default=None, help="folders in SUITE (default: val*)")
    ap.add_argument("--filter", default="")
    ap.add_argument("--model", default=None, help="a detector model file (default: the embedded one)")
    ap.add_argument("--pick-args", default="", help="more `tomopick pick` arguments, e.g. '--adapt-bn 1' (named in the setting)")
    ap.add_argument("--fuse", type=float, default=None, help="with two sizes: also their union, the second's scores times W")
    a = ap.parse_args()
    tomos = a.tomos or validation_tomograms(a.suite)
    picked = {}
    for vs in a.sizes:
        setting = f"vs{vs}" + (f"_{setting_name(a.filter)}" if a.filter else "") + \
            (f"_{os.path.basename(os.path.dirname(os.path.abspath(a.model)))}" if a.model else "") + \
            ("_" + a.pick_args.replace("--", "").replace(" ", "_") if a.pick_args else "")
        res = {}
        for t in tomos:
            d = f"{a.suite}/{t}"
            o = f"{d}/ladder_{setting}"
            os.makedirs(o, exist_ok=True)
            raw = f"{o}/raw.csv"
            # Picked again when the model file is newer than the cached picks (a run folder
            # exported again at a later step keeps its name).
            stale = a.model and os.path.exists(raw) and os.path.getmtime(a.model) > os.path.getmtime(raw)
            if not os.path.exists(raw) or stale:
                model = ["--model", a.model] if a.model else []
                subprocess.run([B, "-q", "pick", filtered(d, a.filter), "--voxel-size", vs, "--threshold", "0.02",
                                "-o", raw] + model + a.pick_args.split(), check=True, stdout=subprocess.DEVNULL)
            res[t], rows = score_ladder(d, raw, o, back=10.0 / float(vs))
            picked.setdefault(t, []).append(rows)
        report(setting, res, tomos)
    if a.fuse is not None and len(a.sizes) == 2:
        setting = f"fused_{a.sizes[0]}_{a.sizes[1]}_w{a.fuse}" + \
            (f"_{os.path.basename(os.path.dirname(os.path.abspath(a.model)))}" if a.model else "")
        res = {}
        for t in tomos:
            d = f"{a.suite}/{t}"
            both = fuse(*picked[t], a.fuse)
            res[t] = [score_picks(B, d, [r for r in both if r[4] >= th], f"{d}/ladder_{setting}/t{th}") for th in LADDER]
        report(setting, res, tomos)


if __name__ == "__main__":
    main()
