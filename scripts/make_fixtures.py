#!/usr/bin/env python3
"""Write the test fixtures in tests/fixtures/made/ with the tools users' files come from.

Run from the repository root:  python3 scripts/make_fixtures.py [volumes|lists|example|structures ...]
Tools (versions used for the committed files): mrcfile 1.5.4, starfile 0.5.13,
copick 1.31.0, tifffile 2026.3.3, zarr 2.18.7, ome-zarr 0.11.1, gemmi 0.7.5, numpy 2.4.
Every value the Rust tests check is derived here from np.arange or written literally below.
"""
import json
import os
import shutil
import struct

import mrcfile
import numpy as np
import pandas as pd
import starfile
import tifffile
import zarr
from ome_zarr.io import parse_url
from ome_zarr.writer import write_multiscale

OUT = os.path.join("tests", "fixtures", "made")
EX = os.path.join("examples", "shrec_small")


def ramp(shape_zyx, dtype):
    return np.arange(np.prod(shape_zyx)).reshape(shape_zyx).astype(dtype)


def mrc(name, data, voxel_size, origin=(0.0, 0.0, 0.0)):
    path = os.path.join(OUT, name)
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(data)
        m.voxel_size = voxel_size
        m.header.origin = origin
    return path


def volumes():
    shape = (4, 5, 6)  # z, y, x
    mrc("mode2_float32.mrc", ramp(shape, np.float32) * 0.5 - 3.0, 10.0, (100.0, 200.0, 300.0))
    mrc("mode1_int16.mrc", ramp(shape, np.int16) - 60, 10.0)
    mrc("mode6_uint16.mrc", ramp(shape, np.uint16) * 500, 10.0)
    mrc("mode12_float16.mrc", ramp(shape, np.float16) * 0.25, 10.0)
    mrc("mode0_int8.mrc", ramp(shape, np.int8) - 60, 10.0)
    mrc("anisotropic.mrc", ramp(shape, np.float32), (10.0, 11.0, 12.0))
    mrc("zero_voxel_size.mrc", ramp(shape, np.float32), 0.0)
    nan = ramp(shape, np.float32)
    nan[1, 2, 3] = np.nan
    nan[2, 2, 2] = np.inf
    mrc("has_nan.mrc", nan, 10.0)
    # Stored with sections along x: file order (x, y, z) slow to fast, so mapc=3 mapr=2 maps=1.
    phys = ramp(shape, np.float32)  # [z, y, x]
    path = mrc("axes_zyx.mrc", np.ascontiguousarray(phys.transpose(2, 1, 0)), 10.0)
    with mrcfile.open(path, "r+") as m:
        m.header.mapc, m.header.mapr, m.header.maps = 3, 2, 1
    # Broken files, made from a good one.
    good = open(os.path.join(OUT, "mode2_float32.mrc"), "rb").read()
    open(os.path.join(OUT, "bad_truncated.mrc"), "wb").write(good[: len(good) - 40])
    big = bytearray(good)
    big[8:12] = struct.pack("<i", 4000)  # nz
    open(os.path.join(OUT, "bad_dims_too_large.mrc"), "wb").write(bytes(big))
    mode = bytearray(good)
    mode[12:16] = struct.pack("<i", 5)
    open(os.path.join(OUT, "bad_unknown_mode.mrc"), "wb").write(bytes(mode))
    neg = bytearray(good)
    neg[40:44] = struct.pack("<f", -60.0)  # cella x
    open(os.path.join(OUT, "bad_negative_voxel.mrc"), "wb").write(bytes(neg))
    open(os.path.join(OUT, "bad_empty.mrc"), "wb").close()
    # TIFF stack: 4 pages of 5 x 6.
    tifffile.imwrite(os.path.join(OUT, "stack.tif"), ramp(shape, np.float32), photometric="minisblack")
    # The same data as one page of 4 planar samples (how tifffile stores it without photometric).
    tifffile.imwrite(os.path.join(OUT, "bad_planar_samples.tif"), ramp(shape, np.float32))
    # OME-Zarr (NGFF 0.4, Zarr v2) with two levels, 10 Å and 20 Å, axes in angstrom.
    zpath = os.path.join(OUT, "tomo.zarr")
    shutil.rmtree(zpath, ignore_errors=True)
    full = ramp((8, 10, 12), np.float32)
    half = full[::2, ::2, ::2].copy()
    store = parse_url(zpath, mode="w").store
    root = zarr.group(store=store)
    write_multiscale(
        [full, half],
        group=root,
        axes=[{"name": a, "type": "space", "unit": "angstrom"} for a in "zyx"],
        coordinate_transformations=[
            [{"type": "scale", "scale": [10.0, 10.0, 10.0]}],
            [{"type": "scale", "scale": [20.0, 20.0, 20.0]}],
        ],
        storage_options={"chunks": (4, 5, 6)},
    )


