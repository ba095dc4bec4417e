"""The napari reader gives an image layer and the picks beside it as points coloured by class."""

from __future__ import annotations

import shutil

import numpy as np
import tomopick
from tomopick.napari_reader import get_reader


def test_reader_opens_a_tomogram_with_its_picks(small_tomogram, tmp_path):
    rec = tmp_path / "TS_01.mrc"
    shutil.copy(small_tomogram / "reconstruction.mrc", rec)
    picks = tomopick.pick(rec, progress=False)
    tomopick.write_particles(picks, tmp_path / "TS_01.star")
    reader = get_reader(str(rec))
    assert reader is not None and get_reader("picks.star") is None
    layers = reader(str(rec))
    (image, image_kw, kind), (points, points_kw, kind2) = layers
    assert (kind, kind2) == ("image", "points")
    assert image.shape == (48, 96, 96) and image_kw["scale"] == (10.0, 10.0, 10.0)
    assert points.shape == (len(picks), 3)
    assert np.allclose(points, picks[["z", "y", "x"]].to_numpy(), atol=0.01)
    assert points_kw["face_color"] == "class"


def test_the_npe2_manifest_is_valid_and_names_the_reader():
    npe2 = __import__("pytest").importorskip("npe2")
    manifest = npe2.PluginManifest.from_distribution("tomopick")
    readers = manifest.contributions.readers
    assert readers and readers[0].command == "tomopick.read_tomogram"
    command = manifest.contributions.commands[0]
    assert command.python_name == "tomopick.napari_reader:get_reader"
