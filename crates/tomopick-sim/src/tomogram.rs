//! Whole simulated tomograms: a crowded sample imaged by the tilt-series route (projections,
//! per-tilt CTF, noise, WBP) or the fast 3D route, with the SHREC-style ground truth.
//!
//! Every number in the config may be a distribution ([`Dist`]); a seed resolves it to one
//! fixed config, which is written beside the outputs so the tomogram can be made again.
//!
//! ```toml
//! voxel_size_a = 10.0
//! shape_xyz = [512, 512, 200]
//! classes = []                       # the 13 SHREC 2021 classes
//! particles = 2500
//! ice_thickness_a = { uniform = [1500.0, 2000.0] }
//! gold = 30
//! gold_radius_a = [25.0, 50.0]
//! vesicles = 2
//! vesicle_radius_a = [180.0, 280.0]
//!
//! [imaging]
//! route = "tilt"                     # or "fast"
//! tilt_max_deg = 60.0
//! tilt_step_deg = 3.0
//! defocus_um = { uniform = [2.0, 5.0] }
//! dose_e_per_a2 = 120.0              # or: snr = 0.5 (variance ratio per projection / volume)
//! ```

use crate::ctf::CtfParams;
use crate::error::{Result, SimError};
use crate::fft::Fft3;
use crate::imaging3d::{Imaging3dParams, image_3d};
use crate::library::{ClassSpec, class_potential};
use crate::lowpass_noise::LowPassNoise;
use crate::potential::PotentialOptions;
use crate::randomization::{
    Dist, check_ctf, check_noise_white_fraction, check_voxel_size, classes_or_shrec, read_toml,
};
use crate::resample::crop_to_support;
use crate::sample::{Sample, SampleSpec, Template, build_sample};
use crate::subtomo::mix_seed;
use crate::tilt::{
    NoiseModel, ReconFilter, TiltDegradation, TiltSeriesParams, tilt_series, wbp_filtered,
};
use ndarray::Array3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Which imaging route makes the tomogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Tilt series + weighted back-projection.
    Tilt,
    /// 3D CTF × MTF × wedge filter on the volume.
    Fast,
}

fn one() -> Dist {
    Dist::Fixed(1.0)
}
fn zero() -> Dist {
    Dist::Fixed(0.0)
}

/// Imaging parameters of a tomogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TomogramImaging {
    /// Imaging route.
    pub route: Route,
    /// Tilts run from −tilt_max to +tilt_max, degrees.
    pub tilt_max_deg: Dist,
    /// Tilt step, degrees.
    pub tilt_step_deg: Dist,
    /// Defocus at zero tilt, µm (positive = underfocus).
    pub defocus_um: Dist,
    /// Per-tilt defocus jitter (sd), µm.
    #[serde(default = "zero")]
    pub defocus_sd_um: Dist,
    /// Astigmatism amplitude, µm.
    #[serde(default = "zero")]
    pub astigmatism_um: Dist,
    /// Spherical aberration, mm.
    pub cs_mm: Dist,
    /// Acceleration voltage, kV.
    pub voltage_kv: Dist,
    /// Amplitude contrast.
    pub amplitude_contrast: Dist,
    /// CTF envelope B, Å².
    #[serde(default = "zero")]
    pub envelope_b_a2: Dist,
    /// Apply the pixel MTF.
    pub mtf: bool,
    /// Total dose over the series, e⁻/Å² (tilt route).
    #[serde(default)]
    pub dose_e_per_a2: Option<Dist>,
    /// Signal-to-noise variance ratio (per projection, or of the volume in the fast route).
    #[serde(default)]
    pub snr: Option<Dist>,
    /// Share of the noise variance (SNR noise) that is white instead of passing the MTF: 0 (the
    /// default) for an integrating detector, 1 for a counting one
    /// ([`crate::imaging3d::Imaging3dParams::noise_white_fraction`]).
    #[serde(default = "zero")]
    pub noise_white_fraction: Dist,
    /// Phase-flip every projection by the sign of its CTF before reconstruction (CTF
    /// correction, as IMOD's `ctfphaseflip`; tilt route). Default false.
    #[serde(default)]
    pub phase_flip: bool,
    /// The window on the reconstruction's ramp (tilt route): `cosine` (the default), `ramp`,
    /// `shepp-logan`, `hamming` or `hann`.
    #[serde(default)]
    pub reconstruction_filter: ReconFilter,
    /// Each projection's alignment error, sd in pixels along x and y (tilt route; default 0).
    #[serde(default = "zero")]
    pub misalignment_sd_px: Dist,
    /// Radiation damage: B-factor in Å² per tilt recorded before, dose-symmetric order (tilt
    /// route; default 0).
    #[serde(default = "zero")]
    pub damage_b_per_tilt_a2: Dist,
    /// Ice thickness over the inelastic mean free path, τ: a projection at α keeps
    /// exp(−τ (1/cos α − 1)) of 0°'s SNR (tilt route; default 0). See [`crate::degradation`].
    #[serde(default = "zero")]
    pub thickness_over_mfp: Dist,
    /// Share of each projection's noise variance that is low-passed (tilt route, `snr` noise;
    /// default 0). See [`crate::lowpass_noise`].
    #[serde(default = "zero")]
    pub low_pass_noise_fraction: Dist,
    /// The blur of that share: sd of a Gaussian, pixels (default 1).
    #[serde(default = "one_pixel")]
    pub low_pass_noise_px: Dist,
}

