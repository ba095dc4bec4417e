//! The detector's training configuration (`train.toml`).
//!
//! ```toml
//! architecture = "efficient"        # or "paper"
//! classes = []                      # empty: the 13 SHREC 2021 classes
//! voxel_size_a = 10.0
//! cube_size = 64                    # training cubes, voxels (a multiple of 16)
//! batch = 8
//! steps = 6000
//! learning_rate = 1e-3
//! lr_decay_steps = [4500]           # learning rate × 0.1 at each
//! anchors = 3                       # k-means over the classes' diameters
//! seed = 1                          # the cube stream; validation uses other seeds
//! checkpoint_every = 100
//! validate_every = 1000             # 0: never
//! particles_per_cube = { uniform = [4, 40] }
//! gold_per_cube = { uniform = [0, 2] }
//! vesicles_per_cube = { uniform = [0, 1.5] }  # lipid vesicles as distractors (default 0)
//! ice_surface_fraction = 0.3        # share of cubes with an ice surface, particles on one side
//! noise_reference_particles = 12    # noise as if each cube held 12 particles (default: its own)
//! particle_scale = { uniform = [0.85, 1.15] }   # optional: particle size per cube (default 1)
//! [appearance]                      # optional: each class's look drawn per cube
//! b_factor_a2 = { uniform = [0, 6000] }   # extra blur, Å²
//! density_gamma = { uniform = [0.6, 1.6] } # flatter (<1) or peakier (>1) interior
//! shell_contrast = { uniform = [-0.2, 0.4] } # hydration shell, × the particle's mean density
//! shell_width_a = { uniform = [3, 10] }
//! warp_a = { uniform = [0, 10] }   # conformational: rms displacement of a smooth field, Å
//! warp_length_a = { uniform = [20, 60] } # over which it varies, Å
//! missing_probability = 0.3        # compositional: share of particles lacking a piece
//! missing_fraction = { uniform = [0.05, 0.25] } # its size, × the particle's volume
//! [tilt_series]                     # optional: a share of cubes through projections + WBP
//! fraction = 0.5
//! step_deg = { uniform = [1, 5] }
//! snr = { log_uniform = [0.03, 1.5] }   # per projection
//! preset = "randomized"             # imaging distributions, or give [imaging] in full
//! [validation]                      # a held-aside simulated tomogram, scored by F1
//! shape_xyz = [192, 192, 96]
//! particles = 120
//! seed = 900001
//! [calibration]                     # optional: per-class pick thresholds for the final model,
//! shape_xyz = [512, 512, 200]       # calibrated on a SHREC-size tomogram (about 190 particles
//! particles = 2500                  # of each of 13 classes)
//! seed = 900002
//! ```
//!
//! Fine-tuning on your own data: start from a model and mix cubes cut from your tomograms and
//! picks into the simulated ones.
//!
//! ```toml
//! init_model = "models/detector_shrec10a.bpk"   # same classes and voxel size
//! user_fraction = 0.5                           # share of cubes from the user tomograms
//! [[user_data]]
//! tomogram = "TS_01.mrc"
//! picks = "TS_01.star"                          # any list format; classes must be the model's
//! ```

use crate::detector::Architecture;
use crate::error::{NnError, Result};
use serde::{Deserialize, Serialize};
use tomopick_sim::randomization::ImagingRandomization;
use tomopick_sim::{Dist, SubtomoConfig};

/// A held-aside simulated tomogram: `[validation]` or `[calibration]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSpec {
    /// Its size in voxels `[x, y, z]`.
    pub shape_xyz: [usize; 3],
    /// Particles in it.
    pub particles: usize,
    /// Its simulation seed (keep it apart from the training stream).
    pub seed: u64,
    /// Ice thickness in Å, centred in z (vacuum above and below, particle-free bands as in a
    /// real tomogram); not given: ice fills the depth.
    #[serde(default)]
    pub ice_thickness_a: Option<f64>,
}

