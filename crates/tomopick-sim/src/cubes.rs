//! Training cubes for the detector: small crowded volumes imaged with randomised parameters,
//! each with the boxes (class, centre, radius) of the particles in it. Made on the fly, in
//! parallel, and deterministic: cube `i` of seed `s` never depends on the thread count.

use crate::appearance::Appearance;
use crate::context::Context;
use crate::error::Result;
use crate::fft::Fft3;
use crate::imaging3d::{Imaging3dParams, image_3d};
use crate::library::{ClassSpec, class_potential};
use crate::lowpass_noise::LowPassNoise;
use crate::potential::PotentialOptions;
use crate::randomization::{Dist, SubtomoConfig};
use crate::resample::{crop_to_support, radius_above, rescale};
use crate::sample::{SampleSpec, Template, build_sample};
use crate::subtomo::mix_seed;
use crate::tilt::{
    NoiseModel, ReconFilter, TiltDegradation, TiltSeriesParams, tilt_series, wbp_filtered,
};
use ndarray::{Array3, ArrayView3, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use tomopick_io::{Volume, VoxelSize};

/// One particle in a cube.
#[derive(Debug, Clone, PartialEq)]
pub struct CubeBox {
    /// Index into the generator's classes.
    pub class_index: usize,
    /// Centre in voxels `[x, y, z]` of the cube.
    pub centre_vox: [f64; 3],
    /// Radius in voxels (the class's mask radius).
    pub radius_vox: f64,
}

/// A training cube.
#[derive(Debug, Clone)]
pub struct Cube {
    /// The image `[z, y, x]`.
    pub image: Array3<f32>,
    /// The particles in it.
    pub boxes: Vec<CubeBox>,
}

/// What a cube holds and how it is imaged.
#[derive(Debug, Clone)]
pub struct CubeSpec {
    /// Cube edge in voxels.
    pub size: usize,
    /// Particles per cube (drawn).
    pub particles: Dist,
    /// Gold beads per cube (drawn).
    pub gold: Dist,
    /// Lipid vesicles per cube (drawn; radius 150–280 Å), as distractors.
    pub vesicles: Dist,
    /// Share of cubes that show an ice surface: a random plane at 25–75 % of the depth, with
    /// particles, beads and vesicles on one side only and noise alone on the other.
    pub ice_surface_fraction: f64,
    /// The noise level: `None` sets it from the cube's own signal (SNR over the whole cube, so
    /// a sparse cube is less noisy than a crowded one); `Some(n)` from the signal the cube would
    /// have with `n` particles of average potential energy (Σ V²), as the dose fixes the noise of
    /// a real tomogram whatever it holds, so empty regions are as noisy as crowded ones.
    pub noise_reference_particles: Option<f64>,
    /// The tilt-series route for a share of the cubes (none: every cube by the fast 3D route).
    pub tilt_series: Option<TiltRoute>,
    /// Size of every particle in a cube relative to its atomic model (drawn per cube; none: 1).
    /// Stands for a voxel size that is off, or a simulator whose particles look larger or
    /// smaller; the boxes scale with the particles.
    pub particle_scale: Option<Dist>,
    /// Imaging distributions and classes, shared with subtomograms.
    pub randomization: SubtomoConfig,
}

/// Training cubes imaged as a tomogram is: projections at each tilt, each with its own CTF
/// (defocus jittered, astigmatic) and noise at a per-projection SNR, then weighted
/// back-projection. Its noise is ramp-coloured and streaked along the missing wedge, which
/// the fast 3D route's wedge-masked noise is not. The largest tilt is the imaging
/// randomisation's, capped at 75°.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiltRoute {
    /// Share of cubes made this way.
    pub fraction: f64,
    /// Tilt step, degrees.
    pub step_deg: Dist,
    /// Signal-to-noise variance ratio of each projection (scaled by the cube's signal as the
    /// 3D route's SNR is when `noise_reference_particles` is set).
    pub snr: Dist,
    /// Share of these items whose projections are phase-flipped (CTF-corrected) before
    /// reconstruction, as many labs' tomograms are (default 0).
    #[serde(default)]
    pub phase_flip_fraction: f64,
    /// Reconstruction filters to draw from, one per item, each as likely (default: only the
    /// apodised ramp, `cosine`); e.g. `["cosine", "ramp", "shepp-logan", "hamming", "hann"]`.
    #[serde(default)]
    pub filters: Vec<ReconFilter>,
    /// Each projection's alignment error, sd in pixels, drawn per item (default: none).
    #[serde(default)]
    pub misalignment_sd_px: Option<Dist>,
    /// Radiation damage, B-factor in Å² per tilt recorded before, drawn per item (default: none).
    #[serde(default)]
    pub damage_b_per_tilt_a2: Option<Dist>,
    /// Ice thickness over the inelastic mean free path, drawn per item (default: none). See
    /// [`crate::degradation`] for all three.
    #[serde(default)]
    pub thickness_over_mfp: Option<Dist>,
    /// Share of each projection's noise variance that is low-passed, drawn per item (default:
    /// none). See [`crate::lowpass_noise`].
    #[serde(default)]
    pub low_pass_noise_fraction: Option<Dist>,
    /// The blur of that share, pixels (sd of a Gaussian), drawn per item (default: 1).
    #[serde(default)]
    pub low_pass_noise_px: Option<Dist>,
    /// The sample around a training cube, as multiples of the cube's width across the tilt
    /// axis (x) and of its depth (z): `[2, 1.5]` fills a volume twice as wide and 1.5 times as
    /// deep at the cube's density of particles, beads and vesicles, images the whole of it
    /// through the tilt series and keeps the central cube, so that the streaks and the ramp
    /// filter's fringes of particles outside the cube cross it as they do in a tomogram
    /// (default `[1, 1]`: the cube alone, projected as if nothing lay around it). The
    /// classifier's boxes take it too (filled as their neighbours fill them). Costs about the
    /// volume ratio in each item's simulation time.
    #[serde(default)]
    pub context: Option<[f64; 2]>,
}

