"""Template matching from Python names any particle list as `tomopick match-templates` does,
tells a mirrored tomogram's hand, and refuses what it cannot use."""

from __future__ import annotations

import mrcfile
import numpy as np
import pandas as pd
import pytest
import tomopick
from conftest import run

FAST = dict(rotations=50, progress=False)


@pytest.fixture(scope="module")
def truth(small_tomogram):
    return tomopick.read_particles(small_tomogram / "particle_locations.txt", voxel_size=10.0)


def test_the_same_names_and_scores_as_the_cli(small_tomogram, truth, cli, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    named = tomopick.match_templates(rec, truth, **FAST)
    classes = named.attrs["classes"]
    assert len(classes) == 13 and len(named) == len(truth)
    assert list(named["input_class"]) == list(truth["class"])
    z = named[[f"z_{c}" for c in classes]].to_numpy()
    assert list(named["class"]) == [classes[k] for k in z.argmax(axis=1)]
    assert named.attrs["voxel_size"] == pytest.approx(10.0)
    assert tuple(named.attrs["shape"]) == (96, 96, 48)
    run(cli, "match-templates", str(rec), "--picks", str(small_tomogram / "particle_locations.txt"),
        "--rotations", "50", "-o", str(tmp_path / "cli.csv"))
    cli_rows = pd.read_csv(tmp_path / "cli.csv")
    assert list(cli_rows["class"]) == list(named["class"])
    for prefix in ("cc_", "z_"):
        cols = [f"{prefix}{c}" for c in classes]
        assert np.allclose(cli_rows[cols].to_numpy(), named[cols].to_numpy(), atol=6e-5)
    # Named right at least twice as often as chance (1 in 13), with only 50 orientations.
    assert (named["class"] == named["input_class"]).mean() > 2 / 13


def test_every_option_of_the_cli(small_tomogram, truth, cli, tmp_path):
    """The command line's rarer options under the same names: the same names and scores."""
    rec = small_tomogram / "reconstruction.mrc"
    rare = dict(seed=3, lowpass=30.0, highpass=250.0, shift=0, whiten=True, naming_exponent=0.0,
                defocus=4.0, voltage=200.0, cs=2.0, amplitude_contrast=0.1)
    named = tomopick.match_templates(rec, truth, **rare, **FAST)
    run(cli, "match-templates", str(rec), "--picks", str(small_tomogram / "particle_locations.txt"),
        "--rotations", "50", "--seed", "3", "--lowpass", "30", "--highpass", "250", "--shift", "0",
        "--whiten", "--naming-exponent", "0", "--defocus", "4", "--voltage", "200", "--cs", "2",
        "--amplitude-contrast", "0.1", "-o", str(tmp_path / "cli.csv"))
    cli_rows = pd.read_csv(tmp_path / "cli.csv")
    assert list(cli_rows["class"]) == list(named["class"])
    z = [f"z_{c}" for c in named.attrs["classes"]]
    assert np.allclose(cli_rows[z].to_numpy(), named[z].to_numpy(), atol=6e-5)
    # Each option reaches the matching: the defaults score otherwise.
    plain = tomopick.match_templates(rec, truth, **FAST)
    assert not np.allclose(plain[z].to_numpy(), named[z].to_numpy(), atol=1e-3)


def test_a_tomogram_mirrored_along_z_matches_as_mirrored(small_tomogram, truth):
    with mrcfile.open(small_tomogram / "reconstruction.mrc") as m:
        volume = np.array(m.data)
    as_made = tomopick.match_templates(volume, truth, voxel_size=10.0, **FAST)
    # auto compares the particles' fit in both hands and says what it found.
    assert not as_made.attrs["mirrored"] and as_made.attrs["hand"].startswith("hand: ")
    flipped = truth.copy()
    flipped["z"] = (volume.shape[0] - 1) * 10.0 - truth["z"]
    mirrored = tomopick.match_templates(volume[::-1].copy(), flipped, voxel_size=10.0,
                                        hand="mirrored", **FAST)
    assert mirrored.attrs["mirrored"]
    # Each particle's correlations come back; its names nearly all (the reference places that
    # standardise the scores are drawn anew in the mirrored tomogram).
    cc = [f"cc_{c}" for c in as_made.attrs["classes"]]
    assert np.allclose(mirrored[cc].to_numpy(), as_made[cc].to_numpy(), atol=2e-3)
    assert (mirrored["class"] == as_made["class"]).mean() > 0.8
    as_is = tomopick.match_templates(volume[::-1].copy(), flipped, voxel_size=10.0, hand="as-is",
                                     **FAST)
    assert not as_is.attrs["mirrored"] and as_is.attrs["hand"] is None
    assert not np.allclose(as_is[cc].to_numpy(), as_made[cc].to_numpy(), atol=2e-3)


def test_given_classes_and_template_maps(small_tomogram, truth, cli, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    two = tomopick.match_templates(rec, truth, classes=["4v94", "1bxn"], **FAST)
    assert two.attrs["classes"] == ["4v94", "1bxn"] and set(two["class"]) <= {"4v94", "1bxn"}
    maps = tmp_path / "maps"
    run(cli, "simulate", "template", "--classes", "4v94,1bxn", "--voxel-size", "10", "-o", str(maps))
    from_maps = tomopick.match_templates(rec, truth, templates=maps, **FAST)
    assert from_maps.attrs["classes"] == ["1bxn", "4v94"]
    assert set(from_maps["class"]) <= {"4v94", "1bxn"}


def test_bad_arguments_are_refused_with_their_name(small_tomogram, truth, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    with pytest.raises(tomopick.InputError, match="hand 'left'"):
        tomopick.match_templates(rec, truth, hand="left", **FAST)
    with pytest.raises(tomopick.InputError, match="ctf_power= shapes the CTF of defocus=: add defocus="):
        tomopick.match_templates(rec, truth, ctf_power=0.25, **FAST)
    with pytest.raises(tomopick.InputError, match="voltage= and cs= shape the CTF"):
        tomopick.match_templates(rec, truth, voltage=200.0, cs=2.0, **FAST)
    with pytest.raises(tomopick.InputError, match="voltage= is for template matching"):
        tomopick.pick(rec, progress=False, voltage=200.0)
    with pytest.raises(tomopick.InputError, match="high-pass"):
        tomopick.match_templates(rec, truth, highpass=15.0, **FAST)
    with pytest.raises(tomopick.InputError, match="give one"):
        tomopick.match_templates(rec, truth, classes=["4v94"], templates=tmp_path, **FAST)
    with pytest.raises(tomopick.InputError, match="no .mrc templates"):
        tomopick.match_templates(rec, truth, templates=tmp_path, **FAST)
    with pytest.raises(tomopick.InputError, match="match_templates=True"):
        tomopick.pick(rec, progress=False, hand="mirrored")
    with pytest.raises(tomopick.InputError, match="hand 'left'"):
        tomopick.adapt(rec, tmp_path / "adapted", match_templates=True, hand="left", progress=False)
    assert not (tmp_path / "adapted").exists()
    outside = truth.copy()
    outside.loc[0, "x"] = 5000.0
    with pytest.raises(tomopick.InputError, match="particles"):
        tomopick.match_templates(rec, outside, **FAST)
