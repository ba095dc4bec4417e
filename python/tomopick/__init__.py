"""tomopick: find and identify macromolecules in cryo-electron tomograms, on the CPU you have.

The same library as the ``tomopick`` command line, called from Python::

    import tomopick
    picks = tomopick.pick("TS_01.mrc")                      # pandas DataFrame, positions in Å
    picks = tomopick.pick(volume, voxel_size=10.0)          # a numpy volume indexed [z, y, x]
    tomopick.write_particles(picks, "TS_01.star")           # RELION, copick, CSV, SHREC, IMOD

Positions are in Å from the centre of voxel (0, 0, 0), ``x, y, z``; volumes are numpy arrays
indexed ``[z, y, x]`` (as mrcfile gives them). A DataFrame's ``attrs`` carry the voxel size
(Å), the tomogram's shape ``(x, y, z)`` in voxels and the model's class order, which
``write_particles`` uses for pixel-based formats. Errors are ``tomopick.InputError`` (a
``ValueError``) for input tomopick cannot use and ``OSError`` subclasses for files the system
refuses, each with the message the command line prints.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Optional, Union

import numpy as np
import pandas as pd

from . import _tomopick
from ._tomopick import InputError, TomopickError

__version__ = _tomopick.__version__
__all__ = [
    "pick",
    "adapt",
    "classify",
    "match_templates",
    "simulate_tomogram",
    "evaluate",
    "read_particles",
    "write_particles",
    "TomopickError",
    "InputError",
]

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[PathLike, np.ndarray]
Progress = Union[bool, None, Callable[[int, int], Any]]


def _frame(columns: dict, attrs: Optional[dict] = None) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    if attrs:
        df.attrs.update(attrs)
    return df


def _columns(df: pd.DataFrame) -> dict:
    """The columns tomopick reads, as arrays and lists."""
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    missing = [c for c in ("class", "x", "y", "z") if c not in df.columns]
    if missing:
        raise InputError(f"particles: no column {', '.join(repr(m) for m in missing)}")
    cols: dict = {"class": [str(c) for c in df["class"]]}
    for name in ("x", "y", "z", "score", "rot", "tilt", "psi"):
        if name in df.columns:
            cols[name] = np.ascontiguousarray(df[name].to_numpy(dtype=np.float64, na_value=np.nan))
    if "tomogram" in df.columns:
        cols["tomogram"] = [None if pd.isna(t) else str(t) for t in df["tomogram"]]
    return cols


def _source(source: Source) -> Any:
    if isinstance(source, np.ndarray):
        if source.ndim != 3:
            raise InputError(f"a volume must be 3D [z, y, x]; this one has {source.ndim} axes")
        return np.ascontiguousarray(source, dtype=np.float32)
    return os.fspath(source)


def _progress(progress: Progress, what: str) -> Optional[Callable[[int, int], None]]:
    if callable(progress):
        return progress
    if not progress or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if total and done >= total else ""
        print(f"\r{what} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _given(**keywords: Any) -> dict:
    """The keywords that were given (not None): the rest keep the library's defaults."""
    return {k: v for k, v in keywords.items() if v is not None}


