//! The shipped models (13 SHREC 2021 classes at 10 Å), embedded in every front end, and loading
//! a model file or the default.

use crate::error::Result;
use crate::picker::PickOptions;
use std::path::Path;
use tomopick_nn::{ClassifierModel, DetectorModel, inference_device};

/// The default detector's model file (`efficient_wide`: the most accurate; a SHREC-size
/// tomogram in about 4 s on 2 cores).
pub const DEFAULT_DETECTOR: &[u8] = include_bytes!("../../../models/detector_shrec10a.bpk");

/// The fast detector's model file (`efficient`, the default until stage 26: 3.6× faster, a
/// little less accurate), chosen with the model name [`FAST_DETECTOR_NAME`].
pub const FAST_DETECTOR: &[u8] = include_bytes!("../../../models/detector_shrec10a_fast.bpk");

/// The name that picks the embedded fast detector wherever a detector file is asked for
/// (`--model fast`, Python's `model="fast"`); a file of that name is `./fast`.
pub const FAST_DETECTOR_NAME: &str = "fast";

/// The default classifier's model file (the detector's classes and membrane).
pub const DEFAULT_CLASSIFIER: &[u8] = include_bytes!("../../../models/classifier_shrec10a.bpk");

/// Loads the detector at `path` (or the embedded fast one for the name `fast`), or the embedded
/// default, ready for inference.
pub fn load_detector(path: Option<&Path>) -> Result<DetectorModel> {
    Ok(load_raw_detector(path)?.into_inference())
}

/// The detector file (the embedded fast one for the name `fast`, or the embedded default) as
/// stored: not folded for inference, so it can be written back (with new thresholds, say).
pub fn load_raw_detector(path: Option<&Path>) -> Result<DetectorModel> {
    let dev = inference_device();
    let (bytes, name) = match path {
        Some(p) if p.as_os_str() == FAST_DETECTOR_NAME => (FAST_DETECTOR, "<embedded fast model>"),
        Some(p) => return Ok(DetectorModel::load(p, &dev)?),
        None => (DEFAULT_DETECTOR, "<embedded default model>"),
    };
    Ok(DetectorModel::from_bytes(
        bytes.to_vec(),
        Path::new(name),
        &dev,
    )?)
}

/// Loads the classifier at `path`, or the embedded default.
pub fn load_classifier(path: Option<&Path>) -> Result<ClassifierModel> {
    let dev = inference_device();
    Ok(match path {
        Some(p) => ClassifierModel::load(p, &dev)?,
        None => ClassifierModel::from_bytes(
            DEFAULT_CLASSIFIER.to_vec(),
            Path::new("<embedded default classifier>"),
            &dev,
        )?,
    })
}

/// Pick options with the model's thresholds (per class when calibrated), or `threshold` for
/// every class when given.
pub fn model_pick_options(model: &DetectorModel, threshold: Option<f64>) -> PickOptions {
    PickOptions {
        threshold: threshold.unwrap_or(model.config.pick_threshold),
        class_thresholds: match threshold {
            Some(_) => None,
            None => model.config.class_thresholds(),
        },
        ..PickOptions::default()
    }
}

/// The model's class indices of `names`, the classes a sample holds (`pick --classes`), in the
/// model's order; refuses a name the model does not know, naming the classes it does.
pub fn sample_classes(model: &DetectorModel, names: &[String]) -> Result<Vec<usize>> {
    let classes = &model.config.classes;
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let i = classes.iter().position(|c| c == n.trim()).ok_or_else(|| {
            crate::error::PickError::Option(format!(
                "--classes: '{}' is not one of the model's classes ({})",
                n.trim(),
                classes.join(", ")
            ))
        })?;
        out.push(i);
    }
    if out.is_empty() {
        return Err(crate::error::PickError::Option(
            "--classes: name at least one class".into(),
        ));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The thresholds of `opts` in words, for logs.
pub fn describe_thresholds(opts: &PickOptions) -> String {
    match &opts.class_thresholds {
        Some(t) => {
            let (lo, hi) = t
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            format!("confidence thresholds per class, {lo:.2}–{hi:.2}")
        }
        None => format!("confidence threshold {:.2}", opts.threshold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tomopick_nn::Architecture;

    #[test]
    fn the_name_fast_loads_the_embedded_fast_model_and_no_file() {
        let default = load_raw_detector(None).unwrap();
        let fast = load_raw_detector(Some(Path::new(FAST_DETECTOR_NAME))).unwrap();
        assert_eq!(default.config.architecture, Architecture::EfficientWide);
        assert_eq!(fast.config.architecture, Architecture::Efficient);
        assert_eq!(fast.config.classes, default.config.classes);
        assert_eq!(fast.config.voxel_size_a, default.config.voxel_size_a);
        // Only the bare name is the embedded model: `./fast` is a file path.
        let err = load_raw_detector(Some(Path::new("./fast"))).unwrap_err();
        assert!(err.to_string().contains("fast"), "{err}");
    }
}
