"""A suite tomogram mirrored along z, with its true positions: what a reconstruction of the
other hand looks like (issue 14, `match-templates --hand`).

    python mirror_tomogram.py SUITE val03 OUT_DIR

Writes OUT_DIR/reconstruction.mrc (z reversed, the voxel size kept) and
OUT_DIR/particle_locations.txt (class x y z, z -> nz - 1 - z). Needs numpy and mrcfile (the
suite's venv).
"""
import os
import sys

import mrcfile

suite, tomo, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
with mrcfile.open(os.path.join(suite, tomo, "reconstruction.mrc"), permissive=True) as m:
    data = m.data.copy()
    voxel = m.voxel_size.copy()
nz = data.shape[0]
with mrcfile.new(os.path.join(out, "reconstruction.mrc"), overwrite=True) as m:
    m.set_data(data[::-1].copy())
    m.voxel_size = voxel
with open(os.path.join(suite, tomo, "particle_locations.txt")) as f, \
        open(os.path.join(out, "particle_locations.txt"), "w") as g:
    for line in f:
        p = line.split()
        if len(p) >= 4:
            p[3] = f"{nz - 1 - float(p[3]):.3f}"
            g.write(" ".join(p[:4]) + "\n")
