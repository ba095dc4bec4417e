//! Domain randomisation: distributions of imaging parameters, read from TOML.
//!
//! ```toml
//! voxel_size_a = 10.0
//! box_size = 40
//! classes = ["1bxn", "3cf3"]          # empty: the 13 SHREC 2021 classes
//! shift_max_vox = 2.0
//! mask_threshold_v = 1.0             # mask = potential above 1 V (≈ 30 % of protein–ice contrast)
//!
//! [imaging]
//! snr = { log_uniform = [0.03, 10.0] }
//! tilt_max_deg = { uniform = [40.0, 90.0] }
//! defocus_um = { uniform = [0.0, 12.0] }
//! cs_mm = { uniform = [1.5, 3.0] }
//! voltage_kv = { fixed = 300.0 }
//! amplitude_contrast = { uniform = [0.05, 0.1] }
//! envelope_b_a2 = { uniform = [0.0, 400.0] }
//! scale_jitter = { uniform = [-0.05, 0.05] }
//! invert_contrast_probability = 0.5
//! mtf = true
//! ```
//!
//! Where the ranges of the `randomized` preset come from:
//! - SNR log-uniform 0.03–10, wedge 0–50° (α_max 40–90°), Dz 0–12 µm underfocus, Cs 1.5–3 mm:
//!   the domain-randomisation paper (its Dz −12–0 µm is AITom's convention, D_z < 0 = underfocus).
//! - Amplitude contrast 0.05–0.1 around the usual 0.07 (CTFFIND/RELION defaults).
//! - Envelope B 0–400 Å²: at 10 Å voxels this spans no damping to a strong fall-off at Nyquist,
//!   standing in for dose damage, drift and alignment errors.
//! - Scale jitter ±5 %: real headers are off by a few percent (cryoet-data-portal#1384).
//! - Contrast polarity flipped half the time: tomograms arrive both ways (IMOD vs Warp defaults).
//!
//! The `fixed` preset is the paper's baseline for the ablation: wedge 30° (α_max 60°),
//! Dz 6 µm, Cs 2.7 mm, SNR 0.1.

use crate::error::{Result, SimError};
use crate::library::SHREC2021_CLASSES;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Parses a TOML file into a config type; errors name the file and the key.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| tomopick_io::IoError::os(path, e))?;
    toml::from_str(&text).map_err(|e| SimError::Parameter(format!("{}: {e}", path.display())))
}

/// The given class names, or the 13 SHREC 2021 classes when none are given.
pub(crate) fn classes_or_shrec(classes: &[String]) -> Vec<String> {
    if classes.is_empty() {
        SHREC2021_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        classes.to_vec()
    }
}

/// Refuses a voxel size that is not a positive number.
pub(crate) fn check_voxel_size(v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(SimError::Parameter(format!(
            "voxel_size_a = {v}: must be positive"
        )))
    }
}

/// Checks the microscope distributions shared by every config: Cs, voltage, amplitude
/// contrast and the envelope B.
pub(crate) fn check_ctf(
    cs_mm: &Dist,
    voltage_kv: &Dist,
    amplitude: &Dist,
    envelope_b_a2: &Dist,
) -> Result<()> {
    cs_mm.check("imaging.cs_mm", |v| v >= 0.0, "Cs must not be negative")?;
    voltage_kv.check(
        "imaging.voltage_kv",
        |v| v > 0.0,
        "voltage must be positive",
    )?;
    amplitude.check(
        "imaging.amplitude_contrast",
        |v| (0.0..1.0).contains(&v),
        "amplitude contrast must be in [0, 1)",
    )?;
    envelope_b_a2.check(
        "imaging.envelope_b_a2",
        |v| v >= 0.0,
        "B must not be negative",
    )
}

/// A distribution of one parameter. In TOML: `{ fixed = 3 }`, `{ uniform = [1, 2] }`,
/// `{ log_uniform = [0.03, 10] }`, or a plain number for a fixed value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "DistRepr")]
pub enum Dist {
    /// Always this value.
    Fixed(f64),
    /// Uniform on [lo, hi].
    Uniform([f64; 2]),
    /// log-uniform on [lo, hi] (both positive).
    LogUniform([f64; 2]),
}

