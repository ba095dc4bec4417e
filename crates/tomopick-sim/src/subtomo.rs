//! Labelled subtomograms with domain-randomised imaging, generated on the fly and
//! deterministically: subtomogram `i` of seed `s` is the same whatever the thread count.

use crate::context::Context;
use crate::cubes::{TiltDraw, energy, image_through_tilt_series};
use crate::error::Result;
use crate::fft::Fft3;
use crate::imaging3d::{Imaging3dParams, image_3d};
use crate::library::{ClassSpec, class_potential};
use crate::potential::PotentialOptions;
use crate::randomization::{MEMBRANE_RADIUS_A, SubtomoConfig};
use crate::resample::{add_rotated, crop_to_support};
use crate::rotation::random_rotation;
use crate::sample::membrane_patch;
use ndarray::{Array3, ArrayView3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use tomopick_io::Rotation;

/// One simulated subtomogram and its labels.
#[derive(Debug, Clone)]
pub struct Subtomogram {
    /// The image, `[z, y, x]`.
    pub image: Array3<f32>,
    /// 1 where the particle is, 0 elsewhere.
    pub mask: Array3<u8>,
    /// Index into the generator's class list.
    pub class_index: usize,
    /// The particle's rotation (reference → box).
    pub rotation: Rotation,
    /// Offset of the particle centre from the box centre, voxels `[x, y, z]`.
    pub shift_vox: [f64; 3],
    /// The size factor applied (1 + scale jitter).
    pub scale: f64,
    /// The imaging parameters drawn for it.
    pub imaging: Imaging3dParams,
    /// True when the contrast was inverted.
    pub inverted: bool,
    /// Other particles placed in the box (not in the mask).
    pub neighbours: usize,
}

thread_local! {
    /// The noise-free box of [`SubtomoGenerator::sample`], reused on each thread.
    static PLACED: std::cell::RefCell<Array3<f32>> = std::cell::RefCell::new(Array3::zeros((0, 0, 0)));
}

/// Name of the membrane class (added when [`SubtomoConfig::membrane`] is set).
pub const MEMBRANE_CLASS: &str = "membrane";

/// Makes subtomograms from a [`SubtomoConfig`].
pub struct SubtomoGenerator {
    config: SubtomoConfig,
    names: Vec<String>,
    templates: Vec<Array3<f32>>,
    radii: Vec<f64>,
    fft: Fft3,
}

/// A 64-bit mix of a seed and an index (SplitMix64), so that item streams are independent.
pub fn mix_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SubtomoGenerator {
    /// Checks the config and computes the class potentials.
    pub fn new(config: SubtomoConfig) -> Result<Self> {
        config.validate()?;
        let specs = config
            .class_names()
            .iter()
            .map(|c| ClassSpec::parse(c))
            .collect::<Result<Vec<_>>>()?;
        let mut names: Vec<String> = specs.iter().map(|c| c.name.clone()).collect();
        if config.membrane {
            names.push(MEMBRANE_CLASS.to_string());
        }
        let opts = PotentialOptions {
            voxel_size_a: config.voxel_size_a,
            ..Default::default()
        };
        let (templates, radii) = specs
            .par_iter()
            .map(|c| class_potential(c, &opts).map(|p| crop_to_support(p.volume.data)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let b = config.box_size;
        Ok(SubtomoGenerator {
            fft: Fft3::new([b, b, b]),
            config,
            names,
            templates,
            radii,
        })
    }

    /// The class names, in index order (the membrane class last, when there is one).
    pub fn class_names(&self) -> &[String] {
        &self.names
    }

    /// The config in use.
    pub fn config(&self) -> &SubtomoConfig {
        &self.config
    }

    /// The noise-free potential of class `i` (centred cube).
    pub fn template(&self, i: usize) -> ArrayView3<'_, f32> {
        self.templates[i].view()
    }

    /// Subtomogram number `index` of the stream `seed`.
    pub fn sample(&self, seed: u64, index: u64) -> Subtomogram {
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, index));
        let c = &self.config;
        let im = &c.imaging;
        let class_index = rng.random_range(0..self.names.len());
        let rotation = random_rotation(&mut rng);
        let s = c.shift_max_vox;
        let shift_vox = [
            rng.random_range(-s..=s),
            rng.random_range(-s..=s),
            rng.random_range(-s..=s),
        ];
        let scale = 1.0 + im.scale_jitter.sample(&mut rng);
        let imaging = im.draw(&mut rng);
        let inverted = rng.random::<f64>() < im.invert_contrast_probability;
        let b = c.box_size;
        let centre = [
            b as f64 / 2.0 + shift_vox[0],
            b as f64 / 2.0 + shift_vox[1],
            b as f64 / 2.0 + shift_vox[2],
        ];
        PLACED.with(|cell| {
            let mut placed = cell.borrow_mut();
            if placed.dim() != (b, b, b) {
                *placed = Array3::zeros((b, b, b));
            } else {
                placed.fill(0.0);
            }
            if class_index < self.templates.len() {
                add_rotated(
                    &self.templates[class_index].view(),
                    &rotation,
                    scale,
                    centre,
                    &mut placed,
                    self.radii[class_index],
                );
            } else {
                // A membrane through the (shifted) centre, its normal the rotated z axis.
                let [lo, hi] = MEMBRANE_RADIUS_A;
                let radius_a = (lo.ln() + rng.random::<f64>() * (hi / lo).ln()).exp();
                let n = rotation.0 * glam::DVec3::Z;
                let r_vox = radius_a / c.voxel_size_a;
                let sphere = [
                    centre[0] - n.x * r_vox,
                    centre[1] - n.y * r_vox,
                    centre[2] - n.z * r_vox,
                ];
                *placed = membrane_patch([b, b, b], c.voxel_size_a, sphere, radius_a);
            }
            let cut = c.mask_threshold_v as f32;
            // The particle's look; its shape varied before the mask is taken, so that the
            // segmentation's label follows the particle as it is imaged.
            let look = match &c.appearance {
                Some(a) if class_index < self.templates.len() => Some(a.draw(&mut rng)),
                _ => None,
            };
            if let Some(l) = &look {
                l.deform(&mut placed, cut, c.voxel_size_a);
            }
            let mask = placed.mapv(|v| u8::from(v > cut));
            if let Some(l) = &look {
                l.apply(&mut placed, &mask, c.voxel_size_a);
            }
            let neighbours = self.add_neighbours(&mut placed, class_index, centre, &mut rng);
            let tilt = c
                .tilt_series
                .as_ref()
                .and_then(|t| t.draw(&mut rng).map(|d| (d, t.context)));
            let mut image = match tilt {
                None => {
                    image_3d(
                        &self.fft,
                        &placed,
                        c.voxel_size_a,
                        &imaging,
                        false,
                        &mut rng,
                    )
                    .expect("parameters validated with the config")
                    .image
                }
                Some((t, None)) => {
                    image_through_tilt_series(&placed, c.voxel_size_a, &imaging, &t, &mut rng)
                        .expect("parameters validated with the config")
                }
                Some((t, Some(context))) => {
                    self.through_context(&placed, context, &imaging, &t, &mut rng)
                }
            };
            if inverted {
                image.mapv_inplace(|v| -v);
            }
            Subtomogram {
                image,
                mask,
                class_index,
                rotation,
                shift_vox,
                scale,
                imaging,
                inverted,
                neighbours,
            }
        })
    }

    /// Adds the config's number of neighbouring particles to `volume` around the particle of
    /// `class_index` at `centre` (voxels `[x, y, z]`); returns how many were placed.
    fn add_neighbours(
        &self,
        volume: &mut Array3<f32>,
        class_index: usize,
        centre: [f64; 3],
        rng: &mut ChaCha8Rng,
    ) -> usize {
        let n = self.config.neighbours.sample(rng).round().max(0.0) as usize;
        let b = self.config.box_size;
        let r_centre = self.radii.get(class_index).copied().unwrap_or(0.0);
        let mut placed = 0;
        for _ in 0..n {
            let k = rng.random_range(0..self.templates.len());
            let rotation = random_rotation(rng);
            let min_d = 0.8 * (r_centre + self.radii[k]);
            for _ in 0..20 {
                let p: [f64; 3] = std::array::from_fn(|_| rng.random_range(0.0..b as f64));
                let d2: f64 = (0..3).map(|a| (p[a] - centre[a]).powi(2)).sum();
                if d2 >= min_d * min_d {
                    add_rotated(
                        &self.templates[k].view(),
                        &rotation,
                        1.0,
                        p,
                        volume,
                        self.radii[k],
                    );
                    placed += 1;
                    break;
                }
            }
        }
        placed
    }

    /// `placed` (the box) imaged through the tilt series at the centre of a sample `[cx, cz]`
    /// times as wide across the tilt axis and as deep, the rest of it holding as many particles
    /// per volume as the box's neighbours (the config's count), so that their streaks cross the
    /// box as in a tomogram; the box cut back out. The noise per projection pixel is the box's
    /// own (the SNR scaled by the sample's projected energy per pixel over the box's).
    fn through_context(
        &self,
        placed: &Array3<f32>,
        [cx, cz]: [f64; 2],
        imaging: &Imaging3dParams,
        tilt: &TiltDraw,
        rng: &mut ChaCha8Rng,
    ) -> Array3<f32> {
        let b = self.config.box_size;
        let frame = Context::around(b, [cx, cz]);
        let (nx, nz) = (frame.x, frame.z);
        let mut big = frame.embed(placed);
        let extra = (self.config.neighbours.sample(rng).max(0.0) * (frame.volume_ratio() - 1.0))
            .round() as usize;
        for _ in 0..extra {
            let k = rng.random_range(0..self.templates.len());
            let rotation = random_rotation(rng);
            for _ in 0..20 {
                let p = [
                    rng.random_range(0.0..nx as f64),
                    rng.random_range(0.0..b as f64),
                    rng.random_range(0.0..nz as f64),
                ];
                if frame.in_cube(p).is_none() {
                    add_rotated(
                        &self.templates[k].view(),
                        &rotation,
                        1.0,
                        p,
                        &mut big,
                        self.radii[k],
                    );
                    break;
                }
            }
        }
        let (e_box, e_big) = (energy(placed), energy(&big));
        let per_pixel = if e_box > 0.0 {
            frame.per_pixel(e_big) / e_box
        } else {
            1.0
        };
        let t = TiltDraw {
            snr: tilt.snr * per_pixel,
            ..*tilt
        };
        frame.crop(
            image_through_tilt_series(&big, self.config.voxel_size_a, imaging, &t, rng)
                .expect("parameters validated with the config"),
        )
    }

    /// `n` subtomograms starting at `start`, made in parallel.
    pub fn batch(&self, seed: u64, start: u64, n: usize) -> Vec<Subtomogram> {
        (0..n as u64)
            .into_par_iter()
            .map(|i| self.sample(seed, start + i))
            .collect()
    }
}
