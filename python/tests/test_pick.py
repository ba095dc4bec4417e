"""The picker from Python gives what the CLI gives, takes numpy volumes, reports progress,
stops on Ctrl-C and does not leak."""

from __future__ import annotations

import os
import resource
import signal
import threading

import mrcfile
import numpy as np
import pandas as pd
import pytest
import tomopick
from conftest import run


def test_same_picks_as_the_cli_byte_for_byte(small_tomogram, cli, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    run(cli, "pick", str(rec), "-o", str(tmp_path / "cli.csv"))
    run(cli, "pick", str(rec), "-o", str(tmp_path / "cli.star"))
    picks = tomopick.pick(rec, progress=False)
    assert len(picks) > 10
    assert picks.attrs["voxel_size"] == pytest.approx(10.0)
    assert tuple(picks.attrs["shape"]) == (96, 96, 48)
    assert set(picks["class"]) <= set(picks.attrs["classes"])
    tomopick.write_particles(picks, tmp_path / "py.csv")
    tomopick.write_particles(picks, tmp_path / "py.star")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert (tmp_path / "py.star").read_bytes() == (tmp_path / "cli.star").read_bytes()


def test_template_matching_names_classes_and_gives_every_score_as_the_cli(small_tomogram, cli, tmp_path):
    rec = small_tomogram / "reconstruction.mrc"
    picks = tomopick.pick(rec, progress=False, match_templates=True, template_rotations=50,
                          class_scores=True)
    classes = picks.attrs["classes"]
    assert len(picks) > 10 and 0 <= picks.attrs["template_changes"] <= len(picks)
    p = picks[[f"p_{c}" for c in classes]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-4) and (p >= 0).all()
    cc = picks[[f"cc_{c}" for c in classes]].to_numpy()
    z = picks[[f"z_{c}" for c in classes]].to_numpy()
    assert (np.abs(cc) <= 1 + 1e-5).all()
    # Each class's scores are standardised against places of the tomogram away from the
    # picks; the named class is the one of highest standardised score.
    assert list(picks["class"]) == [classes[k] for k in z.argmax(axis=1)]
    run(cli, "pick", str(rec), "-o", str(tmp_path / "cli.csv"), "--match-templates",
        "--template-rotations", "50", "--class-scores", str(tmp_path / "scores.csv"))
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert list(scores["class"]) == list(picks["class"])
    for prefix, values in (("p_", p), ("cc_", cc), ("z_", z)):
        cols = [f"{prefix}{c}" for c in classes]
        assert np.allclose(scores[cols].to_numpy(), values, atol=6e-5)
    # Without class_scores the frame keeps its usual columns.
    plain = tomopick.pick(rec, progress=False)
    assert not any(c.startswith("p_") for c in plain.columns)
    with pytest.raises(tomopick.InputError, match="choose one"):
        tomopick.pick(rec, progress=False, match_templates=True, refine_classes=True)
    # The tilt series' CTF given to the templates: the same names as the CLI's --defocus.
    ctf = tomopick.pick(rec, progress=False, match_templates=True, template_rotations=50,
                        defocus=3.0, class_scores=True)
    run(cli, "pick", str(rec), "-o", str(tmp_path / "ctf.csv"), "--match-templates",
        "--template-rotations", "50", "--defocus", "3")
    assert list(pd.read_csv(tmp_path / "ctf.csv")["class"]) == list(ctf["class"])
    assert not np.allclose(ctf[[f"cc_{c}" for c in classes]].to_numpy(), cc)
    with pytest.raises(tomopick.InputError, match="match_templates=True"):
        tomopick.pick(rec, progress=False, defocus=3.0)


def test_classes_name_every_pick_among_the_samples_classes(small_tomogram):
    rec = small_tomogram / "reconstruction.mrc"
    plain = tomopick.pick(rec, progress=False, threshold=0.3)
    held = tomopick.pick(rec, progress=False, threshold=0.3, classes=["4v94", "1bxn"])
    assert len(plain) > 5 and set(held["class"]) <= {"4v94", "1bxn"}
    cols = ["x", "y", "z", "score"]
    assert held[cols].equals(plain[cols])
    with pytest.raises(tomopick.InputError, match="'ribosome' is not one of the model's classes"):
        tomopick.pick(rec, progress=False, classes=["ribosome"])


def test_a_numpy_volume_picks_as_its_file(small_tomogram):
    rec = small_tomogram / "reconstruction.mrc"
    from_file = tomopick.pick(rec, progress=False)
    with mrcfile.open(rec) as m:
        volume = np.array(m.data)
    from_array = tomopick.pick(volume, voxel_size=10.0, progress=False)
    cols = ["class", "x", "y", "z", "score"]
    assert from_array[cols].equals(from_file[cols])
    # Another dtype and a non-contiguous view are converted, not refused.
    from_f64 = tomopick.pick(volume.astype(np.float64)[:, :, ::1], voxel_size=10.0, progress=False)
    assert from_f64[cols].equals(from_file[cols])


def test_a_numpy_volume_at_another_voxel_size_is_resampled(small_tomogram):
    with mrcfile.open(small_tomogram / "reconstruction.mrc") as m:
        volume = np.array(m.data)
    # The same volume said to be at 8 Å: resampled to the model's 10 Å, positions still in Å.
    picks = tomopick.pick(volume, voxel_size=8.0, progress=False)
    assert "resampled" in picks.attrs
    assert picks[["x", "y", "z"]].max().max() <= 96 * 8.0


def test_progress_is_reported_and_a_raising_callback_stops_the_pick(small_tomogram):
    rec = small_tomogram / "reconstruction.mrc"
    seen = []
    tomopick.pick(rec, tile=48, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] > 1

    def stop(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        tomopick.pick(rec, tile=48, progress=stop)


def test_ctrl_c_interrupts_a_long_pick():
    # Large enough that the pick (about 1 s with the fast kernels on 2 idle cores) is still
    # running when the signal comes; 192 x 192 x 96 could finish first on a quiet machine.
    # Python leaves SIGINT ignored when it starts as a background job of a non-interactive shell
    # (`.ci/run &`), so the test installs the handler an interactive session has.
    volume, _ = tomopick.simulate_tomogram(seed=3, shape=(384, 384, 96), particles=50, route="fast")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            tomopick.pick(volume, voxel_size=10.0, tile=48, progress=False)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_memory_does_not_grow_over_20_picks(small_tomogram):
    rec = small_tomogram / "reconstruction.mrc"
    for _ in range(3):
        tomopick.pick(rec, progress=False)
    before = _rss_mb()
    for _ in range(20):
        tomopick.pick(rec, progress=False)
    grown = _rss_mb() - before
    assert grown < 40, f"resident memory grew by {grown:.1f} MiB over 20 picks"


def test_classify_gives_a_probability_per_class(small_tomogram):
    truth = tomopick.read_particles(small_tomogram / "particles.csv")
    out = tomopick.classify(small_tomogram / "reconstruction.mrc", truth.head(8), progress=False)
    assert len(out) == 8
    p = out[[c for c in out.columns if c.startswith("p_")]]
    assert "p_membrane" in p.columns
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-3)
    assert (out["score"] == p.max(axis=1).round(6)).all() or np.allclose(out["score"], p.max(axis=1))
    assert list(out["input_class"]) == list(truth.head(8)["class"])