def pick(
    source: Source,
    voxel_size: Optional[float] = None,
    model: Optional[PathLike] = None,
    threshold: Optional[float] = None,
    refine_classes: bool = False,
    classifier: Optional[PathLike] = None,
    tile: Optional[int] = None,
    progress: Progress = True,
    match_templates: bool = False,
    tilt_max: float = 60.0,
    template_rotations: int = 1500,
    class_scores: bool = False,
    classes: Optional[list] = None,
    defocus: Optional[float] = None,
    phase_flipped: bool = False,
    ctf_power: Optional[float] = None,
    hand: str = "auto",
    voltage: Optional[float] = None,
    cs: Optional[float] = None,
    amplitude_contrast: Optional[float] = None,
) -> pd.DataFrame:
    """Find particles in a tomogram with the detector, as ``tomopick pick`` does.

    ``source`` is a tomogram file (MRC, ``.mrc.gz``, TIFF, OME-Zarr) or a numpy volume indexed
    ``[z, y, x]`` (then ``voxel_size`` in Å is required; it is copied once). ``voxel_size``
    overrides a file's header. ``model`` is a detector file (default: the shipped model,
    13 SHREC 2021 classes at 10 Å; ``"fast"``: the shipped fast one, 3.6× faster and a little
    less accurate); tomograms at another voxel size are resampled to it.
    ``threshold`` replaces the model's per-class thresholds; ``refine_classes`` gives a pick the
    classifier's class where the classifier is at least 70 % sure of it (no pick is dropped). ``progress``: a bar on a terminal, ``False``,
    or a callable ``f(done, total)`` over tiles. Ctrl-C stops the pick.

    ``match_templates`` names each pick's class by template matching, as ``pick
    --match-templates`` does (the better way to the right class on tomograms unlike the
    training data; about 0.1–0.3 s per pick on 2 cores): ``tilt_max`` is the tilt series'
    largest tilt in degrees (the missing wedge; 90: none), ``template_rotations`` the
    orientations tried per class, ``defocus`` the tilt series' mean defocus in µm (underfocus
    positive; the templates get the CTF's sign and the square root of its magnitude; the
    microscope 300 kV, Cs 2.7 mm, amplitude contrast 0.07 unless ``voltage`` (kV), ``cs`` (mm)
    or ``amplitude_contrast`` say otherwise), ``phase_flipped`` whether the projections were CTF-corrected before
    reconstruction (the templates' CTF then has no sign changes), ``ctf_power`` the power of
    the CTF's magnitude (default 0.5; 1: the CTF itself) and ``hand`` the tomogram's hand
    against the atomic models': ``"auto"`` (told from the picks; ``attrs["hand"]`` says what
    was found), ``"as-is"`` or ``"mirrored"`` (along z).
    ``class_scores`` adds every class's scores as columns, as
    ``pick --class-scores`` writes them: ``p_<class>`` (the detector's probability) and, with
    ``match_templates``, ``cc_<class>`` (correlation) and ``z_<class>`` (standardised score;
    its highest names the pick).
    ``classes`` names the classes the sample holds, when known (e.g. ``["4v94", "1bxn"]``, as
    ``pick --classes``): every pick is named the most probable of these.

    Returns a DataFrame with ``class``, ``x``, ``y``, ``z`` (Å), ``score`` and, for files,
    ``tomogram``; ``attrs`` hold ``voxel_size``, ``shape`` (x, y, z) and ``classes`` (and
    ``template_changes``, the picks template matching renamed).
    """
    cols, attrs = _tomopick.pick(
        _source(source),
        voxel_size=voxel_size,
        model=None if model is None else os.fspath(model),
        threshold=threshold,
        refine_classes=refine_classes,
        classifier=None if classifier is None else os.fspath(classifier),
        tile=tile,
        progress=_progress(progress, "tiles"),
        match_templates=match_templates,
        tilt_max=tilt_max,
        template_rotations=template_rotations,
        class_scores=class_scores,
        classes=None if classes is None else [str(c) for c in classes],
        defocus=defocus,
        phase_flipped=phase_flipped,
        ctf_power=ctf_power,
        hand=hand,
        **_given(voltage=voltage, cs=cs, amplitude_contrast=amplitude_contrast),
    )
    return _frame(cols, attrs)