/// What a [`Dist`] may be written as.
#[derive(Deserialize)]
#[serde(untagged)]
enum DistRepr {
    Number(f64),
    Table(DistTable),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DistTable {
    Fixed(f64),
    Uniform([f64; 2]),
    LogUniform([f64; 2]),
}

impl TryFrom<DistRepr> for Dist {
    type Error = String;
    fn try_from(r: DistRepr) -> std::result::Result<Self, String> {
        Ok(match r {
            DistRepr::Number(v) | DistRepr::Table(DistTable::Fixed(v)) => Dist::Fixed(v),
            DistRepr::Table(DistTable::Uniform(b)) => Dist::Uniform(b),
            DistRepr::Table(DistTable::LogUniform(b)) => Dist::LogUniform(b),
        })
    }
}

impl Dist {
    /// Draws one value.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform([a, b]) => a + (b - a) * rng.random::<f64>(),
            Dist::LogUniform([a, b]) => (a.ln() + (b.ln() - a.ln()) * rng.random::<f64>()).exp(),
        }
    }
    /// The smallest and largest value it can take.
    pub fn range(&self) -> (f64, f64) {
        match *self {
            Dist::Fixed(v) => (v, v),
            Dist::Uniform([a, b]) | Dist::LogUniform([a, b]) => (a.min(b), a.max(b)),
        }
    }
    /// Checks the range with `ok`; the error names `name` and says `what`.
    pub fn check(&self, name: &str, ok: impl Fn(f64) -> bool, what: &str) -> Result<()> {
        let (lo, hi) = self.range();
        if let Dist::LogUniform([a, _]) = self
            && *a <= 0.0
        {
            return Err(SimError::Parameter(format!(
                "{name}: log_uniform needs positive bounds"
            )));
        }
        if !(lo.is_finite() && hi.is_finite() && ok(lo) && ok(hi)) {
            return Err(SimError::Parameter(format!("{name} = {self:?}: {what}")));
        }
        Ok(())
    }
}

/// Distributions of the imaging parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagingRandomization {
    /// Signal-to-noise variance ratio.
    pub snr: Dist,
    /// Largest tilt α_max in degrees (missing wedge 90° − α_max).
    pub tilt_max_deg: Dist,
    /// Defocus in µm, positive = underfocus.
    pub defocus_um: Dist,
    /// Spherical aberration in mm.
    pub cs_mm: Dist,
    /// Acceleration voltage in kV.
    pub voltage_kv: Dist,
    /// Amplitude contrast fraction.
    pub amplitude_contrast: Dist,
    /// CTF envelope B-factor in Å².
    pub envelope_b_a2: Dist,
    /// Relative particle size error (voxel-size mismatch), e.g. ±0.05.
    pub scale_jitter: Dist,
    /// Probability of inverting the contrast.
    pub invert_contrast_probability: f64,
    /// Apply the detector (pixel) MTF.
    pub mtf: bool,
    /// Standard deviation in Å of a Gaussian that correlates the noise (0: white, the default;
    /// see [`crate::imaging3d::Imaging3dParams::noise_correlation_a`]).
    #[serde(default = "white")]
    pub noise_correlation_a: Dist,
    /// Share of the noise variance that is white instead of passing the detector's MTF (0, the
    /// default; see [`crate::imaging3d::Imaging3dParams::noise_white_fraction`]).
    #[serde(default = "white")]
    pub noise_white_fraction: Dist,
}

fn white() -> Dist {
    Dist::Fixed(0.0)
}