fn one_pixel() -> Dist {
    Dist::Fixed(1.0)
}

impl TomogramImaging {
    /// The tilt series' degradations, in [`crate::degradation::LIMITS`]' order.
    fn degradation_dists(&self) -> [&Dist; 3] {
        [
            &self.misalignment_sd_px,
            &self.damage_b_per_tilt_a2,
            &self.thickness_over_mfp,
        ]
    }
}

/// A tomogram simulation set-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TomogramConfig {
    /// Voxel size, Å.
    pub voxel_size_a: f64,
    /// Size in voxels, x y z.
    pub shape_xyz: [usize; 3],
    /// Particle classes (shipped names); empty = the 13 SHREC 2021 classes.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Number of particles to place.
    pub particles: Dist,
    /// Ice thickness, Å (0 = fill the whole depth).
    #[serde(default = "zero")]
    pub ice_thickness_a: Dist,
    /// Number of gold beads.
    #[serde(default = "zero")]
    pub gold: Dist,
    /// Gold bead radius range, Å.
    #[serde(default = "gold_r")]
    pub gold_radius_a: [f64; 2],
    /// Number of vesicles.
    #[serde(default = "zero")]
    pub vesicles: Dist,
    /// Vesicle outer radius range, Å.
    #[serde(default = "vesicle_r")]
    pub vesicle_radius_a: [f64; 2],
    /// Random positions tried per object.
    #[serde(default = "tries")]
    pub tries: usize,
    /// Mask threshold, V.
    #[serde(default = "one")]
    pub mask_threshold_v: Dist,
    /// Imaging.
    pub imaging: TomogramImaging,
}

fn gold_r() -> [f64; 2] {
    [25.0, 50.0]
}
fn vesicle_r() -> [f64; 2] {
    [180.0, 280.0]
}
fn tries() -> usize {
    200
}

impl TomogramConfig {
    /// A SHREC-like default: 512 × 512 × 200 at 10 Å, 2500 particles, ±60° in 3° steps, WBP.
    pub fn shrec_like() -> Self {
        TomogramConfig {
            voxel_size_a: 10.0,
            shape_xyz: [512, 512, 200],
            classes: Vec::new(),
            particles: Dist::Fixed(2500.0),
            ice_thickness_a: Dist::Fixed(1800.0),
            gold: Dist::Fixed(30.0),
            gold_radius_a: gold_r(),
            vesicles: Dist::Fixed(2.0),
            vesicle_radius_a: vesicle_r(),
            tries: tries(),
            mask_threshold_v: Dist::Fixed(1.0),
            imaging: TomogramImaging {
                route: Route::Tilt,
                tilt_max_deg: Dist::Fixed(60.0),
                tilt_step_deg: Dist::Fixed(3.0),
                defocus_um: Dist::Fixed(3.0),
                defocus_sd_um: Dist::Fixed(0.2),
                astigmatism_um: Dist::Fixed(0.1),
                cs_mm: Dist::Fixed(2.7),
                voltage_kv: Dist::Fixed(300.0),
                amplitude_contrast: Dist::Fixed(0.07),
                envelope_b_a2: Dist::Fixed(0.0),
                mtf: true,
                dose_e_per_a2: Some(Dist::Fixed(120.0)),
                snr: None,
                noise_white_fraction: Dist::Fixed(0.0),
                phase_flip: false,
                reconstruction_filter: ReconFilter::Cosine,
                misalignment_sd_px: Dist::Fixed(0.0),
                damage_b_per_tilt_a2: Dist::Fixed(0.0),
                thickness_over_mfp: Dist::Fixed(0.0),
                low_pass_noise_fraction: Dist::Fixed(0.0),
                low_pass_noise_px: one_pixel(),
            },
        }
    }