def adapt(
    tomograms: Union[PathLike, list],
    output: PathLike,
    model: Optional[PathLike] = None,
    steps: int = 200,
    seed: int = 1,
    user_fraction: float = 0.5,
    voxel_size: Optional[float] = None,
    progress: Progress = True,
    match_templates: bool = False,
    tilt_max: float = 60.0,
    template_rotations: int = 1500,
    labels: Union[PathLike, list, None] = None,
    classes: Optional[list] = None,
    defocus: Optional[float] = None,
    phase_flipped: bool = False,
    ctf_power: Optional[float] = None,
    hand: str = "auto",
    voltage: Optional[float] = None,
    cs: Optional[float] = None,
    amplitude_contrast: Optional[float] = None,
) -> str:
    """Adapt the detector to your own tomograms, as ``tomopick adapt`` does;
    returns the adapted model's path (``output/model.bpk``) for ``pick(..., model=...)``.

    The model (default: the shipped one) picks each tomogram file; those picks become its
    labels; the model is fine-tuned for ``steps`` steps of 8 cubes of 64³, ``user_fraction``
    of them cut from the tomograms, the rest simulated (about 2–3 minutes on 2 cores). The
    adapted model carries one pick threshold for all classes. ``output`` is the run folder:
    the same call after a stop (Ctrl-C raises ``KeyboardInterrupt`` after a checkpoint)
    continues it. ``progress``: a bar on a terminal, ``False``, or ``f(step, steps)``.
    ``match_templates`` (with ``tilt_max``, ``template_rotations``, ``defocus``,
    ``phase_flipped``, ``ctf_power``, ``hand``, ``voltage``, ``cs`` and
    ``amplitude_contrast``, as in ``pick``) names the
    labels' classes by template matching, so that the adapted model learns those names.
    ``labels``: the tomograms' own particle lists (one file per tomogram, same order, the
    model's class names) to fine-tune on instead of the model's picks. ``classes``: the classes
    the sample holds, when known (as ``pick(..., classes=[...])``): the labels are named among
    them, so that the adapted model learns to name them.
    """
    if isinstance(tomograms, (str, os.PathLike)):
        tomograms = [tomograms]
    if isinstance(labels, (str, os.PathLike)):
        labels = [labels]
    return os.fspath(_tomopick.adapt(
        [os.fspath(t) for t in tomograms],
        os.fspath(output),
        model=None if model is None else os.fspath(model),
        steps=steps,
        seed=seed,
        user_fraction=user_fraction,
        voxel_size=voxel_size,
        progress=_progress(progress, "training steps"),
        match_templates=match_templates,
        tilt_max=tilt_max,
        template_rotations=template_rotations,
        labels=None if labels is None else [os.fspath(p) for p in labels],
        classes=None if classes is None else [str(c) for c in classes],
        defocus=defocus,
        phase_flipped=phase_flipped,
        ctf_power=ctf_power,
        hand=hand,
        **_given(voltage=voltage, cs=cs, amplitude_contrast=amplitude_contrast),
    ))


def classify(
    source: Source,
    particles: pd.DataFrame,
    voxel_size: Optional[float] = None,
    model: Optional[PathLike] = None,
    smooth: Optional[float] = None,
    skip_border: bool = False,
    progress: Progress = True,
) -> pd.DataFrame:
    """Classify and segment a box around each particle, as ``tomopick classify`` does.

    ``particles`` needs ``class``, ``x``, ``y``, ``z`` (Å). Returns one row per box: the
    classifier's ``class`` and its probability as ``score``, ``input_class``, ``padded``
    (the box crossed the border) and ``p_<class>`` for every class of the model.
    """
    cols = _tomopick.classify(
        _source(source),
        _columns(particles),
        voxel_size=voxel_size,
        model=None if model is None else os.fspath(model),
        smooth=smooth,
        skip_border=skip_border,
        progress=_progress(progress, "boxes"),
    )
    return _frame(cols, dict(particles.attrs) if hasattr(particles, "attrs") else None)


