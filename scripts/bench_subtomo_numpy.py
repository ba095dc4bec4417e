#!/usr/bin/env python3
"""The same subtomogram steps as tomopick-sim, in numpy + scipy, for the speed comparison in
BENCHMARKS.md. Not a reference for correctness: a fair, vectorised baseline.

Per subtomogram: uniform random rotation (scipy), trilinear placement of a 10 Å class potential
into a 40³ box (scipy.ndimage.affine_transform, order 1), mask, 3D CTF × MTF × wedge filter
(radial, on the rfft grid), Gaussian noise at an exact SNR through MTF × wedge, inverse FFT.

    python3 scripts/bench_subtomo_numpy.py [N] [potential.mrc]

The potential comes from `tomopick simulate` helpers written as MRC; without one, a 3qm1-sized
Gaussian blob stands in (the cost does not depend on the content).
"""
import sys
import time

import numpy as np
from scipy.ndimage import affine_transform
from scipy.spatial.transform import Rotation

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
B, VS = 40, 10.0
rng = np.random.default_rng(0)

if len(sys.argv) > 2:
    import mrcfile

    template = mrcfile.open(sys.argv[2]).data.astype(np.float32)
else:
    z, y, x = np.mgrid[0:24, 0:24, 0:24] - 12.0
    template = np.exp(-(x * x + y * y + z * z) / 18.0).astype(np.float32) * 3.4

kz = np.fft.fftfreq(B, VS)[:, None, None]
ky = np.fft.fftfreq(B, VS)[None, :, None]
kx = np.fft.rfftfreq(B, VS)[None, None, :]
k = np.sqrt(kx**2 + ky**2 + kz**2)
lam = 12.2642599 / np.sqrt(300e3 * (1 + 0.9784757e-6 * 300e3))


def one():
    rot = Rotation.random(random_state=rng).as_matrix()
    c_out, c_t = np.full(3, B / 2), np.array(template.shape) / 2
    shift = rng.uniform(-2, 2, 3)
    m = rot.T  # output -> template, in z, y, x order the same matrix up to axis reversal
    off = c_t - m @ (c_out + shift)
    placed = affine_transform(template, m, offset=off, output_shape=(B, B, B), order=1)
    mask = placed > 1.0
    dz = rng.uniform(0, 12e4)
    cs = rng.uniform(1.5, 3.0) * 1e7
    amp = rng.uniform(0.05, 0.1)
    bfac = rng.uniform(0, 400)
    tilt = np.deg2rad(rng.uniform(40, 90))
    snr = np.exp(rng.uniform(np.log(0.03), np.log(10)))
    chi = np.pi * lam * dz * k**2 - 0.5 * np.pi * cs * lam**3 * k**4 + np.arctan(amp / np.sqrt(1 - amp**2))
    mtf = np.sinc(k * VS)  # sinc(pi w / 2) with w = 2 k VS
    wedge = np.abs(kz) <= np.abs(kx) * np.tan(tilt) + 1e-12
    hs = -np.sin(chi) * np.exp(-bfac * k**2 / 4) * mtf * wedge
    hn = mtf * wedge
    spec = np.fft.rfftn(placed) * hs
    clean = np.fft.irfftn(spec, s=(B, B, B), axes=(0, 1, 2))
    w = np.full(hn.shape[-1], 2.0)
    w[0] = 1
    w[-1] = 1
    mean_h2 = (hn**2 * w).sum() / B**3
    sigma = np.sqrt(clean.var() / (snr * mean_h2))
    noise = np.fft.rfftn(rng.normal(0, sigma, (B, B, B)).astype(np.float32)) * hn
    return np.fft.irfftn(spec + noise, s=(B, B, B), axes=(0, 1, 2)).astype(np.float32), mask


one()
t = time.perf_counter()
for _ in range(N):
    one()
s = time.perf_counter() - t
print(f"numpy: {N} subtomograms of 40³ in {s:.2f} s = {N / s:.0f} per second (one process)")
