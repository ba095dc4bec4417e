"""Particle densities for the foreign suite, at 5 A, in volts relative to the surrounding ice.

Three density models (one per tomogram, from its spec): gemmi's electron-scattering density,
gemmi's X-ray density rescaled to the same integral, or mass-weighted Gaussian blobs at a
resolution of 12-25 A (as Situs pdb2vol would make them). Then: an extra B-factor, the displaced
solvent (a fraction of 4.53 V over the smoothed molecular envelope) and an optional hydration
shell. The envelope's volume is the molecular volume (mass x 1.21 A^3/Da), so it does not depend
on the density model; closed, hole-filled and joined with a central ball (0.4 x its equivalent
radius), then binned to 10 A, it becomes the occupancy mask.
"""
import os

import numpy as np
from scipy import ndimage

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PDB_DIR = os.path.join(ROOT, "data", "structures", "pdb")
MAP_DIR = os.path.join(ROOT, "data", "structures", "maps_10A")
PDB_CLASSES = ["1bxn", "1qvr", "1s3x", "1u6g", "2cg9", "3cf3", "3d2f", "3gl1", "3h84", "3qm1"]
# Masses (Da) of the map-only classes: 26S proteasome, yeast 80S ribosome, mitoribosome.
MAP_CLASSES = {"4cr2": 2.5e6, "4v94": 3.3e6, "5mrc": 3.0e6}
SPACING_A = 5.0
K_VOLT = 47.878  # h^2 / (2 pi m0 e), V A^2: potential per unit of electron-scattering density
ICE_V = 4.5301
DA_PER_ATOM_MASS = {"C": 12.011, "N": 14.007, "O": 15.999, "S": 32.06, "P": 30.974}
VOLUME_PER_DA = 1.21  # A^3/Da at 1.37 g/cm^3
V_PER_DA = 9.9  # V A^3 per Da of protein with its hydrogens (Peng: C 120, N 106, O 95, H 25 V A^3)

_cache = {}


def _atoms(code):
    """Heavy atoms of the biological assembly, centred: (positions N x 3 in A, element symbols)."""
    if ("atoms", code) in _cache:
        return _cache[("atoms", code)]
    import gemmi

    st = gemmi.read_structure(os.path.join(PDB_DIR, code + ".pdb.gz"))
    st.remove_hydrogens()
    st.remove_ligands_and_waters()
    model = st[0]
    if len(st.assemblies) > 0:
        model = gemmi.make_assembly(st.assemblies[0], st[0], gemmi.HowToNameCopiedChain.AddNumber)
    pos, el = [], []
    for ch in model:
        for res in ch:
            for at in res:
                pos.append(at.pos.tolist())
                el.append(at.element.name)
    pos = np.array(pos)
    pos -= pos.mean(0)
    _cache[("atoms", code)] = (pos, el)
    return pos, el


def _smooth(n):
    """Whether n has no prime factor above 5 (the grid sizes gemmi's FFT keeps)."""
    for f in (2, 3, 5):
        while n % f == 0:
            n //= f
    return n == 1


def _box(pos, margin_a):
    """Even box side in 5 A voxels that holds the atoms plus the margin, with no prime factor
    above 5: gemmi silently enlarges any other grid to such a size, which at a fixed cell would
    shrink its spacing and so stretch the density by up to 14 % (suite version 1's error)."""
    n = int(np.ceil((2 * np.abs(pos).max() + 2 * margin_a) / SPACING_A / 2)) * 2 + 2
    while not _smooth(n):
        n += 2
    return n


def _gemmi_density(code, kind, margin_a, b_a2):
    import gemmi

    pos, el = _atoms(code)
    n = _box(pos, margin_a)
    L = n * SPACING_A
    st = gemmi.Structure()
    model = gemmi.Model("1")
    ch = gemmi.Chain("A")
    for i, (p, e) in enumerate(zip(pos, el)):
        r = gemmi.Residue()
        r.name = "UNK"
        r.seqid = gemmi.SeqId(i + 1, " ")
        a = gemmi.Atom()
        a.name = e
        a.element = gemmi.Element(e)
        a.pos = gemmi.Position(*(p + L / 2))
        a.b_iso = 0.0
        a.occ = 1.0
        r.add_atom(a)
        ch.add_residue(r)
    model.add_chain(ch)
    st.add_model(model)
    st.cell = gemmi.UnitCell(L, L, L, 90, 90, 90)
    st.spacegroup_hm = "P 1"
    dc = gemmi.DensityCalculatorE() if kind == "e" else gemmi.DensityCalculatorX()
    dc.d_min = 2 * SPACING_A
    dc.rate = 1.0
    # B of a 5 A box average (8 pi^2 x 25/12 A^2 = 164 A^2), so the 5 A samples do not alias,
    # plus the spec's B-factor
    dc.blur = 164.0 + b_a2
    dc.grid.unit_cell = st.cell
    dc.grid.spacegroup = gemmi.SpaceGroup("P 1")
    dc.grid.set_size(n, n, n)
    dc.put_model_density_on_grid(st[0])
    if tuple(dc.grid.shape) != (n, n, n):
        raise RuntimeError(f"{code}: gemmi made a {tuple(dc.grid.shape)} grid, not {n}^3: the spacing would not be 5 A")
    # gemmi's grid is [x, y, z]; ours is [z, y, x]
    return np.array(dc.grid, copy=True).transpose(2, 1, 0).astype(np.float64)


