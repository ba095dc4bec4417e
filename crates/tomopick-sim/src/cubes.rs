//! Training cubes for the detector: small crowded volumes imaged with randomised parameters,
//! each with the boxes (class, centre, radius) of the particles in it. Made on the fly, in
//! parallel, and deterministic: cube `i` of seed `s` never depends on the thread count.

use crate::error::Result;
use crate::fft::Fft3;
use crate::imaging3d::image_3d;
use crate::library::{ClassSpec, class_potential};
use crate::potential::PotentialOptions;
use crate::randomization::{Dist, SubtomoConfig};
use crate::resample::{crop_to_support, radius_above};
use crate::sample::{SampleSpec, Template, build_sample};
use crate::subtomo::mix_seed;
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

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
    /// Imaging distributions and classes, shared with subtomograms.
    pub randomization: SubtomoConfig,
}

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
        let shuffled: Vec<Template> = order
            .iter()
            .map(|&i| Template {
                name: &self.names[i],
                potential: self.potentials[i].view(),
                radius: self.radii[i],
            })
            .collect();
        let sample_spec = SampleSpec {
            shape_xyz: [n, n, n],
            voxel_size_a: r.voxel_size_a,
            ice_thickness_a: None,
            placement_z_vox: self.ice_surface(&mut rng),
            n_particles: self.spec.particles.sample(&mut rng).round().max(0.0) as usize,
            gold: (
                self.spec.gold.sample(&mut rng).round().max(0.0) as usize,
                [25.0, 50.0],
            ),
            vesicles: (
                self.spec.vesicles.sample(&mut rng).round().max(0.0) as usize,
                [150.0, 280.0],
            ),
            tries: 50,
            mask_threshold_v: r.mask_threshold_v,
        };
        let sample = build_sample(&sample_spec, &shuffled, rng.random())?;
        let mut imaging = im.draw(&mut rng);
        if let (Some(n_ref), Some(snr)) = (self.spec.noise_reference_particles, imaging.snr) {
            // noise variance = signal variance × (reference energy / this cube's energy) / SNR
            let e = energy(&sample.potential);
            if e > 0.0 {
                imaging.snr = Some(snr * e / (n_ref * self.mean_energy));
            }
        }
        let mut image = image_3d(
            &self.fft,
            &sample.potential,
            r.voxel_size_a,
            &imaging,
            false,
            &mut rng,
        )?
        .image;
        if rng.random::<f64>() < im.invert_contrast_probability {
            image.mapv_inplace(|v| -v);
        }
        let vs = r.voxel_size_a;
        let boxes = sample
            .particles
            .iter()
            .map(|p| {
                let class_index = self
                    .names
                    .iter()
                    .position(|n| *n == p.class)
                    .expect("placed classes come from the list");
                CubeBox {
                    class_index,
                    centre_vox: [p.pos_a.x / vs, p.pos_a.y / vs, p.pos_a.z / vs],
                    radius_vox: self.mask_radii[class_index],
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

/// Σ V² over a volume (its potential energy in V² · voxels).
fn energy(v: &Array3<f32>) -> f64 {
    v.iter().map(|&x| (x as f64) * (x as f64)).sum()
}