impl ValidationSpec {
    /// Checks the tomogram fits the training cubes and the voxel size; `name` is its section.
    fn check(
        &self,
        name: &str,
        cube_size: usize,
        voxel_size_a: f64,
    ) -> std::result::Result<(), String> {
        if self.shape_xyz.iter().any(|&s| s < cube_size) || self.particles == 0 {
            return Err(format!(
                "{name}: shape_xyz {:?} must be at least cube_size = {cube_size} on each axis, with particles > 0",
                self.shape_xyz
            ));
        }
        if let Some(t) = self.ice_thickness_a
            && !(t > 0.0 && t <= self.shape_xyz[2] as f64 * voxel_size_a)
        {
            return Err(format!(
                "{name}: ice_thickness_a = {t} Å must be positive and fit the depth ({} voxels of {voxel_size_a} Å)",
                self.shape_xyz[2]
            ));
        }
        Ok(())
    }
}

/// Everything a detector training run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainDetectorConfig {
    /// The network.
    pub architecture: Architecture,
    /// Class names; empty means the 13 SHREC 2021 classes.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Voxel size in Å.
    pub voxel_size_a: f64,
    /// Training cube edge in voxels.
    pub cube_size: usize,
    /// Cubes per step.
    pub batch: usize,
    /// Steps in the run.
    pub steps: u64,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Steps at which the learning rate drops tenfold.
    #[serde(default)]
    pub lr_decay_steps: Vec<u64>,
    /// Number of anchors.
    pub anchors: usize,
    /// Seed of the training cube stream (and of the weights' initialisation).
    pub seed: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Steps between validations (0: never).
    #[serde(default)]
    pub validate_every: u64,
    /// Particles per cube.
    pub particles_per_cube: Dist,
    /// Gold beads per cube.
    pub gold_per_cube: Dist,
    /// Lipid vesicles per cube (distractors; none when not given).
    #[serde(default = "no_vesicles")]
    pub vesicles_per_cube: Dist,
    /// Share of cubes that show an ice surface (particles on one side of a random plane).
    #[serde(default)]
    pub ice_surface_fraction: f64,
    /// Sets the noise as if each cube held this many average particles (the dose fixes a real
    /// tomogram's noise whatever it holds); not given: from the cube's own signal.
    #[serde(default)]
    pub noise_reference_particles: Option<f64>,
    /// `[tilt_series]`: a share of the cubes imaged through projections and weighted
    /// back-projection instead of the fast 3D route (none: all by the 3D route).
    #[serde(default)]
    pub tilt_series: Option<tomopick_sim::cubes::TiltRoute>,
    /// Size of the particles relative to their models, drawn per cube (none: 1).
    #[serde(default)]
    pub particle_scale: Option<Dist>,
    /// `[appearance]`: each cube draws, for each class, the particle's own look (an extra
    /// B-factor, a density exponent, a hydration shell), so that no class is known by how our
    /// simulator draws it; none by default.
    #[serde(default)]
    pub appearance: Option<tomopick_sim::appearance::ParticleAppearance>,
    /// Imaging preset (`randomized` or `fixed`), used when `imaging` is not given.
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Imaging distributions in full.
    #[serde(default)]
    pub imaging: Option<ImagingRandomization>,
    /// The validation tomogram.
    #[serde(default)]
    pub validation: Option<ValidationSpec>,
    /// A larger held-aside tomogram on which the final model's per-class pick thresholds are
    /// calibrated (none: one threshold for all classes, from the validation tomogram).
    #[serde(default)]
    pub calibration: Option<ValidationSpec>,
    /// Start from this model's weights (fine-tuning).
    #[serde(default)]
    pub init_model: Option<std::path::PathBuf>,
    /// Tomograms with picks to cut training cubes from.
    #[serde(default)]
    pub user_data: Vec<crate::user_data::UserTomogram>,
    /// Share of the cubes cut from `user_data` (the rest are simulated).
    #[serde(default = "half")]
    pub user_fraction: f64,
}

fn no_vesicles() -> Dist {
    Dist::Fixed(0.0)
}

fn half() -> f64 {
    0.5
}

fn default_preset() -> String {
    "randomized".into()
}

impl TrainDetectorConfig {
    /// Reads and checks a TOML file; errors name the file and field.
    pub fn from_toml(path: &std::path::Path) -> Result<Self> {
        read_checked(path, Self::validate)
    }

