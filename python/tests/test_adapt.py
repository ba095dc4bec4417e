"""``tomopick.adapt`` gives the model ``tomopick adapt`` gives, reports its steps and refuses
bad requests with the CLI's message."""

from __future__ import annotations

import pytest
import tomopick
from conftest import run


def test_same_adapted_model_as_the_cli_and_it_picks(small_tomogram, cli, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    seen = []
    model = tomopick.adapt(rec, tmp_path / "py", steps=2, progress=lambda d, t: seen.append((d, t)))
    assert model == str(tmp_path / "py" / "model.bpk")
    assert seen[-1] == (2, 2)
    run(cli, "adapt", str(rec), "-o", str(tmp_path / "cli"), "--steps", "2")
    # The same seed gives the same bits, from either front end.
    assert (tmp_path / "py" / "model.bpk").read_bytes() == (tmp_path / "cli" / "model.bpk").read_bytes()
    assert (tmp_path / "py" / "labels" / "00_reconstruction.csv").read_bytes() == (
        tmp_path / "cli" / "labels" / "00_reconstruction.csv").read_bytes()
    picks = tomopick.pick(rec, model=model, progress=False)
    assert len(picks) > 0


def test_bad_requests_name_the_problem(small_tomogram, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    with pytest.raises(tomopick.InputError, match="user-fraction 0"):
        tomopick.adapt(rec, tmp_path / "a", user_fraction=0.0, progress=False)
    with pytest.raises(FileNotFoundError, match="missing.mrc"):
        tomopick.adapt(tmp_path / "missing.mrc", tmp_path / "b", progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(tomopick.InputError, match="not an adapt run"):
        tomopick.adapt(rec, tmp_path / "busy", steps=1, progress=False)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_given_labels_are_what_it_trains_on(small_tomogram, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    truth = small_tomogram / "particle_locations.txt"
    model = tomopick.adapt(rec, tmp_path / "given", steps=1, labels=truth, progress=False)
    assert model.endswith("model.bpk")
    n_truth = sum(1 for line in truth.read_text().splitlines() if line.strip())
    labelled = (tmp_path / "given" / "labels" / "00_reconstruction.csv").read_text().splitlines()
    assert len(labelled) == n_truth + 1
    with pytest.raises(tomopick.InputError, match="1 lists for 2 tomograms"):
        tomopick.adapt([rec, rec], tmp_path / "two", labels=[truth], progress=False)


def test_the_samples_classes_name_the_labels_as_the_cli_does(small_tomogram, cli, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    three = ["4v94", "1bxn", "3cf3"]
    tomopick.adapt(rec, tmp_path / "py", steps=1, classes=three, progress=False)
    run(cli, "adapt", str(rec), "-o", str(tmp_path / "cli"), "--steps", "1", "--classes", ",".join(three))
    labels = (tmp_path / "py" / "labels" / "00_reconstruction.csv").read_text()
    assert labels == (tmp_path / "cli" / "labels" / "00_reconstruction.csv").read_text()
    named = {line.split(",")[0] for line in labels.splitlines()[1:]}
    assert named <= set(three)  # (the CLI test checks a tomogram with many labels)
    with pytest.raises(tomopick.InputError, match="'ribosome' is not one of the model's classes"):
        tomopick.adapt(rec, tmp_path / "bad", classes=["ribosome"], progress=False)