impl ImagingRandomization {
    /// Draws one set of imaging parameters (in a fixed order, so streams stay reproducible).
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> crate::imaging3d::Imaging3dParams {
        crate::imaging3d::Imaging3dParams {
            ctf: crate::ctf::CtfParams {
                voltage_kv: self.voltage_kv.sample(rng),
                defocus_a: self.defocus_um.sample(rng) * 1e4,
                cs_mm: self.cs_mm.sample(rng),
                amplitude_contrast: self.amplitude_contrast.sample(rng),
                b_factor_a2: self.envelope_b_a2.sample(rng),
                phase_shift_rad: 0.0,
            },
            apply_mtf: self.mtf,
            tilt_max_deg: self.tilt_max_deg.sample(rng),
            snr: Some(self.snr.sample(rng)),
            // Last, and a fixed value draws nothing: streams without it keep their bits.
            noise_correlation_a: self.noise_correlation_a.sample(rng),
            noise_white_fraction: self.noise_white_fraction.sample(rng),
        }
    }
}

/// A whole subtomogram simulation set-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtomoConfig {
    /// Voxel size in Å.
    pub voxel_size_a: f64,
    /// Box edge in voxels.
    pub box_size: usize,
    /// Class names (shipped classes); empty means the 13 SHREC 2021 classes.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Largest random shift of the particle centre in voxels along each axis.
    pub shift_max_vox: f64,
    /// The mask holds voxels whose potential (contrast against ice) exceeds this, in volts.
    pub mask_threshold_v: f64,
    /// Imaging parameter distributions.
    pub imaging: ImagingRandomization,
    /// Add a `membrane` class: a patch of lipid bilayer through the box centre, curved as a
    /// sphere of radius log-uniform in [`MEMBRANE_RADIUS_A`] (vesicles to flat organelle
    /// membranes).
    #[serde(default)]
    pub membrane: bool,
    /// Other particles placed in the box around the labelled one (crowding, as in a real
    /// tomogram): random classes, orientations and positions, their centres at least 0.8 × the
    /// sum of the two radii from the box's particle; they are in the image, not in the mask.
    #[serde(default = "no_neighbours")]
    pub neighbours: Dist,
    /// Image this share of the subtomograms as a tomogram is (tilt series with per-tilt CTF,
    /// weighted back-projection of the box) instead of the 3D route; `None`: all 3D.
    #[serde(default)]
    pub tilt_series: Option<crate::cubes::TiltRoute>,
    /// What the particle itself looks like, randomised (`[appearance]`: extra B-factor,
    /// density exponent, hydration shell); none by default.
    #[serde(default)]
    pub appearance: Option<crate::appearance::ParticleAppearance>,
}

fn no_neighbours() -> Dist {
    Dist::Fixed(0.0)
}

/// Range of the radius of curvature of simulated membrane patches, Å.
pub const MEMBRANE_RADIUS_A: [f64; 2] = [150.0, 2000.0];

impl SubtomoConfig {
    /// The domain-randomised preset (ranges documented in the module).
    pub fn randomized() -> Self {
        SubtomoConfig {
            voxel_size_a: 10.0,
            box_size: 40,
            classes: Vec::new(),
            shift_max_vox: 2.0,
            mask_threshold_v: 1.0,
            imaging: ImagingRandomization {
                snr: Dist::LogUniform([0.03, 10.0]),
                tilt_max_deg: Dist::Uniform([40.0, 90.0]),
                defocus_um: Dist::Uniform([0.0, 12.0]),
                cs_mm: Dist::Uniform([1.5, 3.0]),
                voltage_kv: Dist::Fixed(300.0),
                amplitude_contrast: Dist::Uniform([0.05, 0.1]),
                envelope_b_a2: Dist::Uniform([0.0, 400.0]),
                scale_jitter: Dist::Uniform([-0.05, 0.05]),
                invert_contrast_probability: 0.5,
                mtf: true,
                noise_correlation_a: white(),
                noise_white_fraction: white(),
            },
            membrane: false,
            neighbours: Dist::Fixed(0.0),
            tilt_series: None,
            appearance: None,
        }
    }

