"""The copick example picks every run of a project and copick reads the picks back."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import mrcfile
import pytest

REPO = Path(__file__).resolve().parents[2]


def make_project(root: Path, runs: dict) -> Path:
    """A filesystem copick project whose runs hold the given MRCs as `wbp` OME-Zarr at 10 Å."""
    zarr = pytest.importorskip("zarr")
    ome_io = pytest.importorskip("ome_zarr.io")
    ome_writer = pytest.importorskip("ome_zarr.writer")
    config = {
        "name": "test", "description": "tomopick test", "version": "1.0.0",
        "pickable_objects": [
            {"name": "thermosome", "is_particle": True, "pdb_id": "1BXN", "label": 1, "radius": 60.0},
            {"name": "ribosome", "is_particle": True, "pdb_id": "4V94", "label": 2, "radius": 150.0},
        ],
        "overlay_root": "local://" + str(root / "overlay"),
        "overlay_fs_args": {"auto_mkdir": True},
        "config_type": "filesystem",
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(config, indent=2))
    for run, mrc in runs.items():
        with mrcfile.open(mrc) as m:
            data = m.data.copy()
        z = root / "overlay" / "ExperimentRuns" / run / "VoxelSpacing10.000" / "wbp.zarr"
        z.parent.mkdir(parents=True, exist_ok=True)
        store = ome_io.parse_url(str(z), mode="w").store
        ome_writer.write_multiscale(
            [data], group=zarr.group(store=store),
            axes=[{"name": a, "type": "space", "unit": "angstrom"} for a in "zyx"],
            coordinate_transformations=[[{"type": "scale", "scale": [10.0, 10.0, 10.0]}]],
        )
    return root / "config.json"


def test_the_copick_example_writes_picks_copick_reads(small_tomogram, tmp_path):
    copick = pytest.importorskip("copick")
    config = make_project(tmp_path / "proj", {"TS_1": small_tomogram / "reconstruction.mrc"})
    sys.path.insert(0, str(REPO / "examples" / "python"))
    try:
        example = runpy.run_path(str(REPO / "examples" / "python" / "copick_pick.py"))
    finally:
        sys.path.pop(0)
    done = example["pick_project"](str(config), 10.0, "wbp", "tomopick", "0")
    assert sum(done["TS_1"].values()) > 0
    root = copick.from_file(str(config))
    run = root.get_run("TS_1")
    stored = {p.pickable_object_name: len(p.points) for p in run.get_picks(user_id="tomopick", session_id="0")}
    assert stored == done["TS_1"]
