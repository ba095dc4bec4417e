//! The classifier's training configuration (`train.toml`).
//!
//! ```toml
//! classes = []                  # empty: the 13 SHREC 2021 classes
//! membrane = true               # add a `membrane` class (simulated bilayer patches)
//! voxel_size_a = 10.0
//! architecture = "efficient"    # or "paper" (every level at full resolution)
//! box_size = 40                 # subtomogram edge, voxels (a multiple of 8)
//! width = 8                     # channels of the first level (the paper: 32)
//! hidden = 256                  # fully connected units (the paper: 1024)
//! dropout = 0.7                 # after each hidden layer (the paper's)
//! batch = 32
//! steps = 3000
//! optimizer = "sgd"             # SGD with Nesterov momentum, as the paper; or "adam"
//! learning_rate = 5e-3
//! momentum = 0.9
//! lambda = 0.15                 # loss = λ·classification + (1 − λ)·segmentation
//! seed = 1                      # the subtomogram stream and the weights' initialisation
//! checkpoint_every = 100
//! validate_every = 500          # 0: never
//! validation_size = 256         # held-aside subtomograms (another seed)
//! smoothing_sigma_vox = 1.0     # Gaussian applied to boxes at test time (the paper's)
//! neighbours = { uniform = [0, 6] }   # other particles in each box (crowding; default 0)
//! init_model = "runs/cls1/model.bpk" # start from these weights (optional)
//! preset = "randomized"         # or "fixed" (the paper's baseline), or give [imaging] in full
//! [tilt_series]                 # optional: this share of boxes through tilt series + WBP
//! fraction = 0.7
//! step_deg = { uniform = [1, 5] }
//! snr = { log_uniform = [0.02, 1.5] } # per projection
//! [appearance]                  # optional: the particle's own look, randomised
//! b_factor_a2 = { uniform = [0, 6000] }      # extra blur of its density, Å²
//! density_gamma = { uniform = [0.6, 1.6] }   # flatter or peakier interior
//! shell_contrast = { uniform = [-0.2, 0.4] } # hydration shell, × the particle's mean density
//! shell_width_a = { uniform = [3, 10] }
//! warp_a = { uniform = [0, 10] }   # conformational: rms displacement of a smooth field, Å
//! warp_length_a = { uniform = [20, 60] } # over which it varies, Å
//! missing_probability = 0.3        # compositional: share of particles lacking a piece
//! missing_fraction = { uniform = [0.05, 0.25] } # its size, × the particle's volume
//! ```

use crate::classifier::ClassifierShape;
use crate::detector::Architecture;
use crate::error::Result;
use crate::train_config::{parse_checked, read_checked};
use serde::{Deserialize, Serialize};
use tomopick_sim::randomization::ImagingRandomization;
use tomopick_sim::{Dist, SubtomoConfig};

/// Everything a classifier training run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainClassifierConfig {
    /// Class names; empty means the 13 SHREC 2021 classes.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Add the simulated membrane class.
    #[serde(default)]
    pub membrane: bool,
    /// Voxel size in Å.
    pub voxel_size_a: f64,
    /// `efficient` (default: half resolution inside) or `paper`.
    #[serde(default = "default_architecture")]
    pub architecture: Architecture,
    /// Box edge in voxels (a multiple of 8).
    pub box_size: usize,
    /// Channels of the first level.
    pub width: usize,
    /// Units of the hidden fully connected layers.
    pub hidden: usize,
    /// Dropout probability after the hidden fully connected layers.
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Subtomograms per step.
    pub batch: usize,
    /// Steps in the run.
    pub steps: u64,
    /// `sgd` (with Nesterov momentum, the paper's) or `adam`.
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub learning_rate: f64,
    /// Nesterov momentum (SGD only).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// Weight of the classification loss (segmentation gets 1 − λ).
    #[serde(default = "default_lambda")]
    pub lambda: f64,
    /// Steps at which the learning rate drops tenfold.
    #[serde(default)]
    pub lr_decay_steps: Vec<u64>,
    /// Seed of the subtomogram stream and of the initial weights.
    pub seed: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Steps between validations (0: never).
    #[serde(default)]
    pub validate_every: u64,
    /// Subtomograms in the validation set.
    #[serde(default = "default_validation_size")]
    pub validation_size: usize,
    /// Sigma (voxels) of the Gaussian applied to boxes at test time; 0: none.
    #[serde(default = "default_sigma")]
    pub smoothing_sigma_vox: f64,
    /// Largest random shift of the particle from the box centre, voxels.
    #[serde(default = "default_shift")]
    pub shift_max_vox: f64,
    /// Imaging preset (`randomized` or `fixed`), used when `imaging` is not given.
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Imaging distributions in full.
    #[serde(default)]
    pub imaging: Option<ImagingRandomization>,
    /// Other particles around the labelled one in each box (crowding; none when not given).
    #[serde(default = "no_neighbours")]
    pub neighbours: Dist,
    /// Start from this classifier's weights (same classes, sizes and voxel size).
    #[serde(default)]
    pub init_model: Option<std::path::PathBuf>,
    /// Image this share of the boxes as a tomogram is (`[tilt_series]`: fraction, step_deg,
    /// snr): tilt series and weighted back-projection instead of the 3D route.
    #[serde(default)]
    pub tilt_series: Option<tomopick_sim::cubes::TiltRoute>,
    /// What the particles themselves look like, randomised (`[appearance]`: b_factor_a2,
    /// density_gamma, shell_contrast, shell_width_a); none when not given.
    #[serde(default)]
    pub appearance: Option<tomopick_sim::appearance::ParticleAppearance>,
}