def match_templates(
    source: Source,
    particles: pd.DataFrame,
    voxel_size: Optional[float] = None,
    classes: Optional[list] = None,
    templates: Union[PathLike, list, None] = None,
    tilt_max: float = 60.0,
    rotations: int = 1500,
    refine: int = 0,
    background: int = 200,
    protein: str = "auto",
    defocus: Optional[float] = None,
    phase_flipped: bool = False,
    ctf_power: Optional[float] = None,
    hand: str = "auto",
    progress: Progress = True,
    voltage: Optional[float] = None,
    cs: Optional[float] = None,
    amplitude_contrast: Optional[float] = None,
    seed: Optional[int] = None,
    lowpass: Optional[float] = None,
    highpass: Optional[float] = None,
    shift: Optional[int] = None,
    whiten: bool = False,
    naming_exponent: Optional[float] = None,
) -> pd.DataFrame:
    """Name each particle by the class whose template fits best, as ``tomopick
    match-templates`` does: particles found by anything (another picker, a copick project, by
    hand) get a class from simulated templates of the atomic models.

    ``particles`` needs ``class``, ``x``, ``y``, ``z`` (Å). ``classes``: the classes to
    simulate templates for (shipped names such as ``"4v94"``, ``"name=file.pdb"`` or
    PDB/mmCIF/MRC paths; default the 13 SHREC 2021 classes); or ``templates``: density maps
    (MRC, protein positive, the tomogram's voxel size; the class is the file name) or a folder
    of them. ``tilt_max``: the tilt series' largest tilt in degrees (the missing wedge; 90:
    none). ``rotations``: orientations per class; ``refine``: re-score only the best this many
    at every shift (faster). ``background``: places of the tomogram, away from the particles,
    that standardise each class's scores (0: over the particles, for samples that hold their
    classes in about equal numbers). ``protein``: ``"dark"``, ``"bright"`` or ``"auto"``.
    ``defocus``, ``phase_flipped``, ``ctf_power``, ``hand``, ``voltage``, ``cs`` and
    ``amplitude_contrast`` as in ``pick``. The command line's rarer options under the same
    names (defaults as there): ``seed`` (of the orientations and places), ``lowpass`` and
    ``highpass`` (Å), ``shift`` (voxels tried around each particle), ``whiten`` and
    ``naming_exponent``.

    Returns the particles with the matched ``class``, its standardised score as ``score``,
    ``input_class``, and ``cc_<class>`` (correlation) and ``z_<class>`` (standardised score)
    for every class; ``attrs`` hold ``voxel_size``, ``shape``, ``classes``, ``hand`` (what the
    particles said about the tomogram's hand), ``mirrored``, ``protein_bright`` and
    ``box_size``.
    """
    if isinstance(templates, (str, os.PathLike)):
        templates = [templates]
    cols, attrs = _tomopick.match_templates(
        _source(source),
        _columns(particles),
        voxel_size=voxel_size,
        classes=None if classes is None else [str(c) for c in classes],
        templates=None if templates is None else [os.fspath(t) for t in templates],
        tilt_max=tilt_max,
        rotations=rotations,
        refine=refine,
        background=background,
        protein=protein,
        defocus=defocus,
        phase_flipped=phase_flipped,
        ctf_power=ctf_power,
        hand=hand,
        progress=_progress(progress, "particles"),
        whiten=whiten,
        **_given(voltage=voltage, cs=cs, amplitude_contrast=amplitude_contrast, seed=seed,
                 lowpass=lowpass, highpass=highpass, shift=shift,
                 naming_exponent=naming_exponent),
    )
    return _frame(cols, attrs)


def simulate_tomogram(
    seed: int = 0,
    shape: Optional[tuple] = None,
    particles: Optional[int] = None,
    classes: Optional[list] = None,
    voxel_size: Optional[float] = None,
    route: Optional[str] = None,
    config: Optional[PathLike] = None,
) -> tuple:
    """Simulate a crowded tomogram with exact ground truth, as ``tomopick simulate tomogram``.

    Defaults are SHREC-like (512 × 512 × 200 voxels of 10 Å, tilt series ±60°); ``shape`` is
    (x, y, z) in voxels, ``route`` ``"tilt"`` or ``"fast"``, ``config`` a TOML file. The same
    seed gives the same bits. Returns ``(volume, truth)``: a float32 array ``[z, y, x]`` and a
    DataFrame of the true particles (Å) whose ``attrs`` hold ``voxel_size``, ``shape``,
    ``classes`` and ``radius`` (Å per class).
    """
    volume, cols, attrs = _tomopick.simulate_tomogram(
        seed=seed,
        shape=None if shape is None else tuple(int(s) for s in shape),
        particles=particles,
        classes=classes,
        voxel_size=voxel_size,
        route=route,
        config=None if config is None else os.fspath(config),
    )
    return volume, _frame(cols, attrs)


