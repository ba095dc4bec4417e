"""How large does each class look in two tomograms? (issue 19) Per class, the boxes (31³ voxels)
around the true centres that lie inside are averaged without alignment (random orientations: a
spherically blurred particle) after a Gaussian low-pass (sigma 1.5 voxels, so the CTF fringes do
not decide the width), and the radial profile of that average, background (radius 12-14) removed
and scaled to 1 at the centre, gives two widths: the radius where it falls to one half, and the
radius of gyration of its positive part inside radius 12. Both in voxels.

    python apparent_size.py A_FOLDER B_FOLDER [--profiles]   # SHREC layout: reconstruction.mrc, particle_locations.txt

`--profiles` also prints each class's scaled profile at radii 0-10 (A over B, row by row).

Uses the suite's venv (numpy, scipy, mrcfile). Use noise-free tomograms of the same geometry (for
example the suite's `val03` made with snr=1e12, and our own `own_like_val03.toml` at SNR 1e9).
"""
import collections
import sys

import mrcfile
import numpy as np
from scipy.ndimage import gaussian_filter

R = 15


def widths(folder):
    v = gaussian_filter(mrcfile.read(f"{folder}/reconstruction.mrc").astype(np.float64), 1.5)
    v = (v - v.mean()) / v.std()
    nz, ny, nx = v.shape
    boxes = collections.defaultdict(list)
    for line in open(f"{folder}/particle_locations.txt"):
        f = line.split()
        if len(f) < 4:
            continue
        x, y, z = (int(round(float(t))) for t in f[1:4])
        if min(x, y, z) >= R and x < nx - R and y < ny - R and z < nz - R:
            boxes[f[0]].append(v[z - R:z + R + 1, y - R:y + R + 1, x - R:x + R + 1])
    r = np.rint(np.sqrt(((np.indices((2 * R + 1,) * 3) - R) ** 2).sum(0))).astype(int).ravel()
    counts = np.bincount(r)
    out = {}
    for c, bs in boxes.items():
        prof = np.bincount(r, np.mean(bs, 0).ravel()) / counts
        bg = prof[12:15].mean()
        p = (prof - bg) / (prof[0] - bg)
        half = next((i - 1 + (p[i - 1] - 0.5) / (p[i - 1] - p[i]) for i in range(1, 15) if p[i] < 0.5), float(R))
        w = np.clip(p[:12], 0, None) * counts[:12]
        out[c] = (len(bs), half, float(np.sqrt((w * np.arange(12) ** 2).sum() / w.sum())), p[:11])
    return out


def main():
    a, b = widths(sys.argv[1]), widths(sys.argv[2])
    print("| class | particles A / B | half radius A / B | ratio | radius of gyration A / B | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for c in sorted(set(a) & set(b)):
        (na, ha, ga, _), (nb, hb, gb, _) = a[c], b[c]
        print(f"| {c} | {na} / {nb} | {ha:.2f} / {hb:.2f} | {ha / hb:.2f} | {ga:.2f} / {gb:.2f} | {ga / gb:.2f} |")
    if "--profiles" in sys.argv:
        print()
        print("| class | folder | " + " | ".join(f"r={i}" for i in range(11)) + " |")
        print("|---|---|" + "---:|" * 11)
        for c in sorted(set(a) & set(b)):
            for name, d in (("A", a), ("B", b)):
                print(f"| {c} | {name} | " + " | ".join(f"{v:.2f}" for v in d[c][3]) + " |")


if __name__ == "__main__":
    main()