# Particles shared by the list fixtures: (tomo, class number, x, y, z px, rot, tilt, psi).
PARTICLES = [
    ("TS_01", 1, 10.0, 20.0, 30.0, 10.0, 20.0, 30.0),
    ("TS_01", 2, 40.5, 50.25, 6.0, -45.0, 90.0, 120.0),
    ("TS_02", 1, 0.0, 7.0, 8.0, 170.0, 135.0, -60.0),
]


def lists():
    df = pd.DataFrame(PARTICLES, columns=["rlnTomoName", "rlnClassNumber", "rlnCoordinateX", "rlnCoordinateY", "rlnCoordinateZ", "rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"])
    df["rlnOpticsGroup"] = 1
    optics = pd.DataFrame({"rlnOpticsGroup": [1], "rlnOpticsGroupName": ["opticsGroup1"], "rlnMicrographOriginalPixelSize": [2.5], "rlnImagePixelSize": [10.0]})
    starfile.write({"optics": optics, "particles": df}, os.path.join(OUT, "relion4_particles.star"), overwrite=True)
    # RELION 5: centred Å for a 64 x 64 x 32 tomogram at 10 Å: centred = (px - size/2) * 10.
    r5 = df.drop(columns=["rlnCoordinateX", "rlnCoordinateY", "rlnCoordinateZ"]).copy()
    r5["rlnCenteredCoordinateXAngst"] = (df["rlnCoordinateX"] - 32) * 10.0
    r5["rlnCenteredCoordinateYAngst"] = (df["rlnCoordinateY"] - 32) * 10.0
    r5["rlnCenteredCoordinateZAngst"] = (df["rlnCoordinateZ"] - 16) * 10.0
    starfile.write({"particles": r5}, os.path.join(OUT, "relion5_particles.star"), overwrite=True)
    # A STAR file without coordinates.
    starfile.write({"particles": df[["rlnTomoName", "rlnAngleRot"]]}, os.path.join(OUT, "bad_no_coordinates.star"), overwrite=True)
    # copick picks written through copick's own data model.
    from copick.models import CopickLocation, CopickPicksFile, CopickPoint
    from scipy.spatial.transform import Rotation

    pts = []
    for tomo, cls, x, y, z, rot, tilt, psi in PARTICLES:
        if tomo != "TS_01" or cls != 1:
            continue
        m = np.eye(4)
        m[:3, :3] = Rotation.from_euler("ZYZ", [rot, tilt, psi], degrees=True).inv().as_matrix()
        pts.append(CopickPoint(location=CopickLocation(x=x * 2.5, y=y * 2.5, z=z * 2.5), transformation_=m.tolist(), score=0.75))
    picks = CopickPicksFile(pickable_object_name="ribosome", user_id="fixture", session_id="0", run_name="TS_01", points=pts, unit="angstrom")
    with open(os.path.join(OUT, "copick_ribosome.json"), "w") as f:
        f.write(picks.model_dump_json(indent=2))
    with open(os.path.join(OUT, "bad_not_copick.json"), "w") as f:
        json.dump({"particles": [[1, 2, 3]]}, f)
    with open(os.path.join(OUT, "bad_non_numeric.csv"), "w") as f:
        f.write("class,x,y,z,score\nribosome,1,2,3,0.5\nribosome,4,five,6,0.5\n")


