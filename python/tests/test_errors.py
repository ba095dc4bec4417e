"""Bad input raises the right exception with the message the CLI prints; nothing partial is
written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tomopick


def test_a_missing_tomogram_is_file_not_found_naming_it(tmp_path):
    missing = tmp_path / "nope.mrc"
    with pytest.raises(FileNotFoundError, match="nope.mrc"):
        tomopick.pick(missing, progress=False)


def test_a_truncated_mrc_is_an_input_error_naming_the_file(small_tomogram, tmp_path):
    data = (small_tomogram / "reconstruction.mrc").read_bytes()
    bad = tmp_path / "cut.mrc"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(tomopick.InputError, match="cut.mrc") as e:
        tomopick.pick(bad, progress=False)
    assert isinstance(e.value, tomopick.TomopickError) and isinstance(e.value, ValueError)


def test_a_volume_without_voxel_size_or_of_the_wrong_rank_is_refused():
    with pytest.raises(ValueError, match="voxel_size"):
        tomopick.pick(np.zeros((32, 32, 32), np.float32), progress=False)
    with pytest.raises(tomopick.InputError, match="3D"):
        tomopick.pick(np.zeros((32, 32), np.float32), voxel_size=10, progress=False)
    with pytest.raises(ValueError, match="voxel_size"):
        tomopick.pick(np.zeros((32, 32, 32), np.float32), voxel_size=-1, progress=False)


def test_every_function_refuses_a_voxel_size_that_is_not_positive(tmp_path):
    volume = np.zeros((32, 32, 32), np.float32)
    particles = pd.DataFrame({"class": ["4v94"], "x": [100.0], "y": [100.0], "z": [100.0]})
    calls = [
        lambda: tomopick.classify(volume, particles, voxel_size=0.0, progress=False),
        lambda: tomopick.match_templates(volume, particles, voxel_size=float("nan"), progress=False),
        lambda: tomopick.simulate_tomogram(voxel_size=-10.0),
        lambda: tomopick.evaluate(particles, particles, radius=50.0, voxel_size=0.0, shape=(32, 32, 32)),
        lambda: tomopick.read_particles(tmp_path / "any.star", voxel_size=-1.0),
        lambda: tomopick.adapt(tmp_path / "t.mrc", tmp_path / "run", voxel_size=0.0, progress=False),
    ]
    for call in calls:
        with pytest.raises(tomopick.InputError, match="voxel_size .*: must be a positive number of Å"):
            call()


def test_a_bad_star_line_is_named(tmp_path):
    star = tmp_path / "bad.star"
    star.write_text(
        "data_particles\n\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n_rlnCoordinateZ #3\n1 2 3\n4 five 6\n"
    )
    with pytest.raises(tomopick.InputError, match=r"bad.star:.*(line 8|8)"):
        tomopick.read_particles(star, voxel_size=10)


def test_an_unwritable_output_leaves_nothing(tmp_path):
    df = pd.DataFrame({"class": ["a"], "x": [1.0], "y": [2.0], "z": [3.0]})
    with pytest.raises(FileNotFoundError):
        tomopick.write_particles(df, tmp_path / "no" / "such" / "dir" / "p.csv")
    with pytest.raises(tomopick.InputError, match="extension"):
        tomopick.write_particles(df, tmp_path / "p.unknown")
    assert list(tmp_path.iterdir()) == []


def test_a_model_file_that_is_not_one_is_refused(small_tomogram, tmp_path):
    fake = tmp_path / "model.bpk"
    fake.write_bytes(b"not a model" * 100)
    with pytest.raises(tomopick.InputError, match="model.bpk"):
        tomopick.pick(small_tomogram / "reconstruction.mrc", model=fake, progress=False)
