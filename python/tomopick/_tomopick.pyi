"""Type stubs of the extension module; ``tomopick/__init__.py`` wraps it in DataFrames."""

from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

__version__: str

class TomopickError(Exception):
    """Base class of tomopick's errors."""

class InputError(TomopickError, ValueError):
    """A file, list or option tomopick cannot use as it is."""

Columns = dict[str, Any]

def pick(
    source: str | np.ndarray,
    voxel_size: Optional[float] = None,
    model: Optional[str] = None,
    threshold: Optional[float] = None,
    refine_classes: bool = False,
    classifier: Optional[str] = None,
    tile: Optional[int] = None,
    progress: Optional[Callable[[int, int], Any]] = None,
    match_templates: bool = False,
    tilt_max: float = 60.0,
    template_rotations: int = 1500,
    class_scores: bool = False,
    classes: Optional[list[str]] = None,
    defocus: Optional[float] = None,
    phase_flipped: bool = False,
    ctf_power: Optional[float] = None,
    hand: str = "auto",
    voltage: Optional[float] = None,
    cs: Optional[float] = None,
    amplitude_contrast: Optional[float] = None,
) -> tuple[Columns, dict[str, Any]]: ...
def adapt(
    tomograms: list[str],
    output: str,
    model: Optional[str] = None,
    steps: int = 200,
    seed: int = 1,
    user_fraction: float = 0.5,
    voxel_size: Optional[float] = None,
    progress: Optional[Callable[[int, int], Any]] = None,
    match_templates: bool = False,
    tilt_max: float = 60.0,
    template_rotations: int = 1500,
    labels: Optional[list[str]] = None,
    classes: Optional[list[str]] = None,
    defocus: Optional[float] = None,
    phase_flipped: bool = False,
    ctf_power: Optional[float] = None,
    hand: str = "auto",
    voltage: Optional[float] = None,
    cs: Optional[float] = None,
    amplitude_contrast: Optional[float] = None,
) -> Path: ...
def classify(
    source: str | np.ndarray,
    particles: Columns,
    voxel_size: Optional[float] = None,
    model: Optional[str] = None,
    smooth: Optional[float] = None,
    skip_border: bool = False,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> Columns: ...
def match_templates(
    source: str | np.ndarray,
    particles: Columns,
    voxel_size: Optional[float] = None,
    classes: Optional[list[str]] = None,
    templates: Optional[list[str]] = None,
    tilt_max: float = 60.0,
    rotations: int = 1500,
    refine: int = 0,
    background: int = 200,
    protein: str = "auto",
    defocus: Optional[float] = None,
    phase_flipped: bool = False,
    ctf_power: Optional[float] = None,
    hand: str = "auto",
    progress: Optional[Callable[[int, int], Any]] = None,
    voltage: Optional[float] = None,
    cs: Optional[float] = None,
    amplitude_contrast: Optional[float] = None,
    seed: int = 1,
    lowpass: float = 20.0,
    highpass: float = 150.0,
    shift: int = 1,
    whiten: bool = False,
    naming_exponent: float = 0.5,
) -> tuple[Columns, dict[str, Any]]: ...
def simulate_tomogram(
    seed: int = 0,
    shape: Optional[tuple[int, int, int]] = None,
    particles: Optional[int] = None,
    classes: Optional[list[str]] = None,
    voxel_size: Optional[float] = None,
    route: Optional[str] = None,
    config: Optional[str] = None,
) -> tuple[np.ndarray, Columns, dict[str, Any]]: ...
def evaluate(
    picks: Columns,
    truth: Columns,
    radius: float | dict[str, float],
    voxel_size: Optional[float] = None,
    shape: Optional[tuple[int, int, int]] = None,
    threshold: float = 0.5,
    beta: float = 4.0,
    weights: Optional[dict[str, float]] = None,
) -> str: ...
def read_particles(
    path: str,
    voxel_size: Optional[float] = None,
    binning: Optional[float] = None,
    shape: Optional[tuple[int, int, int]] = None,
    format: Optional[str] = None,
) -> Columns: ...
def write_particles(
    columns: Columns,
    path: str,
    format: Optional[str] = None,
    voxel_size: Optional[float] = None,
    binning: Optional[float] = None,
    shape: Optional[tuple[int, int, int]] = None,
    classes: Optional[list[str]] = None,
) -> None: ...
