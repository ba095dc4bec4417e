//! `pick` and `classify`: the whole pipeline of `tomopick pick` / `tomopick classify` on a file
//! or a numpy volume, with the GIL released, progress reported and Ctrl-C honoured.

use crate::errors::{ToPyErr, bad_argument, check_voxel_size};
use crate::frames::{from_columns, to_columns};
use crate::templates::TemplateKeywords;
use numpy::{PyArray1, PyReadonlyArray3};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tomopick_io::{Volume, VoxelSize};
use tomopick_pick::classify::ClassifyOptions;
use tomopick_pick::{
    PickOptions, PickRequest, TomoSource, classify_tomogram, load_classifier, load_detector,
    model_pick_options, pick_source, pick_tomogram, sample_classes,
};

/// A tomogram given from Python: a file, or a volume `[z, y, x]` with its voxel size.
pub(crate) enum Input {
    File(PathBuf),
    Array(Volume),
}

/// The name of an array input in messages.
const ARRAY: &str = "<numpy array>";

impl Input {
    /// A path (str or os.PathLike) or a 3D float32 array `[z, y, x]` (copied once into the
    /// library's volume; `voxel_size` is then required).
    pub(crate) fn from_py(source: &Bound<'_, PyAny>, voxel_size: Option<f64>) -> PyResult<Self> {
        check_voxel_size(voxel_size)?;
        if let Ok(a) = source.extract::<PyReadonlyArray3<f32>>() {
            let v = voxel_size
                .ok_or_else(|| bad_argument("a numpy volume needs voxel_size= (Å per voxel)"))?;
            return Ok(Input::Array(Volume::new(
                a.as_array().to_owned(),
                VoxelSize::isotropic(v),
            )));
        }
        match source.extract::<PathBuf>() {
            Ok(p) => Ok(Input::File(p)),
            Err(_) => Err(bad_argument(
                "source: give a path or a 3D float32 numpy array indexed [z, y, x]",
            )),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Array(_) => Path::new(ARRAY),
        }
    }

    /// The opened tomogram (an MRC file streamed tile by tile).
    pub(crate) fn source(
        self,
        voxel_size: Option<f64>,
    ) -> tomopick_pick::error::Result<TomoSource> {
        match self {
            Input::File(p) => TomoSource::open(&p, voxel_size.map(VoxelSize::isotropic)),
            Input::Array(v) => Ok(TomoSource::Memory(v)),
        }
    }
}

/// Runs `work` on another thread while this one, without the GIL, checks for Ctrl-C and calls
/// `progress(done, total)` every 0.1 s; a signal or a raising callback sets `cancel` and is
/// raised once `work` has stopped.
pub(crate) fn interruptible<R: Send>(
    py: Python<'_>,
    cancel: &AtomicBool,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&(dyn Fn(usize, usize) + Sync)) -> R + Send,
) -> PyResult<R> {
    let (done, total, finished) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicBool::new(false),
    );
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let r = work(&|d, t| {
                total.store(t, Ordering::Relaxed);
                done.store(d, Ordering::Relaxed);
            });
            finished.store(true, Ordering::Release);
            r
        });
        let (mut failure, mut shown) = (None, usize::MAX);
        loop {
            py.detach(|| {
                let t0 = Instant::now();
                while !finished.load(Ordering::Acquire) && t0.elapsed() < Duration::from_millis(100)
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            let mut fail = |e: PyErr| {
                cancel.store(true, Ordering::Relaxed);
                failure.get_or_insert(e);
            };
            if let Err(e) = py.check_signals() {
                fail(e);
            }
            let d = done.load(Ordering::Relaxed);
            if let Some(cb) = progress
                && d != shown
            {
                shown = d;
                if let Err(e) = cb.call1((d, total.load(Ordering::Relaxed))) {
                    fail(e);
                }
            }
            if finished.load(Ordering::Acquire) {
                break;
            }
        }
        let r = worker.join().expect("the worker does not panic");
        match failure {
            Some(e) => Err(e),
            None => Ok(r),
        }
    })
}

