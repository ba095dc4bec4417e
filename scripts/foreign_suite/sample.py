"""The sample of a foreign-suite tomogram at 10 A: particles, vesicles, gold, in an ice slab.

Particles are rotated at 5 A (uniform random rotations), binned 2x to 10 A with their sub-voxel
offset, and placed at random where their occupancy mask (binned envelope >= 0.5) overlaps no
other particle, membrane or bead and lies inside the ice slab. Classes are drawn with weights from
a Dirichlet(6) per tomogram until the target occupancy is reached; large ones are placed first.
"""
import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation

GOLD_V = 25.0  # gold's potential above ice, V (Au ~30 V vs 4.5 V)
HEAD_V = 2.0  # lipid head-group layers above ice, V
TAIL_V = -0.8  # hydrocarbon core below ice, V


def _paste(dst, block, i0, op):
    """Applies `op(dst_region, block_region)` where `block` at corner `i0` overlaps `dst`."""
    lo = np.maximum(i0, 0)
    hi = np.minimum(np.array(i0) + block.shape, dst.shape)
    if np.any(hi <= lo):
        return None
    ds = tuple(slice(a, b) for a, b in zip(lo, hi))
    bs = tuple(slice(a - c, b - c) for a, b, c in zip(lo, hi, i0))
    return op(dst, ds, block, bs)


def _rotated_block(t, rot, frac):
    """Template `t` (5 A, size n per axis, n % 4 == 0) rotated by `rot` (reference -> sample, xyz)
    with its centre shifted by `frac` 10 A voxels (zyx, in [0, 1)); binned to 10 A."""
    v, env = t["v"], t["env"]
    n = v.shape[0]
    m = rot.as_matrix()[::-1, ::-1]  # xyz -> zyx index order
    minv = m.T
    c_in = np.full(3, n / 2)  # atoms were centred on grid point n/2
    c_out = n / 2 + 0.5 + 2 * np.asarray(frac)
    off = c_in - minv @ c_out
    order = t.get("order", 1)
    rv = ndimage.affine_transform(v, minv, off, order=order, mode="constant", prefilter=order > 1)
    re = ndimage.affine_transform(env.astype(np.float32), minv, off, order=1, mode="constant")
    h = n // 2
    bin2 = lambda a: a.reshape(h, 2, h, 2, h, 2).mean(axis=(1, 3, 5))  # noqa: E731
    return bin2(rv), bin2(re) >= 0.5