    /// Reads and checks a TOML file.
    pub fn from_toml(path: &std::path::Path) -> Result<Self> {
        let c: TomogramConfig = read_toml(path)?;
        c.validate()
            .map_err(|e| SimError::Parameter(format!("{}: {e}", path.display())))?;
        Ok(c)
    }

    /// Class names in use.
    pub fn class_names(&self) -> Vec<String> {
        classes_or_shrec(&self.classes)
    }

    /// Refuses values outside their physical range, naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SimError::Parameter(m));
        check_voxel_size(self.voxel_size_a)?;
        if self.shape_xyz.iter().any(|&n| !(8..=4096).contains(&n)) {
            return bad(format!(
                "shape_xyz = {:?}: each side must be 8 to 4096",
                self.shape_xyz
            ));
        }
        self.particles
            .check("particles", |v| v >= 0.0, "must not be negative")?;
        self.ice_thickness_a
            .check("ice_thickness_a", |v| v >= 0.0, "must not be negative")?;
        self.gold
            .check("gold", |v| v >= 0.0, "must not be negative")?;
        self.vesicles
            .check("vesicles", |v| v >= 0.0, "must not be negative")?;
        self.mask_threshold_v
            .check("mask_threshold_v", |v| v > 0.0, "must be positive")?;
        let i = &self.imaging;
        i.tilt_max_deg.check(
            "imaging.tilt_max_deg",
            |v| v > 0.0 && v < 90.0,
            "tilts must be in (0°, 90°)",
        )?;
        i.tilt_step_deg.check(
            "imaging.tilt_step_deg",
            |v| v > 0.0 && v <= 30.0,
            "step must be in (0°, 30°]",
        )?;
        i.defocus_um.check(
            "imaging.defocus_um",
            |v| (-20.0..=50.0).contains(&v),
            "defocus must be within −20..50 µm",
        )?;
        i.defocus_sd_um.check(
            "imaging.defocus_sd_um",
            |v| v >= 0.0,
            "must not be negative",
        )?;
        i.astigmatism_um.check(
            "imaging.astigmatism_um",
            |v| v >= 0.0,
            "must not be negative",
        )?;
        check_ctf(
            &i.cs_mm,
            &i.voltage_kv,
            &i.amplitude_contrast,
            &i.envelope_b_a2,
        )?;
        if let Some(d) = &i.dose_e_per_a2 {
            d.check(
                "imaging.dose_e_per_a2",
                |v| v > 0.0,
                "dose must be positive",
            )?;
        }
        if let Some(s) = &i.snr {
            s.check("imaging.snr", |v| v > 0.0, "SNR must be positive")?;
        }
        check_noise_white_fraction(&i.noise_white_fraction)?;
        if i.dose_e_per_a2.is_some() && i.snr.is_some() {
            return bad("imaging: give dose_e_per_a2 or snr, not both".into());
        }
        if i.route == Route::Fast && i.dose_e_per_a2.is_some() {
            return bad("imaging: the fast route takes snr, not dose_e_per_a2".into());
        }
        if i.route == Route::Fast
            && (i.phase_flip || i.reconstruction_filter != ReconFilter::Cosine)
        {
            return bad(
                "imaging: phase_flip and reconstruction_filter belong to the tilt route (route = \"tilt\")"
                    .into(),
            );
        }
        let degradation = i.degradation_dists();
        crate::degradation::check_dists("imaging", degradation.map(Some))?;
        crate::lowpass_noise::check_dists(
            "imaging",
            Some(&i.low_pass_noise_fraction),
            (i.low_pass_noise_px != one_pixel()).then_some(&i.low_pass_noise_px),
        )?;
        if i.low_pass_noise_fraction.range().1 > 0.0 && (i.route == Route::Fast || i.snr.is_none())
        {
            return bad(
                "imaging: low_pass_noise_fraction needs the tilt route and noise given by snr"
                    .into(),
            );
        }
        if i.route == Route::Fast && degradation.iter().any(|d| d.range().1 > 0.0) {
            return bad(
                "imaging: misalignment_sd_px, damage_b_per_tilt_a2 and thickness_over_mfp belong to the tilt route (route = \"tilt\")"
                    .into(),
            );
        }
        Ok(())
    }

    /// Draws every distribution once with `seed`: the config of one tomogram.
    pub fn resolve(&self, seed: u64) -> TomogramConfig {
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, u64::MAX));
        let mut d = |x: &Dist| Dist::Fixed(x.sample(&mut rng));
        let round = |x: Dist| Dist::Fixed(x.range().0.round());
        let mut c = self.clone();
        c.particles = round(d(&self.particles));
        c.gold = round(d(&self.gold));
        c.vesicles = round(d(&self.vesicles));
        c.ice_thickness_a = d(&self.ice_thickness_a);
        c.mask_threshold_v = d(&self.mask_threshold_v);
        let i = &self.imaging;
        c.imaging = TomogramImaging {
            route: i.route,
            tilt_max_deg: d(&i.tilt_max_deg),
            tilt_step_deg: d(&i.tilt_step_deg),
            defocus_um: d(&i.defocus_um),
            defocus_sd_um: d(&i.defocus_sd_um),
            astigmatism_um: d(&i.astigmatism_um),
            cs_mm: d(&i.cs_mm),
            voltage_kv: d(&i.voltage_kv),
            amplitude_contrast: d(&i.amplitude_contrast),
            envelope_b_a2: d(&i.envelope_b_a2),
            mtf: i.mtf,
            dose_e_per_a2: i.dose_e_per_a2.as_ref().map(&mut d),
            snr: i.snr.as_ref().map(&mut d),
            noise_white_fraction: d(&i.noise_white_fraction),
            phase_flip: i.phase_flip,
            reconstruction_filter: i.reconstruction_filter,
            misalignment_sd_px: d(&i.misalignment_sd_px),
            damage_b_per_tilt_a2: d(&i.damage_b_per_tilt_a2),
            thickness_over_mfp: d(&i.thickness_over_mfp),
            low_pass_noise_fraction: d(&i.low_pass_noise_fraction),
            low_pass_noise_px: d(&i.low_pass_noise_px),
        };
        c
    }
}