/// Picks a tomogram (path or `[z, y, x]` float32 array) with the detector (`model`, default the
/// embedded one): returns the picks as columns and the attributes (voxel size, shape, classes).
#[pyfunction]
#[pyo3(signature = (source, voxel_size=None, model=None, threshold=None, refine_classes=false, classifier=None, tile=None, progress=None, match_templates=false, tilt_max=tomopick_pick::template_match::DEFAULT_TILT_MAX, template_rotations=tomopick_pick::template_match::DEFAULT_ROTATIONS, class_scores=false, classes=None, defocus=None, phase_flipped=false, ctf_power=None, hand="auto", voltage=None, cs=None, amplitude_contrast=None))]
#[allow(clippy::too_many_arguments)]
pub fn pick<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    voxel_size: Option<f64>,
    model: Option<PathBuf>,
    threshold: Option<f64>,
    refine_classes: bool,
    classifier: Option<PathBuf>,
    tile: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    match_templates: bool,
    tilt_max: f64,
    template_rotations: usize,
    class_scores: bool,
    classes: Option<Vec<String>>,
    defocus: Option<f64>,
    phase_flipped: bool,
    ctf_power: Option<f64>,
    hand: &str,
    voltage: Option<f64>,
    cs: Option<f64>,
    amplitude_contrast: Option<f64>,
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let templates = TemplateKeywords {
        defocus,
        phase_flipped,
        ctf_power,
        voltage,
        cs,
        amplitude_contrast,
        hand,
    }
    .pick_options(match_templates, tilt_max, template_rotations)?;
    let input = Input::from_py(source, voxel_size)?;
    let detector = py
        .detach(|| load_detector(model.as_deref()))
        .map_err(ToPyErr::to_py)?;
    let refiner = match refine_classes {
        true => Some(
            py.detach(|| load_classifier(classifier.as_deref()))
                .map_err(ToPyErr::to_py)?,
        ),
        false => None,
    };
    let defaults = model_pick_options(&detector, threshold);
    let cancel = AtomicBool::new(false);
    let req = PickRequest {
        detector: &detector,
        classifier: refiner.as_ref(),
        options: PickOptions {
            max_tile: tile.unwrap_or(defaults.max_tile),
            classes: match classes {
                Some(names) => Some(sample_classes(&detector, &names).map_err(ToPyErr::to_py)?),
                None => None,
            },
            ..defaults
        },
        voxel_size: voxel_size.map(VoxelSize::isotropic),
        keep_volume: false,
        cancel: Some(&cancel),
        templates,
    };
    req.check(classifier.as_deref()).map_err(ToPyErr::to_py)?;
    let name = match &input {
        Input::File(p) => Some(tomopick_pick::dataset::tomogram_name(p)),
        Input::Array(_) => None,
    };
    let picked = interruptible(py, &cancel, progress.as_ref(), |report| match input {
        Input::File(p) => pick_tomogram(&p, &req, report),
        Input::Array(v) => pick_source(TomoSource::Memory(v), Path::new(ARRAY), &req, report),
    })?
    .map_err(ToPyErr::to_py)?;
    let mut picks = picked.picks;
    for p in &mut picks {
        p.tomogram = name.clone();
    }
    let attrs = PyDict::new(py);
    attrs.set_item("voxel_size", picked.voxel_size.x)?;
    attrs.set_item("shape", picked.shape_xyz)?;
    attrs.set_item("classes", detector.config.classes.clone())?;
    if let Some(n) = name {
        attrs.set_item("tomogram", n)?;
    }
    if let Some(r) = picked.resampled {
        attrs.set_item("resampled", r)?;
    }
    if let Some(n) = picked.template_changes {
        attrs.set_item("template_changes", n)?;
    }
    if let Some(t) = &picked.class_scores.templates {
        attrs.set_item("hand", t.hand_note())?;
    }
    let cols = to_columns(py, &picks)?;
    if class_scores {
        let s = &picked.class_scores;
        add_score_columns(py, &cols, &s.classes, s.tables())?;
    }
    Ok((cols, attrs))
}

/// Adds `<prefix><class>` columns for each score table (one row per pick, one value per
/// class of `classes`): `p_` (the detector's probabilities), `cc_` and `z_` (template
/// matching's), as `tomopick pick --class-scores` writes them.
pub(crate) fn add_score_columns<'a>(
    py: Python<'_>,
    cols: &Bound<'_, PyDict>,
    classes: &[String],
    tables: impl IntoIterator<Item = (&'static str, &'a [Vec<f32>])>,
) -> PyResult<()> {
    for (prefix, rows) in tables {
        for (k, name) in classes.iter().enumerate() {
            let v: Vec<f64> = rows.iter().map(|r| r[k] as f64).collect();
            cols.set_item(format!("{prefix}{name}"), PyArray1::from_vec(py, v))?;
        }
    }
    Ok(())
}

/// Classifies and segments a box around each particle (columns with `class`, `x`, `y`, `z` in
/// Å) with the classifier (`model`, default the embedded one): the particles with the
/// classifier's class and probability as score, `input_class`, `padded` and `p_<class>` for
/// every class.
#[pyfunction]
#[pyo3(signature = (source, particles, voxel_size=None, model=None, smooth=None, skip_border=false, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn classify<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    particles: &Bound<'py, PyDict>,
    voxel_size: Option<f64>,
    model: Option<PathBuf>,
    smooth: Option<f64>,
    skip_border: bool,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let picks = from_columns(particles)?;
    let input = Input::from_py(source, voxel_size)?;
    let path = input.path().to_path_buf();
    let model = py
        .detach(|| load_classifier(model.as_deref()))
        .map_err(ToPyErr::to_py)?;
    let opts = ClassifyOptions {
        skip_border,
        smoothing_sigma_vox: smooth,
        ..Default::default()
    };
    let cancel = AtomicBool::new(false);
    let c = interruptible(py, &cancel, progress.as_ref(), |report| {
        let tomo = input.source(voxel_size)?;
        classify_tomogram(
            &model,
            tomo,
            &path,
            picks,
            Path::new("particles"),
            &opts,
            report,
        )
    })?
    .map_err(ToPyErr::to_py)?;
    let cols = to_columns(py, &c.particles)?;
    let boxes = &c.classification.boxes;
    let input_class: Vec<&str> = boxes
        .iter()
        .map(|b| c.input[b.pick].class.as_str())
        .collect();
    cols.set_item("input_class", input_class)?;
    let padded: Vec<bool> = boxes.iter().map(|b| b.padded).collect();
    cols.set_item("padded", padded)?;
    for (k, name) in c.classes.iter().enumerate() {
        let p: Vec<f64> = boxes
            .iter()
            .map(|b| b.prediction.probabilities[k] as f64)
            .collect();
        cols.set_item(format!("p_{name}"), PyArray1::from_vec(py, p))?;
    }
    Ok(cols)
}
