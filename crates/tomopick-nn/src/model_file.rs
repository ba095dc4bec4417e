//! Detector model files (see [`crate::pack`] for the format): the weights and the
//! [`DetectorConfig`] under the metadata key `tomopick.detector`.

use crate::detector::{Architecture, Detector};
use crate::encoding::Encoding;
use crate::error::{Result, model_err};
use crate::pack;
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};
use std::path::Path;

const KIND: &str = "detector";

/// Everything besides the weights that defines a detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// The network.
    pub architecture: Architecture,
    /// Anchor diameters in voxels (k-means over the training particle sizes).
    pub anchors_vox: Vec<f64>,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// Each class's particle diameter in voxels (as trained).
    pub class_diameters_vox: Vec<f64>,
    /// Voxel size of the training data in Å.
    pub voxel_size_a: f64,
    /// Edge of the training cubes in voxels.
    pub cube_size: usize,
    /// The confidence threshold that gave the best F1 on the run's validation tomogram
    /// (`tomopick pick` uses it unless `--threshold` is given; 0.5, the paper's, in files
    /// written before it was calibrated).
    #[serde(default = "paper_threshold")]
    pub pick_threshold: f64,
    /// One confidence threshold per class (class order), calibrated on a larger simulated
    /// tomogram when the run has a `[calibration]` section; `tomopick pick` prefers them to
    /// `pick_threshold` unless `--threshold` is given. Empty: none.
    #[serde(default)]
    pub class_thresholds: Vec<f64>,
}

fn paper_threshold() -> f64 {
    0.5
}

impl DetectorConfig {
    /// The output encoding (stride 4).
    pub fn encoding(&self) -> Encoding {
        Encoding {
            stride: 4,
            anchors: self.anchors_vox.clone(),
            classes: self.classes.len(),
        }
    }
    /// The per-class thresholds, if calibrated (model files are checked to hold one per class).
    pub fn class_thresholds(&self) -> Option<Vec<f64>> {
        (!self.class_thresholds.is_empty()).then(|| self.class_thresholds.clone())
    }
    /// Input sizes must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.architecture.size_multiple()
    }
}

/// A detector network with its configuration.
#[derive(Debug)]
pub struct DetectorModel {
    /// The configuration.
    pub config: DetectorConfig,
    /// The network.
    pub net: Detector,
}

impl DetectorModel {
    /// A freshly initialised network.
    pub fn new(config: DetectorConfig, device: &Device) -> Self {
        let net = Detector::new(
            config.architecture,
            config.anchors_vox.len(),
            config.classes.len(),
            device,
        );
        DetectorModel { config, net }
    }

    /// The file's bytes: weights (with parameter ids, so optimizer state can follow) and metadata.
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
        let config = read_config(&bytes, path)?;
        let mut model = DetectorModel::new(config, device);
        pack::decode_weights(&mut model.net, bytes, path)?;
        Ok(model)
    }

    /// The model ready for inference: batch norms folded into the convolutions (same outputs,
    /// faster). Do not train or save the result.
    pub fn into_inference(self) -> Self {
        DetectorModel {
            config: self.config,
            net: self.net.fold_batch_norm(),
        }
    }

    /// Raw outputs for one input block `[z, y, x]` (row-major `dims_zyx`, sizes multiples of
    /// [`DetectorConfig::size_multiple`]): `([A·(5+C), d, h, w] row-major, [d, h, w])`.
    pub fn predict(&self, input: Vec<f32>, dims_zyx: [usize; 3]) -> (Vec<f32>, [usize; 3]) {
        let [d, h, w] = dims_zyx;
        let device = self.net.devices().into_iter().next().unwrap_or_default();
        let x = Tensor::<5>::from_data(TensorData::new(input, [1, 1, d, h, w]), &device);
        let out = self.net.forward_inference(x);
        let [_, _, gd, gh, gw] = out.dims();
        let raw = out
            .into_data()
            .try_to_vec::<f32>()
            .expect("the network outputs f32");
        (raw, [gd, gh, gw])
    }

    /// Refuses a model whose class set differs from `classes` (same names, same order).
    pub fn check_classes(&self, classes: &[String], path: &Path) -> Result<()> {
        if self.config.classes != classes {
            return Err(model_err(
                path,
                format!(
                    "the model's classes [{}] differ from the ones asked for [{}]",
                    self.config.classes.join(", "),
                    classes.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Reads and checks the metadata of a detector file without loading its weights.
pub fn read_config(bytes: &[u8], path: &Path) -> Result<DetectorConfig> {
    let config: DetectorConfig = pack::read_config(bytes, path, KIND)?;
    if config.anchors_vox.is_empty()
        || config.classes.is_empty()
        || config.classes.len() != config.class_diameters_vox.len()
        || !config.voxel_size_a.is_finite()
        || config.voxel_size_a <= 0.0
    {
        return Err(model_err(
            path,
            "tomopick.detector metadata is inconsistent",
        ));
    }
    let t = &config.class_thresholds;
    if !t.is_empty()
        && (t.len() != config.classes.len() || t.iter().any(|v| !(0.0..1.0).contains(v)))
    {
        return Err(model_err(
            path,
            format!(
                "tomopick.detector metadata: class_thresholds has {} values for {} classes, or one outside [0, 1)",
                t.len(),
                config.classes.len()
            ),
        ));
    }
    Ok(config)
}

/// The device inference runs on: burn's flex CPU backend.
pub fn inference_device() -> Device {
    Device::flex()
}