/// What one item's tilt series drew.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TiltDraw {
    /// Tilt step, degrees.
    pub step_deg: f64,
    /// Signal-to-noise variance ratio of each projection.
    pub snr: f64,
    /// Phase-flip the projections.
    pub phase_flip: bool,
    /// The reconstruction filter.
    pub filter: ReconFilter,
    /// Misalignment, damage and ice attenuation.
    pub degradation: TiltDegradation,
    /// The low-passed share of the noise.
    pub low_pass_noise: LowPassNoise,
}

impl TiltRoute {
    /// Whether an item takes this route, and if so what its tilt series draws: the tilt step
    /// and projection SNR, then phase flipping and the filter where those are configured
    /// (callers draw only when the route is configured, and each of these only when asked for,
    /// so that streams without them keep their bits).
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<TiltDraw> {
        if rng.random::<f64>() >= self.fraction {
            return None;
        }
        let (step_deg, snr) = (self.step_deg.sample(rng), self.snr.sample(rng));
        let phase_flip =
            self.phase_flip_fraction > 0.0 && rng.random::<f64>() < self.phase_flip_fraction;
        let filter = match self.filters.len() {
            0 => ReconFilter::default(),
            n => self.filters[rng.random_range(0..n)],
        };
        let degradation = TiltDegradation::from_values(
            self.degradation_dists()
                .map(|d| d.map_or(0.0, |d| d.sample(rng))),
        );
        let low_pass_noise = match &self.low_pass_noise_fraction {
            Some(f) => LowPassNoise {
                fraction: f.sample(rng),
                sigma_px: self
                    .low_pass_noise_px
                    .as_ref()
                    .map_or(1.0, |d| d.sample(rng)),
            },
            None => LowPassNoise::default(),
        };
        Some(TiltDraw {
            step_deg,
            snr,
            phase_flip,
            filter,
            degradation,
            low_pass_noise,
        })
    }

