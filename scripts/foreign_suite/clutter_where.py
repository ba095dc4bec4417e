"""Where do the small classes' false alarms come from? (BENCHMARKS.md, "The same observer in the
tomogram's clutter".) For one tomogram with its noise-free counterpart (ideal_observer.py makes
it), the prewhitened matched filters of the small classes' particles (ideal_observer's filters)
are applied to 1,000 empty places; printed: the spread of their responses from the noisy
tomogram, from the noise-free one alone (clutter) and from the noise alone; the fraction of
empty places above robust z 3 by distance to the nearest large particle.

    python clutter_where.py SUITE NAME        # e.g. ~/.cache/tomopick/foreign_suite val03

Uses the suite's venv (numpy, scipy, mrcfile).
"""
import os
import sys

import mrcfile
import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ideal_observer as io  # noqa: E402

SMALL = {"1s3x", "3gl1", "3qm1", "3d2f", "2cg9", "3h84"}
LARGE = {"4v94", "4cr2", "5mrc", "1bxn", "1qvr", "3cf3"}


def main():
    suite, name = sys.argv[1], sys.argv[2]
    d = os.path.join(suite, name)
    noisy = mrcfile.read(os.path.join(d, "reconstruction.mrc")).astype(np.float64)
    labels = mrcfile.read(os.path.join(d, "occupancy_mask.mrc")).astype(np.int64)
    clean = io.noise_free(suite, name)
    a, b = np.polyfit(clean.ravel()[::7], noisy.ravel()[::7], 1)
    clean = a * clean + b
    noise = noisy - clean
    truth = [(t[0], *map(float, t[1:4])) for t in (line.split() for line in open(os.path.join(d, "particle_locations.txt")))]
    psd = io.noise_psd(noise, np.random.default_rng(0))
    floor = 1e-3 * psd.mean()
    filters = []
    for i, (c, x, y, z) in enumerate(truth):
        if c not in SMALL:
            continue
        cc = (int(round(z)), int(round(y)), int(round(x)))
        lab = io.box(labels, cc)
        own = lab == i + 1
        if not own.any():
            continue
        grown = ndimage.binary_dilation(own, iterations=2) & ((lab == 0) | own)
        ring = ndimage.binary_dilation(grown, iterations=3) & ~grown & (lab == 0)
        cb = io.box(clean, cc)
        base = np.median(cb[ring]) if ring.any() else 0.0
        s = np.where(grown, cb - base, 0.0)
        filters.append(np.real(np.fft.ifftn(np.fft.fftn(s) / (psd + floor))).ravel().astype(np.float32))
    f = np.stack(filters)
    centres = io.empty_centres(labels, np.random.default_rng(1), 1000)

    def responses(vol):
        return np.stack([io.box(vol, c).ravel().astype(np.float32) for c in centres]) @ f.T

    null, from_clean, from_noise = responses(noisy), responses(clean), responses(noise)
    med = np.median(null, 0)
    z = (null - med) / (1.4826 * np.median(np.abs(null - med), 0))
    print(f"{name}: {len(f)} small-class filters; SD of their responses at empty places (median over "
          f"filters): noisy {np.median(null.std(0)):.3g}, noise-free alone {np.median(from_clean.std(0)):.3g}, "
          f"noise alone {np.median(from_noise.std(0)):.3g}")
    large = np.zeros(labels.shape, bool)
    for i, (c, *_) in enumerate(truth):
        if c in LARGE:
            large |= labels == i + 1
    dist = ndimage.distance_transform_edt(~large)
    dist = np.array([dist[c] for c in centres])
    above = (z > 3).mean(1)
    for lo, hi in [(0, 5), (5, 8), (8, 12), (12, 1e9)]:
        sel = (dist >= lo) & (dist < hi)
        if sel.any():
            print(f"   empty places {lo}-{hi if hi < 1e9 else ''} voxels from a large particle: {sel.sum()}, "
                  f"fraction above z 3: {above[sel].mean():.4f}")


if __name__ == "__main__":
    main()