fn fixed(d: &Dist) -> f64 {
    d.range().0
}

/// A simulated tomogram and its truth.
pub struct Tomogram {
    /// Element symbols without scattering factors in the structures (read as carbon), with counts.
    pub unknown_elements: std::collections::BTreeMap<String, usize>,
    /// Per class: its name and radius in Å (the farthest mask voxel from the centre).
    pub class_radii_a: Vec<(String, f64)>,
    /// The reconstruction `[z, y, x]`.
    pub reconstruction: Array3<f32>,
    /// The sample with its ground truth.
    pub sample: Sample,
    /// The fixed config that made it.
    pub config: TomogramConfig,
}

/// Stages reported to a progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Computing class potentials.
    Potentials,
    /// Placing particles.
    Sample,
    /// Projecting and imaging.
    Imaging,
    /// Reconstructing.
    Reconstruction,
}

/// Simulates one tomogram from `config` (distributions are drawn with `seed`).
pub fn simulate_tomogram(
    config: &TomogramConfig,
    seed: u64,
    on_stage: &(dyn Fn(Stage) + Sync),
) -> Result<Tomogram> {
    config.validate()?;
    let c = config.resolve(seed);
    let vs = c.voxel_size_a;
    on_stage(Stage::Potentials);
    let specs = c
        .class_names()
        .iter()
        .map(|e| ClassSpec::parse(e))
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let opts = PotentialOptions {
        voxel_size_a: vs,
        ..Default::default()
    };
    let made = specs
        .par_iter()
        .map(|c| class_potential(c, &opts))
        .collect::<Result<Vec<_>>>()?;
    let mut unknown_elements = std::collections::BTreeMap::new();
    for m in &made {
        for (e, n) in &m.unknown_elements {
            *unknown_elements.entry(e.clone()).or_insert(0) += n;
        }
    }
    let potentials: Vec<(Array3<f32>, f64)> = made
        .into_iter()
        .map(|m| crop_to_support(m.volume.data))
        .collect();
    let templates: Vec<Template> = names
        .iter()
        .zip(&potentials)
        .map(|(n, (p, radius))| Template {
            name: n,
            potential: p.view(),
            radius: *radius,
        })
        .collect();
    on_stage(Stage::Sample);
    let ice = fixed(&c.ice_thickness_a);
    let spec = SampleSpec {
        shape_xyz: c.shape_xyz,
        voxel_size_a: vs,
        ice_thickness_a: (ice > 0.0).then_some(ice),
        placement_z_vox: None,
        n_particles: fixed(&c.particles) as usize,
        gold: (fixed(&c.gold) as usize, c.gold_radius_a),
        vesicles: (fixed(&c.vesicles) as usize, c.vesicle_radius_a),
        tries: c.tries,
        mask_threshold_v: fixed(&c.mask_threshold_v),
    };
    let sample = build_sample(&spec, &templates, mix_seed(seed, 1))?;
    let i = &c.imaging;
    let ctf = CtfParams {
        voltage_kv: fixed(&i.voltage_kv),
        defocus_a: fixed(&i.defocus_um) * 1e4,
        cs_mm: fixed(&i.cs_mm),
        amplitude_contrast: fixed(&i.amplitude_contrast),
        b_factor_a2: fixed(&i.envelope_b_a2),
        phase_shift_rad: 0.0,
    };
    let [nx, ny, nz] = c.shape_xyz;
    on_stage(Stage::Imaging);
    let reconstruction = match i.route {
        Route::Tilt => {
            let t = fixed(&i.tilt_max_deg);
            let params = TiltSeriesParams {
                tilt_min_deg: -t,
                tilt_max_deg: t,
                tilt_step_deg: fixed(&i.tilt_step_deg),
                ctf,
                defocus_sd_a: fixed(&i.defocus_sd_um) * 1e4,
                astigmatism_a: fixed(&i.astigmatism_um) * 1e4,
                astigmatism_angle_deg: 0.0,
                apply_mtf: i.mtf,
                noise: match (&i.dose_e_per_a2, &i.snr) {
                    (Some(d), _) => NoiseModel::Dose(fixed(d)),
                    (None, Some(s)) => NoiseModel::Snr(fixed(s)),
                    _ => NoiseModel::None,
                },
                noise_correlation_a: 0.0,
                noise_white_fraction: fixed(&i.noise_white_fraction),
                phase_flip: i.phase_flip,
                degradation: TiltDegradation::from_values(i.degradation_dists().map(fixed)),
                low_pass_noise: LowPassNoise {
                    fraction: fixed(&i.low_pass_noise_fraction),
                    sigma_px: fixed(&i.low_pass_noise_px),
                },
            };
            let projections = tilt_series(&sample.potential, vs, &params, mix_seed(seed, 2))?;
            on_stage(Stage::Reconstruction);
            wbp_filtered(&projections, [nz, ny, nx], vs, i.reconstruction_filter)
        }
        Route::Fast => {
            let p = Imaging3dParams {
                ctf,
                apply_mtf: i.mtf,
                tilt_max_deg: fixed(&i.tilt_max_deg),
                snr: i.snr.as_ref().map(fixed),
                noise_correlation_a: 0.0,
                noise_white_fraction: fixed(&i.noise_white_fraction),
            };
            let fft = Fft3::new([nz, ny, nx]);
            let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, 3));
            image_3d(&fft, &sample.potential, vs, &p, false, &mut rng)?.image
        }
    };
    let cut = fixed(&c.mask_threshold_v) as f32;
    let class_radii_a = names
        .iter()
        .zip(&potentials)
        .map(|(n, (p, _))| {
            (
                n.clone(),
                crate::resample::radius_above(&p.view(), cut) * vs,
            )
        })
        .collect();
    Ok(Tomogram {
        unknown_elements,
        class_radii_a,
        reconstruction,
        sample,
        config: c,
    })
}