    /// Refuses a fraction outside [0, 1], a step outside (0, 20] and a non-positive SNR.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(crate::SimError::Parameter(format!(
                "tilt_series.fraction = {}: must be in [0, 1]",
                self.fraction
            )));
        }
        self.step_deg.check(
            "tilt_series.step_deg",
            |v| v > 0.0 && v <= 20.0,
            "must be in (0, 20]",
        )?;
        self.snr.check(
            "tilt_series.snr",
            |v| v > 0.0 && v.is_finite(),
            "must be positive",
        )?;
        if !(0.0..=1.0).contains(&self.phase_flip_fraction) {
            return Err(crate::SimError::Parameter(format!(
                "tilt_series.phase_flip_fraction = {}: must be in [0, 1]",
                self.phase_flip_fraction
            )));
        }
        if let Some(c) = self.context
            && !c.iter().all(|&v| (1.0..=4.0).contains(&v))
        {
            return Err(crate::SimError::Parameter(format!(
                "tilt_series.context = {c:?}: each must be in [1, 4]"
            )));
        }
        crate::degradation::check_dists("tilt_series", self.degradation_dists())?;
        crate::lowpass_noise::check_dists(
            "tilt_series",
            self.low_pass_noise_fraction.as_ref(),
            self.low_pass_noise_px.as_ref(),
        )?;
        Ok(())
    }

    /// The configured distributions of the tilt series' degradations, in
    /// [`crate::degradation::LIMITS`]' order.
    fn degradation_dists(&self) -> [Option<&Dist>; 3] {
        [
            self.misalignment_sd_px.as_ref(),
            self.damage_b_per_tilt_a2.as_ref(),
            self.thickness_over_mfp.as_ref(),
        ]
    }
}

/// Refuses a particle scale distribution reaching outside [0.5, 2].
pub fn check_particle_scale(d: &Dist) -> Result<()> {
    d.check(
        "particle_scale",
        |v| (0.5..=2.0).contains(&v),
        "must be in [0.5, 2]",
    )
}

/// Mixed into a cube's seed for the stream that draws its particles' appearance.
const APPEARANCE_STREAM: u64 = 0x6170_7065_6172_616e;

/// Makes training cubes.
pub struct CubeGenerator {
    spec: CubeSpec,
    names: Vec<String>,
    potentials: Vec<Array3<f32>>,
    radii: Vec<f64>,
    mask_radii: Vec<f64>,
    /// Mean over the classes of Σ V² of one particle (V² per voxel summed).
    mean_energy: f64,
    fft: Fft3,
}