def evaluate(
    picks: pd.DataFrame,
    truth: pd.DataFrame,
    radius: Union[float, dict, None] = None,
    voxel_size: Optional[float] = None,
    shape: Optional[tuple] = None,
    threshold: float = 0.5,
    beta: float = 4.0,
    weights: Optional[dict] = None,
) -> dict:
    """Score picks against a truth, as ``tomopick evaluate`` does: CZII F-beta (a pick within
    ``threshold`` × the class radius) and, when ``shape`` and ``voxel_size`` are known (given, or
    in ``truth.attrs``), SHREC's class-agnostic and per-class F1. ``radius``: Å for every class
    or a dict per class (default: ``truth.attrs["radius"]``). Returns the report as a dict.
    """
    attrs = getattr(truth, "attrs", {}) or {}
    radius = attrs.get("radius") if radius is None else radius
    if radius is None:
        raise InputError("no particle radii: pass radius= (Å, or a dict of Å per class)")
    voxel_size = attrs.get("voxel_size") if voxel_size is None else voxel_size
    shape = attrs.get("shape") if shape is None else shape
    text = _tomopick.evaluate(
        _columns(picks),
        _columns(truth),
        radius,
        voxel_size=voxel_size,
        shape=None if shape is None else tuple(int(s) for s in shape),
        threshold=threshold,
        beta=beta,
        weights=weights,
    )
    return json.loads(text)


def read_particles(
    path: PathLike,
    voxel_size: Optional[float] = None,
    binning: Optional[float] = None,
    shape: Optional[tuple] = None,
    format: Optional[str] = None,
) -> pd.DataFrame:
    """Read a particle list: RELION 3/4/5 STAR, copick JSON, SHREC text, IMOD model, CSV.

    Pixel-based formats need ``voxel_size`` (Å; ``binning`` when the list counts finer pixels,
    ``shape`` (x, y, z) for RELION 5 centred coordinates). Positions come back in Å.
    """
    cols = _tomopick.read_particles(
        os.fspath(path),
        voxel_size=voxel_size,
        binning=binning,
        shape=None if shape is None else tuple(int(s) for s in shape),
        format=format,
    )
    attrs = {k: v for k, v in (("voxel_size", voxel_size), ("shape", shape)) if v is not None}
    return _frame(cols, attrs)


def write_particles(
    particles: pd.DataFrame,
    path: PathLike,
    format: Optional[str] = None,
    voxel_size: Optional[float] = None,
    binning: Optional[float] = None,
    shape: Optional[tuple] = None,
    classes: Optional[list] = None,
) -> None:
    """Write a particle list; the format from the extension (``.csv``, ``.star``, ``.json``,
    ``.txt``) or ``format`` (csv, relion4, relion5, copick, shrec, imod, points). Voxel size,
    shape and class order default to ``particles.attrs``. The file appears whole or not at all.
    """
    attrs = getattr(particles, "attrs", {}) or {}
    voxel_size = attrs.get("voxel_size") if voxel_size is None else voxel_size
    shape = attrs.get("shape") if shape is None else shape
    classes = attrs.get("classes") if classes is None else classes
    _tomopick.write_particles(
        _columns(particles),
        os.fspath(path),
        format=format,
        voxel_size=voxel_size,
        binning=binning,
        shape=None if shape is None else tuple(int(s) for s in shape),
        classes=None if classes is None else [str(c) for c in classes],
    )