fn no_neighbours() -> Dist {
    Dist::Fixed(0.0)
}

fn default_momentum() -> f64 {
    0.9
}
/// The optimizer of a classifier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// SGD with Nesterov momentum (the paper's).
    Sgd,
    /// Adam.
    Adam,
}

fn default_optimizer() -> OptimizerKind {
    OptimizerKind::Sgd
}
fn default_architecture() -> Architecture {
    Architecture::Efficient
}
fn default_dropout() -> f64 {
    0.7
}
fn default_lambda() -> f64 {
    0.15
}
fn default_validation_size() -> usize {
    256
}
fn default_sigma() -> f64 {
    1.0
}
fn default_shift() -> f64 {
    2.0
}
fn default_preset() -> String {
    "randomized".into()
}

/// Seed of the validation subtomograms, derived from the training seed but never in its stream.
pub fn validation_seed(seed: u64) -> u64 {
    seed ^ 0x7661_6c69_6461_7465
}

impl TrainClassifierConfig {
    /// Reads and checks a TOML file; errors name the file and field.
    pub fn from_toml(path: &std::path::Path) -> Result<Self> {
        read_checked(path, Self::validate)
    }

    /// Parses and checks TOML text (`name` labels errors).
    pub fn from_toml_str(text: &str, name: &str) -> Result<Self> {
        parse_checked(text, name, Self::validate)
    }

    /// The simulator's view of this config.
    pub fn simulation(&self) -> Result<SubtomoConfig> {
        let mut s = SubtomoConfig::preset(&self.preset)?;
        s.voxel_size_a = self.voxel_size_a;
        s.box_size = self.box_size;
        s.classes = self.classes.clone();
        s.membrane = self.membrane;
        s.shift_max_vox = self.shift_max_vox;
        s.neighbours = self.neighbours;
        s.tilt_series = self.tilt_series.clone();
        s.appearance = self.appearance.clone();
        if let Some(im) = &self.imaging {
            s.imaging = im.clone();
        }
        s.validate()?;
        Ok(s)
    }

    /// The network's sizes for `classes` classes.
    pub fn shape(&self, classes: usize) -> ClassifierShape {
        ClassifierShape {
            box_size: self.box_size,
            width: self.width,
            hidden: self.hidden,
            classes,
            architecture: self.architecture,
            dropout: self.dropout,
        }
    }

    /// The learning rate at `step` (tenfold drops at `lr_decay_steps`).
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        crate::train_config::stepped_learning_rate(self.learning_rate, &self.lr_decay_steps, step)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.architecture.detector_only() {
            return Err(format!(
                "architecture = {:?} is a detector network; the classifier takes \"paper\" or \"efficient\"",
                self.architecture.name()
            ));
        }
        if self.box_size < 16 || !self.box_size.is_multiple_of(8) || self.box_size > 128 {
            return Err(format!(
                "box_size = {}: must be a multiple of 8 in 16..=128",
                self.box_size
            ));
        }
        if !(1..=256).contains(&self.width) {
            return Err(format!("width = {}: must be in 1..=256", self.width));
        }
        if !(1..=8192).contains(&self.hidden) {
            return Err(format!("hidden = {}: must be in 1..=8192", self.hidden));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout = {}: must be in [0, 1)", self.dropout));
        }
        if self.batch == 0 || self.batch > 1024 {
            return Err(format!("batch = {}: must be in 1..=1024", self.batch));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return Err(format!(
                "learning_rate = {}: must be in (0, 1)",
                self.learning_rate
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!("momentum = {}: must be in [0, 1)", self.momentum));
        }
        if !(0.0..=1.0).contains(&self.lambda) {
            return Err(format!("lambda = {}: must be in [0, 1]", self.lambda));
        }
        if self.checkpoint_every == 0 {
            return Err("checkpoint_every = 0: must be at least 1".into());
        }
        if self.validate_every > 0 && self.validation_size == 0 {
            return Err("validation_size = 0: must be at least 1 when validate_every > 0".into());
        }
        if !(self.smoothing_sigma_vox >= 0.0 && self.smoothing_sigma_vox <= 5.0) {
            return Err(format!(
                "smoothing_sigma_vox = {}: must be in [0, 5]",
                self.smoothing_sigma_vox
            ));
        }
        self.simulation().map_err(|e| e.to_string())?;
        Ok(())
    }
}