def _blob_density(code, resolution_a, margin_a):
    pos, el = _atoms(code)
    n = _box(pos, margin_a)
    mass = np.array([DA_PER_ATOM_MASS.get(e, 12.0) for e in el])
    idx = pos / SPACING_A + n / 2  # voxel coordinates, x y z
    grid = np.zeros((n, n, n))
    # trilinear splat, then a Gaussian of per-axis sd R / (2 sqrt 3) (pdb2vol's kernel)
    i0 = np.floor(idx).astype(int)
    f = idx - i0
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                w = (np.where(dx, f[:, 0], 1 - f[:, 0]) * np.where(dy, f[:, 1], 1 - f[:, 1])
                     * np.where(dz, f[:, 2], 1 - f[:, 2]))
                np.add.at(grid, (i0[:, 2] + dz, i0[:, 1] + dy, i0[:, 0] + dx), w * mass)
    return ndimage.gaussian_filter(grid, resolution_a / (2 * np.sqrt(3)) / SPACING_A)


def _map_density(code):
    import mrcfile

    with mrcfile.open(os.path.join(MAP_DIR, code + ".mrc.gz"), permissive=True) as m:
        v = np.array(m.data, dtype=np.float64)
    v = ndimage.zoom(v, 2.0, order=3)  # 10 A -> 5 A
    v = np.clip(v - np.median(v), 0, None)
    v = np.pad(v, 8)
    # centre the density's centre of mass on grid point n/2, as the atomic models are
    com = np.array(ndimage.center_of_mass(v))
    return ndimage.shift(v, v.shape[0] / 2 - com, order=1)


def _envelope(v, volume_a3):
    """Binary envelope: the highest voxels of a smoothed copy, as many as the volume needs."""
    s = ndimage.gaussian_filter(v, 1.0)
    k = max(1, int(round(volume_a3 / SPACING_A**3)))
    thr = np.sort(s.ravel())[-k]
    env = s >= thr
    lab, n = ndimage.label(env)
    if n > 1:  # drop specks: keep parts of at least a tenth of the largest
        sizes = np.asarray(ndimage.sum(env, lab, range(1, n + 1)))
        keep = 1 + np.nonzero(sizes >= 0.1 * sizes.max())[0]
        env = np.isin(lab, keep)
    return env


def _blur_b(v, b_a2):
    """Debye-Waller factor exp(-B s^2 / 4) in real space: a Gaussian of sd sqrt(B / 8 pi^2)."""
    if b_a2 <= 0:
        return v
    return ndimage.gaussian_filter(v, np.sqrt(b_a2 / (8 * np.pi**2)) / SPACING_A)


def _crop(v, env):
    """Crops to a cube about the centre n/2 that holds the envelope (plus 25 A) in every
    orientation, its side a multiple of 4 (sample.py bins 2x after rotating about n/2)."""
    n = v.shape[0]
    idx = np.argwhere(env)
    rmax = np.sqrt(((idx - n / 2) ** 2).sum(axis=1)).max() + 25.0 / SPACING_A
    h = int(np.ceil(rmax / 2)) * 2  # half side, even
    lo, hi = n // 2 - h, n // 2 + h
    if lo < 0:
        v, env = np.pad(v, -lo), np.pad(env, -lo)
        lo, hi = 0, hi - lo
    return v[lo:hi, lo:hi, lo:hi], env[lo:hi, lo:hi, lo:hi]


def templates(p, rng):
    """{class: {"v": contrast at 5 A (V), "env": occupancy mask at 5 A, "radius_a": its
    equivalent-sphere radius}}."""
    out = {}
    margin = 30.0
    for code in PDB_CLASSES + list(MAP_CLASSES):
        if code in MAP_CLASSES:
            v = _map_density(code)
            mass = MAP_CLASSES[code]
            v = _blur_b(v, p["b_factor_a2"])
        else:
            pos, el = _atoms(code)
            mass = sum(DA_PER_ATOM_MASS.get(e, 12.0) for e in el)
            if p["density_model"] == "gemmi_e":
                v = _gemmi_density(code, "e", margin, p["b_factor_a2"]) * K_VOLT
            elif p["density_model"] == "gemmi_x":
                v = _gemmi_density(code, "x", margin, p["b_factor_a2"])
            else:
                v = _blur_b(_blob_density(code, p["blob_resolution_a"], margin), p["b_factor_a2"])
        # every model integrates to the same potential per dalton
        v = v * (V_PER_DA * mass / (v.sum() * SPACING_A**3))
        env = _envelope(v, mass * VOLUME_PER_DA)
        solvent = ndimage.gaussian_filter(env.astype(np.float64), 0.5) * ICE_V * p["solvent_fraction"]
        shell = ndimage.binary_dilation(env, iterations=1) & ~env
        v = v - solvent + shell * ICE_V * p["hydration"]
        # the occupancy mask: the envelope closed and filled, plus a ball of 0.4 x its equivalent
        # radius about the centre (rings such as p97 and ClpB have an open channel there that
        # the SHREC rule should count as the particle's)
        mask = ndimage.binary_fill_holes(ndimage.binary_closing(env, iterations=2, border_value=0))
        r_eq = (3 * mask.sum() / (4 * np.pi)) ** (1 / 3)
        g = np.indices(mask.shape) - mask.shape[0] / 2
        mask |= (g**2).sum(axis=0) <= (0.4 * r_eq) ** 2
        v, mask = _crop(v, mask)
        radius = (3 * mask.sum() * SPACING_A**3 / (4 * np.pi)) ** (1 / 3)
        out[code] = {"v": v.astype(np.float32), "env": mask, "radius_a": radius}
    return out