impl CubeGenerator {
    /// Checks the spec and computes the class potentials.
    pub fn new(spec: CubeSpec) -> Result<Self> {
        spec.randomization.validate()?;
        if let Some(t) = &spec.tilt_series {
            t.validate()?;
        }
        if let Some(d) = &spec.particle_scale {
            check_particle_scale(d)?;
        }
        let specs = spec
            .randomization
            .class_names()
            .iter()
            .map(|c| ClassSpec::parse(c))
            .collect::<Result<Vec<_>>>()?;
        let opts = PotentialOptions {
            voxel_size_a: spec.randomization.voxel_size_a,
            ..Default::default()
        };
        let (potentials, radii): (Vec<Array3<f32>>, Vec<f64>) = specs
            .par_iter()
            .map(|c| class_potential(c, &opts).map(|p| crop_to_support(p.volume.data)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let cut = spec.randomization.mask_threshold_v as f32;
        let mask_radii = potentials
            .iter()
            .map(|p| radius_above(&p.view(), cut))
            .collect();
        let mean_energy = potentials.iter().map(energy).sum::<f64>() / potentials.len() as f64;
        let n = spec.size;
        Ok(CubeGenerator {
            mean_energy,
            names: specs.into_iter().map(|c| c.name).collect(),
            fft: Fft3::new([n, n, n]),
            spec,
            potentials,
            radii,
            mask_radii,
        })
    }

    /// Class names in index order.
    pub fn class_names(&self) -> &[String] {
        &self.names
    }

    /// Mask radius of each class in voxels (the detector's box sizes).
    pub fn class_radii_vox(&self) -> &[f64] {
        &self.mask_radii
    }

    /// Cube number `index` of the stream `seed`.
    pub fn sample(&self, seed: u64, index: u64) -> Result<Cube> {
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, index));
        let r = &self.spec.randomization;
        let im = &r.imaging;
        let n = self.spec.size;
        // A shuffled class order, so every class gets the first, easiest slots in turn.
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let scale = match &self.spec.particle_scale {
            Some(d) => d.sample(&mut rng),
            None => 1.0,
        };
        // Each class's own look in this cube, from a stream of its own: the placement and the
        // imaging are those the cube has without it. Drawn for every class, in class order.
        let looks: Vec<Appearance> = match &r.appearance {
            None => Vec::new(),
            Some(a) => {
                let mut looks =
                    ChaCha8Rng::seed_from_u64(mix_seed(seed ^ APPEARANCE_STREAM, index));
                (0..self.potentials.len())
                    .map(|_| a.draw(&mut looks))
                    .collect()
            }
        };
        let placement_z_vox = self.ice_surface(&mut rng);
        let n_particles = self.spec.particles.sample(&mut rng).round().max(0.0) as usize;
        let gold = self.spec.gold.sample(&mut rng).round().max(0.0) as usize;
        let vesicles = self.spec.vesicles.sample(&mut rng).round().max(0.0) as usize;
        // With a context the tilt series is drawn first, to know the sample's extent (streams
        // without one draw it after the sample, as before, and keep their bits).
        let context = self.spec.tilt_series.as_ref().and_then(|t| t.context);
        let early_tilt = context.map(|_| {
            self.spec
                .tilt_series
                .as_ref()
                .and_then(|t| t.draw(&mut rng))
        });
        let frame = match (&early_tilt, context) {
            (Some(Some(_)), Some(c)) => Context::around(n, c),
            _ => Context::none(n),
        };
        let n_particles = frame.count(n_particles);
        let (gold, vesicles) = (frame.count(gold), frame.count(vesicles));
        let placement_z_vox = placement_z_vox.map(|z| frame.placement(z));
        // build_sample takes the classes in the shuffled order, one particle each in turn: only
        // the first n_particles of that order appear, so only they are rescaled and dressed (the
        // rest would be blurred and padded for nothing; the same cube either way).
        let vs = r.voxel_size_a;
        let prepared: Vec<Option<Array3<f32>>> = (0..self.potentials.len())
            .map(|i| {
                if order.iter().position(|&k| k == i)? >= n_particles {
                    return None;
                }
                let scaled = (scale != 1.0).then(|| {
                    let p = &self.potentials[i];
                    rescale(
                        &Volume::new(p.clone(), VoxelSize::isotropic(vs * scale)),
                        vs,
                    )
                    .data
                });
                let base = scaled
                    .as_ref()
                    .map_or(self.potentials[i].view(), |p| p.view());
                match looks.get(i) {
                    Some(look) => Some(dress(base, look, r.mask_threshold_v as f32, vs)),
                    None => scaled,
                }
            })
            .collect();
        let potential = |i: usize| match &prepared[i] {
            Some(p) => p.view(),
            None => self.potentials[i].view(),
        };
        let shuffled: Vec<Template> = order
            .iter()
            .map(|&i| Template {
                name: &self.names[i],
                potential: potential(i),
                radius: self.radii[i] * scale,
            })
            .collect();
        let sample_spec = SampleSpec {
            shape_xyz: [frame.x, n, frame.z],
            voxel_size_a: r.voxel_size_a,
            ice_thickness_a: None,
            placement_z_vox,
            n_particles,
            gold: (gold, [25.0, 50.0]),
            vesicles: (vesicles, [150.0, 280.0]),
            tries: 50,
            mask_threshold_v: r.mask_threshold_v,
        };
        let sample = build_sample(&sample_spec, &shuffled, rng.random())?;
        let mut imaging = im.draw(&mut rng);
        let tilt = match early_tilt {
            Some(t) => t,
            None => self
                .spec
                .tilt_series
                .as_ref()
                .and_then(|t| t.draw(&mut rng)),
        };
        // noise variance = signal variance × (reference energy / this cube's energy) / SNR
        let mut snr_scale = 1.0;
        if let Some(n_ref) = self.spec.noise_reference_particles {
            let e = energy(&sample.potential);
            if e > 0.0 {
                snr_scale = frame.per_pixel(e) / (n_ref * self.mean_energy);
            }
        }
        if let Some(snr) = imaging.snr.as_mut() {
            *snr *= snr_scale;
        }
        let image = match tilt {
            None => {
                image_3d(
                    &self.fft,
                    &sample.potential,
                    r.voxel_size_a,
                    &imaging,
                    false,
                    &mut rng,
                )?
                .image
            }
            Some(t) => image_through_tilt_series(
                &sample.potential,
                r.voxel_size_a,
                &imaging,
                &TiltDraw {
                    snr: t.snr * snr_scale,
                    ..t
                },
                &mut rng,
            )?,
        };
        let mut image = frame.crop(image);
        if rng.random::<f64>() < im.invert_contrast_probability {
            image.mapv_inplace(|v| -v);
        }
        let vs = r.voxel_size_a;
        let boxes = sample
            .particles
            .iter()
            .filter_map(|p| {
                let c = frame.in_cube([p.pos_a.x / vs, p.pos_a.y / vs, p.pos_a.z / vs])?;
                Some((p, c))
            })
            .map(|(p, centre_vox)| {
                let class_index = self
                    .names
                    .iter()
                    .position(|n| *n == p.class)
                    .expect("placed classes come from the list");
                CubeBox {
                    class_index,
                    centre_vox,
                    radius_vox: self.mask_radii[class_index] * scale,
                }
            })
            .collect();
        Ok(Cube { image, boxes })
    }

