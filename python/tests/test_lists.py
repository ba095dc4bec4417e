"""Simulation, evaluation and particle lists: round trips through starfile and copick."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import starfile
import tomopick


@pytest.fixture(scope="module")
def simulated():
    return tomopick.simulate_tomogram(seed=11, shape=(64, 64, 32), particles=15, route="fast")


def test_simulation_is_seeded_and_carries_its_truth(simulated):
    volume, truth = simulated
    assert volume.dtype == np.float32 and volume.shape == (32, 64, 64)
    assert volume.flags.writeable and volume.flags.c_contiguous
    assert len(truth) > 0 and truth.attrs["voxel_size"] == 10.0
    again, truth2 = tomopick.simulate_tomogram(seed=11, shape=(64, 64, 32), particles=15, route="fast")
    assert np.array_equal(volume, again) and truth.equals(truth2)
    other, _ = tomopick.simulate_tomogram(seed=12, shape=(64, 64, 32), particles=15, route="fast")
    assert not np.array_equal(volume, other)


def test_evaluate_the_truth_against_itself_and_against_nothing_near(simulated):
    _, truth = simulated
    perfect = tomopick.evaluate(truth, truth)
    assert perfect["shrec"]["overall"]["f_beta"] == pytest.approx(1.0)
    assert perfect["czii"]["overall"]["f_beta"] == pytest.approx(1.0)
    shifted = truth.copy()
    shifted["x"] += 300.0
    worse = tomopick.evaluate(shifted, truth)
    assert worse["czii"]["overall"]["f_beta"] < 0.2


def test_a_star_file_round_trips_through_starfile(simulated, tmp_path):
    _, truth = simulated
    path = tmp_path / "truth.star"
    tomopick.write_particles(truth, path)
    star = starfile.read(path)
    table = star["particles"] if isinstance(star, dict) else star
    # RELION 4 coordinates are pixels of the tomogram: Å / 10.
    assert np.allclose(table["rlnCoordinateX"].to_numpy(), truth["x"].to_numpy() / 10.0, atol=1e-3)
    # A STAR that starfile writes is read back in Å.
    table = table.copy()
    table["rlnCoordinateY"] += 1.0
    starfile.write({"particles": table}, tmp_path / "moved.star")
    moved = tomopick.read_particles(tmp_path / "moved.star", voxel_size=10.0)
    assert np.allclose(moved["y"].to_numpy(), truth["y"].to_numpy() + 10.0, atol=1e-2)


def test_copick_reads_what_we_write(simulated, tmp_path):
    copick_models = pytest.importorskip("copick.models")
    _, truth = simulated
    one = truth[truth["class"] == truth["class"].iloc[0]].copy()
    one["tomogram"] = "TS_01"
    path = tmp_path / "picks.json"
    tomopick.write_particles(one, path)
    parsed = copick_models.CopickPicksFile(**json.loads(path.read_text()))
    got = np.array([[p.location.x, p.location.y, p.location.z] for p in parsed.points])
    assert np.allclose(got, one[["x", "y", "z"]].to_numpy(), atol=1e-3)
    back = tomopick.read_particles(path)
    assert np.allclose(back[["x", "y", "z"]].to_numpy(), one[["x", "y", "z"]].to_numpy(), atol=1e-3)


def test_a_csv_round_trips_with_orientations(tmp_path):
    df = pd.DataFrame(
        {"class": ["a", "b"], "x": [10.0, 20.0], "y": [1.5, 2.5], "z": [0.0, 30.0],
         "score": [0.9, np.nan], "rot": [10.0, 0.0], "tilt": [20.0, 90.0], "psi": [30.0, -45.0]}
    )
    tomopick.write_particles(df, tmp_path / "p.csv")
    back = tomopick.read_particles(tmp_path / "p.csv")
    assert np.allclose(back[["x", "y", "z"]], df[["x", "y", "z"]])
    assert back["score"].iloc[0] == pytest.approx(0.9) and np.isnan(back["score"].iloc[1])
    assert np.allclose(back[["rot", "tilt", "psi"]], df[["rot", "tilt", "psi"]], atol=1e-6)