def example():
    """A small SHREC-style truth set with a picks file: the README's first command scores it."""
    rng = np.random.default_rng(7)
    os.makedirs(EX, exist_ok=True)
    shape = (48, 96, 96)  # z, y, x at 10 Å
    classes = {"1bxn": 6, "3cf3": 6, "1s3x": 3}  # radius in voxels
    truth, occ = [], np.zeros(shape, np.float32)
    zz, yy, xx = np.mgrid[0 : shape[0], 0 : shape[1], 0 : shape[2]]
    while len(truth) < 24:
        cls = list(classes)[len(truth) % 3]
        r = classes[cls]
        c = rng.uniform([r, r, r], [shape[2] - r, shape[1] - r, shape[0] - r])
        if any(np.linalg.norm(c - t[1]) < r + classes[t[0]] + 1 for t in truth):
            continue
        truth.append((cls, c))
        ball = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 + (zz - c[2]) ** 2 <= r * r
        occ[ball & (occ == 0)] = len(truth)
    with open(os.path.join(EX, "particle_locations.txt"), "w") as f:
        for cls, c in truth:
            ang = rng.uniform(0, 360, 3)
            f.write(f"{cls} {c[0]:.3f} {c[1]:.3f} {c[2]:.3f} {ang[0]:.2f} {ang[1]:.2f} {ang[2]:.2f}\n")
    with mrcfile.new(os.path.join(EX, "occupancy_mask.mrc"), overwrite=True) as m:
        m.set_data(occ.astype(np.int8))
        m.voxel_size = 10.0
    # Picks: 20 of the 24 found with a small shift, 2 with the wrong class, one duplicate, 3 false.
    with open(os.path.join(EX, "picks.csv"), "w") as f:
        f.write("class,x,y,z,score\n")
        for i, (cls, c) in enumerate(truth[:20]):
            p = (c + rng.normal(0, 0.7, 3)) * 10.0
            name = "3cf3" if i in (0, 3) else cls
            f.write(f"{name},{p[0]:.2f},{p[1]:.2f},{p[2]:.2f},{rng.uniform(0.5, 1):.3f}\n")
        c = truth[5][1] * 10.0 + 10.0
        f.write(f"{truth[5][0]},{c[0]:.2f},{c[1]:.2f},{c[2]:.2f},0.4\n")
        for _ in range(3):
            p = rng.uniform([0, 0, 0], [shape[2], shape[1], shape[0]]) * 10.0
            f.write(f"1s3x,{p[0]:.2f},{p[1]:.2f},{p[2]:.2f},0.3\n")
    with open(os.path.join(EX, "classes.toml"), "w") as f:
        f.write("# Particle radii in Å (SHREC 2020 size field / 2 × 10 Å, rounded) and CZII weights.\n[radius_a]\n")
        for cls, r in classes.items():
            f.write(f'"{cls}" = {r * 10}\n')
        f.write("\n[weight]\n")
        for cls in classes:
            f.write(f'"{cls}" = 1\n')




def structures():
    """mmCIF written by gemmi from the shipped 3qm1 PDB (with its assembly), and a PDB without atoms."""
    import gemmi

    st = gemmi.read_structure(os.path.join("data", "structures", "pdb", "3qm1.pdb.gz"))
    st.setup_entities()
    doc = st.make_mmcif_document()
    doc.write_file(os.path.join(OUT, "3qm1.cif"))
    with open(os.path.join(OUT, "bad_no_atoms.pdb"), "w") as f:
        f.write("HEADER    NOTHING HERE\nREMARK   2 NO COORDINATES\nEND\n")
    # Expected numbers for the Rust tests: atoms without waters, and assembly 1 size.
    first = st[0]
    n = sum(1 for ch in first for res in ch if not res.is_water() for at in res if at.altloc in ("\0", "A"))
    asm = st.assemblies[0]
    how = gemmi.HowToNameCopiedChain.AddNumber
    built = gemmi.make_assembly(asm, first, how)
    m = sum(1 for ch in built for res in ch if not res.is_water() for at in res if at.altloc in ("\0", "A"))
    with open(os.path.join(OUT, "3qm1_counts.txt"), "w") as f:
        f.write(f"asymmetric_unit_atoms {n}\nassembly_{asm.name}_atoms {m}\n")


if __name__ == "__main__":
    # With no arguments, remake everything; otherwise only the named groups.
    import sys

    os.makedirs(OUT, exist_ok=True)
    groups = {"volumes": volumes, "lists": lists, "example": example, "structures": structures}
    for name in sys.argv[1:] or list(groups):
        groups[name]()
    print("fixtures written to", OUT, "and", EX)