    /// The placement range of a cube with an ice surface, drawn (only when surfaces are asked
    /// for, so that streams without them keep their bits).
    fn ice_surface(&self, rng: &mut ChaCha8Rng) -> Option<[f64; 2]> {
        let f = self.spec.ice_surface_fraction;
        if f <= 0.0 || rng.random::<f64>() >= f {
            return None;
        }
        let n = self.spec.size as f64;
        let s = rng.random_range(0.25..0.75) * n;
        Some(if rng.random::<bool>() {
            [0.0, s]
        } else {
            [s, n]
        })
    }

    /// `n` cubes starting at `start`, made in parallel.
    pub fn batch(&self, seed: u64, start: u64, n: usize) -> Result<Vec<Cube>> {
        (0..n as u64)
            .into_par_iter()
            .map(|i| self.sample(seed, start + i))
            .collect()
    }
}

/// `volume` imaged as a tomogram is: a tilt series to ±min(the imaging's largest tilt, 75°) in
/// steps of `tilt.step_deg`, with per-tilt defocus jitter and a random astigmatism, noise at
/// `tilt.snr` per projection, phase-flipped if `tilt.phase_flip`, then weighted back-projection
/// with `tilt.filter` to the volume's shape. The training cubes' and the subtomograms'
/// tilt-series route.
pub fn image_through_tilt_series<R: Rng + ?Sized>(
    volume: &Array3<f32>,
    voxel_size_a: f64,
    imaging: &Imaging3dParams,
    tilt: &TiltDraw,
    rng: &mut R,
) -> Result<Array3<f32>> {
    let (step_deg, snr) = (tilt.step_deg, tilt.snr);
    let t_max = imaging.tilt_max_deg.min(75.0);
    let p = TiltSeriesParams {
        tilt_min_deg: -t_max,
        tilt_max_deg: t_max,
        tilt_step_deg: step_deg.min(t_max),
        ctf: imaging.ctf,
        defocus_sd_a: 1000.0,
        astigmatism_a: rng.random_range(0.0..500.0),
        astigmatism_angle_deg: rng.random_range(0.0..180.0),
        apply_mtf: imaging.apply_mtf,
        noise: NoiseModel::Snr(snr),
        noise_correlation_a: imaging.noise_correlation_a,
        noise_white_fraction: imaging.noise_white_fraction,
        phase_flip: tilt.phase_flip,
        degradation: tilt.degradation,
        low_pass_noise: tilt.low_pass_noise,
    };
    let projections = tilt_series(volume, voxel_size_a, &p, rng.random())?;
    let (d, h, w) = volume.dim();
    Ok(wbp_filtered(
        &projections,
        [d, h, w],
        voxel_size_a,
        tilt.filter,
    ))
}

/// A class template with a drawn appearance applied, padded first so that the blur, the shell
/// and the shape variation are not cut off at the edges of the tight template box (its centre
/// stays centred).
fn dress(
    template: ArrayView3<f32>,
    look: &Appearance,
    mask_cut: f32,
    voxel_size_a: f64,
) -> Array3<f32> {
    let reach_a =
        3.0 * look.blur_sigma_a() + 2.5 * look.shell_width_a.max(0.0) + look.warp_reach_a();
    let pad = (reach_a / voxel_size_a).ceil() as usize + 1;
    let (nz, ny, nx) = template.dim();
    let mut v = Array3::<f32>::zeros((nz + 2 * pad, ny + 2 * pad, nx + 2 * pad));
    v.slice_mut(s![pad..pad + nz, pad..pad + ny, pad..pad + nx])
        .assign(&template);
    look.deform(&mut v, mask_cut, voxel_size_a);
    let mask = v.mapv(|x| u8::from(x > mask_cut));
    look.apply(&mut v, &mask, voxel_size_a);
    v
}

/// Σ V² over a volume (its potential energy in V² · voxels).
pub(crate) fn energy(v: &Array3<f32>) -> f64 {
    v.iter().map(|&x| (x as f64) * (x as f64)).sum()
}
