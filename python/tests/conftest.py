"""Shared fixtures: a small simulated tomogram written by the CLI, and the CLI binary itself.

The CLI is found through ``TOMOPICK_BIN`` (CI sets it), else in ``$CARGO_TARGET_DIR`` or
``target/`` (release, then debug)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cli() -> Path:
    if os.environ.get("TOMOPICK_BIN"):
        return Path(os.environ["TOMOPICK_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("release", "debug"):
        p = target / profile / "tomopick"
        if p.exists():
            return p
    on_path = shutil.which("tomopick")
    if on_path:
        return Path(on_path)
    pytest.fail("no tomopick binary: build it (cargo build) or set TOMOPICK_BIN")


@pytest.fixture(scope="session")
def cli() -> Path:
    return _cli()


def run(cli: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli), "-q", *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def small_tomogram(tmp_path_factory, cli) -> Path:
    """A 96 × 96 × 48 tomogram of 40 particles at 10 Å (SHREC layout folder)."""
    out = tmp_path_factory.mktemp("sim") / "tomo"
    run(cli, "simulate", "tomogram", "--shape", "96,96,48", "--particles", "40", "--seed", "7", "-o", str(out))
    return out
