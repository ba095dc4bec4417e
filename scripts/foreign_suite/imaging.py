"""Tilt series and weighted back-projection for the foreign suite (tilt axis y, beam z).

Projection: ray integrals through the contrast volume, plane by plane with linear interpolation
along x; a ray at detector offset u from the centre satisfies u = x cos t + z sin t (both from
the volume centre). The back-projector interpolates along u instead (voxel-driven). Each projection: phase sigma_e * integral of V dz, a 2D CTF (defocus
jittered per tilt, slight astigmatism, amplitude contrast), a damage envelope growing with the
cumulative dose in dose-symmetric order, the pixel MTF (sinc), a residual misalignment shift and
ice attenuation exp(-t / (350 nm cos t)). Noise: Poisson counts at the dose that gives the spec's
SNR at 0 degrees, Gaussian of the same variance, or half of each (the Gaussian half low-passed).
Reconstruction: optional phase flipping, a ramp filter with a window, linear back-projection.
"""
import numpy as np
from scipy import ndimage

LAMBDA_A = 0.019687  # 300 kV
SIGMA_E = 6.526e-4  # rad / (V A)
CS_A = 2.7e7
MFP_A = 3500.0


def _angles(p):
    step, tmax = p["tilt_step_deg"], p["tilt_max_deg"]
    a = np.arange(-tmax, tmax + step / 2, step, dtype=np.float64)
    order = np.argsort(np.abs(a) + 1e-3 * (a < 0))  # dose-symmetric: 0, +s, -s, +2s, ...
    dose_rank = np.empty(len(a), int)
    dose_rank[order] = np.arange(len(a))
    return a, dose_rank


def _freqs(ny, nx, vox):
    ky = np.fft.fftfreq(ny, vox)[:, None]
    kx = np.fft.fftfreq(nx, vox)[None, :]
    return ky, kx


def _ctf(p, ky, kx, rng, b_damage):
    k2 = ky**2 + kx**2
    df = (p["defocus_um"] + rng.normal(0, 0.1)) * 1e4
    astig = rng.normal(0, 0.05) * 1e4
    ang = rng.uniform(0, np.pi)
    theta = np.arctan2(ky, kx)
    dfa = df + astig * np.cos(2 * (theta - ang))
    chi = np.pi * LAMBDA_A * dfa * k2 - 0.5 * np.pi * CS_A * LAMBDA_A**3 * k2**2
    a = p["amplitude_contrast"]
    ctf = -np.sin(chi + np.arctan(a / np.sqrt(1 - a * a)))
    return ctf * np.exp(-b_damage * k2 / 4)


def _mtf(ky, kx, vox):
    ny_k = 0.5 / vox
    return np.sinc(ky / ny_k / 2) * np.sinc(kx / ny_k / 2)


def _window(name, k, kmax):
    w = np.abs(k)
    r = np.abs(k) / kmax
    if name == "shepp-logan":
        w = w * np.sinc(r / 2)
    elif name == "cosine":
        w = w * np.cos(np.pi * r / 2)
    elif name == "hamming":
        w = w * (0.54 + 0.46 * np.cos(np.pi * r))
    elif name == "hann":
        w = w * 0.5 * (1 + np.cos(np.pi * r))
    return w


def _project(vol, angle, nx):
    """Ray integral (in voxels) through `vol` at detector column u for every u: along the ray,
    x = (u - z sin t) / cos t, sampled plane by plane with linear interpolation in x."""
    nz, ny, _ = vol.shape
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    z = np.arange(nz)[:, None] - (nz - 1) / 2
    u = np.arange(nx)[None, :] - (nx - 1) / 2
    x = (u - z * s) / c + (nx - 1) / 2  # (nz, nx)
    i0 = np.floor(x).astype(int)
    f = (x - i0).astype(np.float32)
    ok = (i0 >= 0) & (i0 + 1 < vol.shape[2])
    i0c = np.clip(i0, 0, vol.shape[2] - 2)
    zi = np.arange(nz)[:, None]
    g = vol[zi, :, i0c] * (1 - f)[..., None] + vol[zi, :, i0c + 1] * f[..., None]  # (nz, nx, ny)
    proj = np.where(ok[..., None], g, 0.0).sum(axis=0).T / c  # (ny, nx)
    return proj, (nx - 1) / 2