    /// The paper's fixed baseline: wedge 30°, Dz 6 µm, Cs 2.7 mm, SNR 0.1.
    pub fn fixed() -> Self {
        let mut c = Self::randomized();
        c.imaging = ImagingRandomization {
            snr: Dist::Fixed(0.1),
            tilt_max_deg: Dist::Fixed(60.0),
            defocus_um: Dist::Fixed(6.0),
            cs_mm: Dist::Fixed(2.7),
            voltage_kv: Dist::Fixed(300.0),
            amplitude_contrast: Dist::Fixed(0.07),
            envelope_b_a2: Dist::Fixed(0.0),
            scale_jitter: Dist::Fixed(0.0),
            invert_contrast_probability: 0.0,
            mtf: true,
            noise_correlation_a: white(),
            noise_white_fraction: white(),
        };
        c
    }

    /// A preset by name (`randomized` or `fixed`).
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "randomized" | "randomised" => Ok(Self::randomized()),
            "fixed" => Ok(Self::fixed()),
            _ => Err(SimError::Parameter(format!(
                "unknown preset '{name}' (randomized, fixed)"
            ))),
        }
    }

    /// Reads a TOML file and checks it.
    pub fn from_toml(path: &std::path::Path) -> Result<Self> {
        let c: SubtomoConfig = read_toml(path)?;
        c.validate()
            .map_err(|e| SimError::Parameter(format!("{}: {e}", path.display())))?;
        Ok(c)
    }

    /// The class names in use.
    pub fn class_names(&self) -> Vec<String> {
        classes_or_shrec(&self.classes)
    }

    /// Refuses values outside their physical range, naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SimError::Parameter(m));
        check_voxel_size(self.voxel_size_a)?;
        if !(8..=512).contains(&self.box_size) || !self.box_size.is_multiple_of(2) {
            return bad(format!(
                "box_size = {}: must be even, 8 to 512",
                self.box_size
            ));
        }
        if !(self.shift_max_vox >= 0.0 && self.shift_max_vox < self.box_size as f64 / 2.0) {
            return bad(format!(
                "shift_max_vox = {}: must be in [0, box_size/2)",
                self.shift_max_vox
            ));
        }
        if !(self.mask_threshold_v > 0.0 && self.mask_threshold_v < 10.0) {
            return bad(format!(
                "mask_threshold_v = {} V: must be in (0, 10)",
                self.mask_threshold_v
            ));
        }
        self.neighbours.check(
            "neighbours",
            |v| (0.0..=50.0).contains(&v),
            "must be in 0..=50",
        )?;
        let i = &self.imaging;
        i.snr
            .check("imaging.snr", |v| v > 0.0, "SNR must be positive")?;
        i.tilt_max_deg.check(
            "imaging.tilt_max_deg",
            |v| v > 0.0 && v <= 90.0,
            "tilts must be in (0°, 90°]",
        )?;
        i.defocus_um.check(
            "imaging.defocus_um",
            |v| (-20.0..=50.0).contains(&v),
            "defocus must be within −20..50 µm",
        )?;
        check_ctf(
            &i.cs_mm,
            &i.voltage_kv,
            &i.amplitude_contrast,
            &i.envelope_b_a2,
        )?;
        i.scale_jitter.check(
            "imaging.scale_jitter",
            |v| v > -0.5 && v < 0.5,
            "scale jitter must be within ±0.5",
        )?;
        i.noise_correlation_a.check(
            "imaging.noise_correlation_a",
            |v| (0.0..=100.0).contains(&v),
            "must be in 0..=100 Å",
        )?;
        check_noise_white_fraction(&i.noise_white_fraction)?;
        if !(0.0..=1.0).contains(&i.invert_contrast_probability) {
            return bad(format!(
                "imaging.invert_contrast_probability = {}: must be in [0, 1]",
                i.invert_contrast_probability
            ));
        }
        if let Some(t) = &self.tilt_series {
            t.validate()?;
        }
        if let Some(a) = &self.appearance {
            a.validate()?;
        }
        Ok(())
    }
}

/// Refuses a distribution of `imaging.noise_white_fraction` reaching outside [0, 1] (subtomogram,
/// training and tomogram configs alike).
pub fn check_noise_white_fraction(d: &Dist) -> Result<()> {
    d.check(
        "imaging.noise_white_fraction",
        |v| (0.0..=1.0).contains(&v),
        "must be in [0, 1]",
    )
}