def _vesicles(p, shape, vox, slab, rng, vol, excluded):
    nz, ny, nx = shape
    zz, yy, xx = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
    for _ in range(p["vesicles"]):
        r_out = rng.uniform(150, 320) / vox
        c = np.array([rng.uniform(slab[0] + r_out * 0.5, slab[1] - r_out * 0.5) if slab[1] - slab[0] > r_out
                      else (slab[0] + slab[1]) / 2, rng.uniform(0, ny), rng.uniform(0, nx)])
        r = np.sqrt((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2) * vox  # A
        r_mid = r_out * vox - 20.0
        prof = (HEAD_V * (np.exp(-((r - r_mid - 17) ** 2) / (2 * 5.0**2)) + np.exp(-((r - r_mid + 17) ** 2) / (2 * 5.0**2)))
                + TAIL_V * np.exp(-((r - r_mid) ** 2) / (2 * 7.0**2)))
        inside_slab = (zz >= slab[0]) & (zz < slab[1])
        vol += np.where(inside_slab, prof, 0.0).astype(np.float32)
        excluded |= (np.abs(r - r_mid) < 35.0) & inside_slab


def _gold(p, shape, vox, slab, rng, vol, excluded):
    for _ in range(p["gold"]):
        r = rng.uniform(25, 75) / vox
        c = np.array([rng.uniform(slab[0] + r, slab[1] - r), rng.uniform(0, shape[1]), rng.uniform(0, shape[2])])
        h = int(np.ceil(r + 3))
        i0 = np.floor(c).astype(int) - h
        g = np.mgrid[0:2 * h + 1, 0:2 * h + 1, 0:2 * h + 1].astype(np.float64)
        d = np.sqrt(sum((g[k] + i0[k] - c[k]) ** 2 for k in range(3)))
        ball = np.clip(r + 0.5 - d, 0, 1)  # partial-volume edge
        ball = ndimage.gaussian_filter(ball, 0.5) * GOLD_V * rng.uniform(0.8, 1.2)
        _paste(vol, ball.astype(np.float32), i0, lambda a, ds, b, bs: a.__setitem__(ds, a[ds] + b[bs]))
        _paste(excluded, d <= r + 2, i0, lambda a, ds, b, bs: a.__setitem__(ds, a[ds] | b[bs]))


def build(p, templates, shape, vox, rng):
    """(contrast volume in V at 10 A, occupancy labels, truth list) for spec `p`."""
    nz, ny, nx = shape
    thick = min(p["ice_nm"] * 10.0 / vox, nz - 2)
    z0 = (nz - thick) / 2 + rng.uniform(-1, 1) * (nz - thick) / 2 * 0.8
    slab = (z0, z0 + thick)
    vol = np.zeros(shape, np.float32)
    labels = np.zeros(shape, np.int32)
    excluded = np.zeros(shape, bool)
    _vesicles(p, shape, vox, slab, rng, vol, excluded)
    _gold(p, shape, vox, slab, rng, vol, excluded)
    # target volume of particles
    names = sorted(p.get("classes") or templates)  # a spec may name the sample's classes
    w = rng.dirichlet(np.full(len(names), 6.0))
    target = p["occupancy"] * nx * ny * thick
    vols = {c: templates[c]["env"].sum() / 8.0 for c in names}  # 10 A voxels
    draws, total = [], 0.0
    while total < target and len(draws) < 5000:
        c = names[rng.choice(len(names), p=w)]
        draws.append(c)
        total += vols[c]
    draws.sort(key=lambda c: -vols[c])
    for c in names:
        templates[c]["order"] = p["interp_order"]
    truth = []
    for c in draws:
        t = templates[c]
        rot = Rotation.random(random_state=rng)
        frac = rng.uniform(0, 1, 3)
        bv, bm = _rotated_block(t, rot, frac)
        h = bv.shape[0]
        mz = np.nonzero(bm.any(axis=(1, 2)))[0]
        lo_z = int(np.ceil(slab[0])) - mz.min()
        hi_z = int(np.floor(slab[1])) - mz.max() - 1
        if hi_z < lo_z:
            continue
        for _ in range(40):
            i0 = np.array([rng.integers(lo_z, hi_z + 1), rng.integers(-h // 2, ny - h // 2),
                           rng.integers(-h // 2, nx - h // 2)])
            centre = i0 + h / 2 + frac  # 10 A voxel coordinates (zyx) of the template centre
            if np.any(centre < 0) or np.any(centre > np.array(shape) - 1):
                continue
            clash = _paste(labels, bm, i0, lambda a, ds, b, bs: bool(((a[ds] > 0) & b[bs]).any()))
            clash = clash or _paste(excluded, bm, i0, lambda a, ds, b, bs: bool((a[ds] & b[bs]).any()))
            if clash:
                continue
            k = len(truth) + 1
            _paste(vol, bv.astype(np.float32), i0, lambda a, ds, b, bs: a.__setitem__(ds, a[ds] + b[bs]))
            _paste(labels, bm * k, i0, lambda a, ds, b, bs: a.__setitem__(ds, np.where(b[bs] > 0, b[bs], a[ds])))
            a, b, g = rot.as_euler("zxz", degrees=True)  # R = Rz(g) Rx(b) Rz(a), extrinsic
            truth.append({"class": c, "xyz": [centre[2], centre[1], centre[0]], "zxz": [-a, -b, -g]})
            break
    return vol, labels, truth
