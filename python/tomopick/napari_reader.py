"""A napari reader (npe2 manifest ``napari.yaml``): an MRC tomogram as an image layer and, when a
pick list with the same stem lies beside it (``TS_01.star``, ``TS_01.csv`` or ``TS_01.json``), its
picks as a points layer coloured by class. It needs only mrcfile, not napari itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

PICK_SUFFIXES = (".star", ".csv", ".json")


def _picks_beside(path: Path) -> Optional[Path]:
    for suffix in PICK_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def read_tomogram(path: str) -> list[tuple[Any, dict, str]]:
    """The layers of one tomogram: ``(data, kwargs, type)`` tuples as napari expects."""
    import mrcfile

    from . import read_particles

    p = Path(path)
    with mrcfile.open(p, permissive=True) as m:
        data = np.asarray(m.data, dtype=np.float32)
        voxel_size = float(m.voxel_size.x) or 1.0
    layers: list[tuple[Any, dict, str]] = [
        (data, {"name": p.stem, "scale": (voxel_size,) * 3}, "image")
    ]
    picks_path = _picks_beside(p)
    if picks_path is not None:
        shape = (data.shape[2], data.shape[1], data.shape[0])
        picks = read_particles(picks_path, voxel_size=voxel_size, shape=shape)
        # napari points are [z, y, x] in the image's world units (Å with the scale above).
        coords = picks[["z", "y", "x"]].to_numpy(dtype=np.float64)
        classes = sorted(set(picks["class"]))
        layers.append(
            (
                coords,
                {
                    "name": f"{p.stem} picks",
                    "features": {"class": picks["class"].astype("category").to_numpy()},
                    "face_color": "class",
                    "size": 10.0 * voxel_size,
                    "metadata": {"classes": classes, "source": os.fspath(picks_path)},
                },
                "points",
            )
        )
    return layers


def get_reader(path: Any) -> Optional[Callable[[str], list]]:
    """napari's reader hook: the reader for one MRC path, ``None`` otherwise."""
    if isinstance(path, (str, os.PathLike)) and str(path).lower().endswith((".mrc", ".rec", ".map")):
        return read_tomogram
    return None
