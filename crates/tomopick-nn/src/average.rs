//! Weight averaging ("model soup", Wortsman et al. 2022): detectors fine-tuned from one parent
//! averaged parameter by parameter into one network of the same cost. Averaging the weights of
//! fine-tuned siblings, unlike averaging their outputs, gives a single model and tends to hold up
//! better on data unlike the training data.

use crate::error::{Result, model_err};
use crate::model_file::DetectorModel;
use burn::prelude::*;
use burn::store::{ModuleSnapshot, burn_pack};
use burn::tensor::{Bytes, DType};
use std::path::{Path, PathBuf};

/// The mean of `paths`' weights (each weight given the matching share of `weights`, or equal
/// shares when `weights` is empty), in a model with the first file's configuration. Every file
/// must be a detector of the same architecture, classes and anchors. Batch-norm running
/// statistics are averaged as the weights are. The first file's thresholds are kept: calibrate
/// the result before using it.
pub fn average_detectors(
    paths: &[PathBuf],
    weights: &[f64],
    device: &Device,
) -> Result<DetectorModel> {
    let first_path = paths
        .first()
        .ok_or_else(|| model_err(Path::new("-"), "no model files to average"))?;
    if !weights.is_empty() && weights.len() != paths.len() {
        return Err(model_err(
            first_path,
            format!(
                "{} weights given for {} model files",
                weights.len(),
                paths.len()
            ),
        ));
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0)
        || weights.iter().sum::<f64>() == 0.0 && !weights.is_empty()
    {
        return Err(model_err(
            first_path,
            "averaging weights must be finite, not negative and not all zero",
        ));
    }
    let total: f64 = if weights.is_empty() {
        paths.len() as f64
    } else {
        weights.iter().sum()
    };
    let share = |i: usize| (if weights.is_empty() { 1.0 } else { weights[i] } / total) as f32;

    let mut first = DetectorModel::load(first_path, device)?;
    let mut sums: Vec<(burn_pack::Tensor, Vec<f32>)> = Vec::new();
    for t in first.net.collect(None, None, false) {
        let values = f32_values(&t, first_path)?;
        let s = share(0);
        sums.push((t, values.iter().map(|v| v * s).collect()));
    }
    for (i, path) in paths.iter().enumerate().skip(1) {
        let other = DetectorModel::load(path, device)?;
        let same = other.config.architecture == first.config.architecture
            && other.config.classes == first.config.classes
            && other.config.anchors_vox == first.config.anchors_vox;
        if !same {
            return Err(model_err(
                path,
                format!(
                    "a different network from {} (architecture, classes or anchors differ): only \
                     detectors fine-tuned from one parent can be averaged",
                    first_path.display()
                ),
            ));
        }
        let tensors = other.net.collect(None, None, false);
        if tensors.len() != sums.len() {
            return Err(model_err(path, "holds a different set of tensors"));
        }
        let s = share(i);
        for ((t0, sum), t) in sums.iter_mut().zip(tensors) {
            if t.name != t0.name || t.shape != t0.shape {
                return Err(model_err(
                    path,
                    format!(
                        "tensor {} does not match {}'s {}",
                        t.name,
                        first_path.display(),
                        t0.name
                    ),
                ));
            }
            for (a, v) in sum.iter_mut().zip(f32_values(&t, path)?) {
                *a += v * s;
            }
        }
    }
    let averaged: Vec<burn_pack::Tensor> = sums
        .into_iter()
        .map(|(t, values)| {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            burn_pack::Tensor::new(
                t.name.clone(),
                DType::F32,
                t.shape.clone(),
                t.param_id,
                Bytes::from_bytes_vec(bytes),
            )
        })
        .collect();
    let applied = first.net.apply(averaged, None, None, false);
    if !applied.missing.is_empty() || !applied.errors.is_empty() {
        return Err(model_err(
            first_path,
            format!(
                "the averaged weights did not fit the network ({} missing, {} errors)",
                applied.missing.len(),
                applied.errors.len()
            ),
        ));
    }
    Ok(first)
}

/// A float tensor's values.
fn f32_values(t: &burn_pack::Tensor, path: &Path) -> Result<Vec<f32>> {
    if t.dtype != DType::F32 {
        return Err(model_err(
            path,
            format!(
                "tensor {} is {:?}, not f32: cannot average it",
                t.name, t.dtype
            ),
        ));
    }
    let bytes = t
        .to_bytes()
        .map_err(|e| model_err(path, format!("tensor {}: {e}", t.name)))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect())
}
