//! `adapt`: `tomopick adapt` from Python (self-training of the detector on the user's
//! tomograms), with the GIL released, progress over the training steps and Ctrl-C honoured.

use crate::errors::{ToPyErr, check_voxel_size, input_error};
use crate::pick::interruptible;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tomopick_io::VoxelSize;
use tomopick_train::{AdaptRequest, TrainError, TrainEvent, adapt_detector};

impl ToPyErr for TrainError {
    fn to_py(self) -> PyErr {
        match self {
            TrainError::Io(e) => e.to_py(),
            TrainError::Pick(e) => e.to_py(),
            TrainError::Sim(e) => e.to_py(),
            TrainError::Eval(e) => e.to_py(),
            TrainError::Nn(tomopick_nn::NnError::Io(e)) => e.to_py(),
            TrainError::Cancelled => PyKeyboardInterrupt::new_err(
                "tomopick: interrupted; the same call resumes from the last checkpoint",
            ),
            e => input_error(e.to_string()),
        }
    }
}

/// Adapts the detector (`model`, default the embedded one) to `tomograms`, in the run folder
/// `output`; returns the adapted model's path. `progress(step, steps)` over the training.
/// `labels`: one particle list per tomogram to fine-tune on instead of the model's picks.
/// `classes`: the classes the sample holds, as `pick(..., classes=[...])`.
#[pyfunction]
#[pyo3(signature = (tomograms, output, model=None, steps=200, seed=1, user_fraction=0.5, voxel_size=None, progress=None, match_templates=false, tilt_max=tomopick_pick::template_match::DEFAULT_TILT_MAX, template_rotations=tomopick_pick::template_match::DEFAULT_ROTATIONS, labels=None, classes=None, defocus=None, phase_flipped=false, ctf_power=None, hand="auto", voltage=None, cs=None, amplitude_contrast=None))]
#[allow(clippy::too_many_arguments)]
pub fn adapt(
    py: Python<'_>,
    tomograms: Vec<PathBuf>,
    output: PathBuf,
    model: Option<PathBuf>,
    steps: u64,
    seed: u64,
    user_fraction: f64,
    voxel_size: Option<f64>,
    progress: Option<Bound<'_, PyAny>>,
    match_templates: bool,
    tilt_max: f64,
    template_rotations: usize,
    labels: Option<Vec<PathBuf>>,
    classes: Option<Vec<String>>,
    defocus: Option<f64>,
    phase_flipped: bool,
    ctf_power: Option<f64>,
    hand: &str,
    voltage: Option<f64>,
    cs: Option<f64>,
    amplitude_contrast: Option<f64>,
) -> PyResult<PathBuf> {
    check_voxel_size(voxel_size)?;
    let templates = crate::templates::TemplateKeywords {
        defocus,
        phase_flipped,
        ctf_power,
        voltage,
        cs,
        amplitude_contrast,
        hand,
    }
    .pick_options(match_templates, tilt_max, template_rotations)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let req = AdaptRequest {
        model,
        steps,
        seed,
        user_fraction,
        voxel_size: voxel_size.map(VoxelSize::isotropic),
        cancel: Some(cancel.clone()),
        templates,
        labels: labels.unwrap_or_default(),
        classes: classes.unwrap_or_default(),
        ..AdaptRequest::new(tomograms, output)
    };
    interruptible(py, &cancel, progress.as_ref(), |report| {
        adapt_detector(&req, &mut |e| {
            if let TrainEvent::Step { step, .. } = e {
                report(step as usize, steps as usize);
            }
        })
    })?
    .map_err(ToPyErr::to_py)
}