def _backproject(rec, filt, angle, centre):
    nz, ny, nx = rec.shape
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    z = np.arange(nz)[:, None] - (nz - 1) / 2
    x = np.arange(nx)[None, :] - (nx - 1) / 2
    u = x * c + z * s + centre  # (nz, nx)
    i0 = np.floor(u).astype(int)
    f = (u - i0).astype(np.float32)
    ok = (i0 >= 0) & (i0 + 1 < nx)
    i0c = np.clip(i0, 0, nx - 2)
    g = filt[:, i0c] * (1 - f) + filt[:, i0c + 1] * f  # (ny, nz, nx)
    rec += np.where(ok, g, 0.0).transpose(1, 0, 2)


def tilt_series_wbp(vol, p, vox, rng):
    """Reconstruction (nz, ny, nx) of the contrast volume `vol` (V) under spec `p`."""
    nz, ny, nx = vol.shape
    angles, dose_rank = _angles(p)
    ky, kx = _freqs(ny, nx, vox)
    mtf = _mtf(ky, kx, vox)
    t_ice = p["ice_nm"] * 10.0
    images, centres, ctfs, atten = [], [], [], []
    for ang, rank in zip(angles, dose_rank):
        proj, centre = _project(vol, ang, nx)
        phi = SIGMA_E * vox * proj
        ctf = _ctf(p, ky, kx, rng, p["damage_b_per_tilt"] * rank)
        img = 1.0 + 2.0 * np.real(np.fft.ifft2(np.fft.fft2(phi) * ctf * mtf))
        shift = rng.normal(0, p["misalign_px"], 2) if p["misalign_px"] > 0 else np.zeros(2)
        img = np.real(np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(img), shift)))
        images.append(img)
        centres.append(centre)
        ctfs.append(ctf)
        atten.append(np.exp(-t_ice / (MFP_A * np.cos(np.radians(ang)))))
    i0 = int(np.argmin(np.abs(angles)))
    var0 = (atten[i0] ** 2) * images[i0].var()  # noise-free signal variance at 0 degrees
    mean0 = atten[i0] * images[i0].mean()
    snr = p["snr"]
    kmax = 0.5 / vox
    ku = np.fft.fftfreq(2 * nx, vox)
    weights = _window(p["recon_filter"], ku, kmax)[None, :]
    rec = np.zeros(vol.shape, np.float32)
    for ang, img, centre, ctf, a in zip(angles, images, centres, ctfs, atten):
        s = a * img
        if p["noise"] == "gaussian":
            obs = s + rng.normal(0, np.sqrt(var0 / snr), s.shape)
            obs = obs / a - 1.0
        else:
            frac = 1.0 if p["noise"] == "poisson" else 0.5
            dose = snr / frac * mean0 / var0  # counts per unit of signal: var(noise) = frac var0 / snr
            obs = rng.poisson(np.clip(s * dose, 0, None)).astype(np.float64) / dose
            if frac < 1.0:
                g = ndimage.gaussian_filter(rng.normal(0, 1, s.shape), 1.0)
                obs = obs + g * np.sqrt((1 - frac) * var0 / snr) / g.std()
            obs = obs / a - 1.0
        if p["phase_flip"]:
            obs = np.real(np.fft.ifft2(np.fft.fft2(obs) * np.sign(ctf)))
        padded = np.zeros((ny, 2 * nx))
        padded[:, :nx] = obs - obs.mean()
        filt = np.real(np.fft.ifft(np.fft.fft(padded, axis=1) * weights, axis=1))[:, :nx].astype(np.float32)
        _backproject(rec, filt, ang, centre)
    return rec
