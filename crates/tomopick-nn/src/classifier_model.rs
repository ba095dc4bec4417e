//! Classifier model files (see [`crate::pack`] for the format) and inference on prepared boxes.

use crate::classifier::{ClassifierSegmenter, ClassifierShape};
use crate::error::{Result, model_err};
use crate::pack;
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};
use std::path::Path;

const KIND: &str = "classifier";

/// Everything besides the weights that defines a classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// The network's sizes (box edge, width, hidden units, classes).
    pub shape: ClassifierShape,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// Voxel size of the training data in Å.
    pub voxel_size_a: f64,
    /// Sigma (voxels) of the Gaussian applied to boxes before classification; 0: none.
    pub smoothing_sigma_vox: f64,
}

/// What the classifier says about one box.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxPrediction {
    /// Probability of each class (sums to 1).
    pub probabilities: Vec<f32>,
    /// Index of the most probable class.
    pub class_index: usize,
    /// Mask probability of the predicted class, `[z, y, x]` row-major over the box.
    pub mask: Vec<f32>,
}

/// A classifier/segmenter network with its configuration.
#[derive(Debug)]
pub struct ClassifierModel {
    /// The configuration.
    pub config: ClassifierConfig,
    /// The network.
    pub net: ClassifierSegmenter,
}

impl ClassifierModel {
    /// A freshly initialised network.
    pub fn new(config: ClassifierConfig, device: &Device) -> Self {
        let net = ClassifierSegmenter::new(config.shape, device);
        ClassifierModel { config, net }
    }

    /// The file's bytes.
    pub fn to_bytes(&self, path_for_errors: &Path) -> Result<Vec<u8>> {
        pack::encode(&self.net, KIND, &self.config, path_for_errors)
    }

    /// Writes the model to `path` (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        pack::write_file(path, &self.to_bytes(path)?)
    }

    /// Reads a model file.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| tomopick_io::IoError::os(path, e))?;
        Self::from_bytes(bytes, path, device)
    }

    /// Reads a model from bytes (`path` only names it in errors).
    pub fn from_bytes(bytes: Vec<u8>, path: &Path, device: &Device) -> Result<Self> {
        let config: ClassifierConfig = pack::read_config(&bytes, path, KIND)?;
        let s = config.shape;
        if config.classes.len() != s.classes
            || s.classes == 0
            || s.box_size < 8
            || !s.box_size.is_multiple_of(8)
            || !config.voxel_size_a.is_finite()
            || config.voxel_size_a <= 0.0
            || s.architecture.detector_only()
        {
            return Err(model_err(
                path,
                "tomopick.classifier metadata is inconsistent",
            ));
        }
        let mut model = ClassifierModel::new(config, device);
        pack::decode_weights(&mut model.net, bytes, path)?;
        Ok(model)
    }

    /// Classifies `n` boxes given row-major in `boxes` (`n × b³`, each `[z, y, x]`, already
    /// smoothed and standardised as the model expects).
    pub fn predict(&self, boxes: Vec<f32>, n: usize) -> Vec<BoxPrediction> {
        let b = self.config.shape.box_size;
        let c = self.config.shape.classes;
        assert_eq!(boxes.len(), n * b * b * b, "boxes must be n × box³");
        if n == 0 {
            return Vec::new();
        }
        let device = self.net.devices().into_iter().next().unwrap_or_default();
        let x = Tensor::<5>::from_data(TensorData::new(boxes, [n, 1, b, b, b]), &device);
        let inference = self.net.forward_inference(x);
        let probs = inference
            .log_probs
            .clone()
            .exp()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 output");
        let chosen: Vec<usize> = probs.chunks(c).map(argmax).collect();
        // Only the chosen class's mask is computed.
        let masks = burn::tensor::activation::sigmoid(self.net.masks_of(inference, &chosen))
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 output");
        let vox = b * b * b;
        (0..n)
            .map(|i| BoxPrediction {
                probabilities: probs[i * c..(i + 1) * c].to_vec(),
                class_index: chosen[i],
                mask: masks[i * vox..(i + 1) * vox].to_vec(),
            })
            .collect()
    }
}

/// Index of the largest value (the first of equals).
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &x)| {
            if x > bv { (i, x) } else { (bi, bv) }
        })
        .0
}