    /// Parses and checks TOML text (`name` labels errors).
    pub fn from_toml_str(text: &str, name: &str) -> Result<Self> {
        parse_checked(text, name, Self::validate)
    }

    /// The simulator's view of this config: classes, voxel size and imaging distributions.
    pub fn simulation(&self) -> Result<SubtomoConfig> {
        let mut s = SubtomoConfig::preset(&self.preset)?;
        s.voxel_size_a = self.voxel_size_a;
        s.classes = self.classes.clone();
        if let Some(im) = &self.imaging {
            s.imaging = im.clone();
        }
        s.appearance = self.appearance.clone();
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let multiple = self.architecture.size_multiple();
        if self.cube_size < 16 || !self.cube_size.is_multiple_of(multiple) || self.cube_size > 256 {
            return Err(format!(
                "cube_size = {}: must be a multiple of {multiple} in 16..=256",
                self.cube_size
            ));
        }
        if self.batch == 0 || self.batch > 256 {
            return Err(format!("batch = {}: must be in 1..=256", self.batch));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return Err(format!(
                "learning_rate = {}: must be in (0, 1)",
                self.learning_rate
            ));
        }
        if self.anchors == 0 || self.anchors > 9 {
            return Err(format!("anchors = {}: must be in 1..=9", self.anchors));
        }
        if self.checkpoint_every == 0 {
            return Err("checkpoint_every = 0: must be at least 1".into());
        }
        self.particles_per_cube
            .check("particles_per_cube", |v| v >= 0.0, "must not be negative")
            .map_err(|e| e.to_string())?;
        self.gold_per_cube
            .check("gold_per_cube", |v| v >= 0.0, "must not be negative")
            .map_err(|e| e.to_string())?;
        self.vesicles_per_cube
            .check("vesicles_per_cube", |v| v >= 0.0, "must not be negative")
            .map_err(|e| e.to_string())?;
        for (name, spec) in [
            ("validation", &self.validation),
            ("calibration", &self.calibration),
        ] {
            if let Some(v) = spec {
                v.check(name, self.cube_size, self.voxel_size_a)?;
            }
        }
        if !(0.0..=1.0).contains(&self.ice_surface_fraction) {
            return Err(format!(
                "ice_surface_fraction = {}: must be in [0, 1]",
                self.ice_surface_fraction
            ));
        }
        if let Some(n) = self.noise_reference_particles
            && !(n > 0.0 && n.is_finite())
        {
            return Err(format!("noise_reference_particles = {n}: must be positive"));
        }
        if let Some(t) = &self.tilt_series {
            t.validate().map_err(|e| e.to_string())?;
        }
        if let Some(d) = &self.particle_scale {
            tomopick_sim::cubes::check_particle_scale(d).map_err(|e| e.to_string())?;
        }
        if !(0.0..=1.0).contains(&self.user_fraction) {
            return Err(format!(
                "user_fraction = {}: must be in [0, 1]",
                self.user_fraction
            ));
        }
        self.simulation().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The learning rate at `step` (tenfold drops at `lr_decay_steps`).
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        stepped_learning_rate(self.learning_rate, &self.lr_decay_steps, step)
    }
}

/// Parses TOML text into a config and checks it with `validate`; errors start with `name`.
pub(crate) fn parse_checked<T: serde::de::DeserializeOwned>(
    text: &str,
    name: &str,
    validate: impl Fn(&T) -> std::result::Result<(), String>,
) -> Result<T> {
    let c: T = toml::from_str(text).map_err(|e| NnError::Config(format!("{name}: {e}")))?;
    validate(&c).map_err(|e| NnError::Config(format!("{name}: {e}")))?;
    Ok(c)
}

/// Reads a TOML file into a config and checks it with `validate`.
pub(crate) fn read_checked<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    validate: impl Fn(&T) -> std::result::Result<(), String>,
) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| tomopick_io::IoError::os(path, e))?;
    parse_checked(&text, &path.display().to_string(), validate)
}

/// `base` divided by ten at each of `decay_steps` that `step` has reached.
pub fn stepped_learning_rate(base: f64, decay_steps: &[u64], step: u64) -> f64 {
    let drops = decay_steps.iter().filter(|&&s| step >= s).count();
    base * 0.1f64.powi(drops as i32)
}
