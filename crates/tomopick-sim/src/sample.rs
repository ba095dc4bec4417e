//! A crowded sample: particles at uniform random orientations without overlap in a slab of ice,
//! with optional gold beads and lipid vesicles as distractors, and its exact ground truth.
//!
//! Potentials are contrast against ice in volts (ice = 0). Outside the ice slab is vacuum,
//! −4.53 V. Gold is a solid ball at [`GOLD_POTENTIAL_V`]; a vesicle is a spherical bilayer whose
//! two head-group layers (±[`BILAYER_HALF_A`] from the mid-plane, sd 5 Å) peak at
//! [`HEADGROUP_POTENTIAL_V`].
//!
//! Placement (as SHREC 2021 does): each particle is tried at up to `tries` random positions; the
//! first with no voxel overlap with anything placed before is kept. A particle that finds no
//! room is skipped; after a whole round of classes fails in a row the sample is called full, and
//! the number not placed is reported.

use crate::error::{Result, SimError};
use crate::resample::{place_rotated, rotated_exceeds};
use crate::rotation::random_rotation;
use crate::scattering::ICE_POTENTIAL_V;
use ndarray::{Array3, ArrayView3, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tomopick_io::{Particle, PosAngstrom};

/// Mean inner potential used for gold fiducials, V (literature values for Au are 20–30 V).
pub const GOLD_POTENTIAL_V: f64 = 25.0;
/// Peak potential of a lipid head-group layer over ice, V.
pub const HEADGROUP_POTENTIAL_V: f64 = 2.0;
/// Distance of each head-group layer from the bilayer mid-plane, Å (a 40 Å bilayer).
pub const BILAYER_HALF_A: f64 = 20.0;

/// Standard deviation of each head-group layer's Gaussian profile, Å.
pub const HEADGROUP_SD_A: f64 = 5.0;

/// Potential of a lipid bilayer at signed distance `x_a` (Å) from its mid-plane: two Gaussian
/// head-group layers at ±[`BILAYER_HALF_A`]; `None` beyond 2 sd outside them (no membrane).
pub fn bilayer_potential_v(x_a: f64) -> Option<f32> {
    let (half, sd) = (BILAYER_HALF_A, HEADGROUP_SD_A);
    let g = |u: f64| (-(u * u) / (2.0 * sd * sd)).exp();
    (x_a.abs() <= half + 2.0 * sd)
        .then(|| (HEADGROUP_POTENTIAL_V * (g(x_a - half) + g(x_a + half))) as f32)
}

/// A patch of membrane filling a box: the bilayer of a sphere of radius `radius_a` (Å, its
/// mid-plane) centred at `centre_vox` (`[x, y, z]`, voxels, may lie far outside the box).
/// Returns the potential `[z, y, x]` in volts over ice.
pub fn membrane_patch(
    shape_xyz: [usize; 3],
    voxel_size_a: f64,
    centre_vox: [f64; 3],
    radius_a: f64,
) -> Array3<f32> {
    let [nx, ny, nz] = shape_xyz;
    Array3::from_shape_fn((nz, ny, nx), |(z, y, x)| {
        let d = [
            x as f64 - centre_vox[0],
            y as f64 - centre_vox[1],
            z as f64 - centre_vox[2],
        ];
        let r_a = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() * voxel_size_a;
        bilayer_potential_v(r_a - radius_a).unwrap_or(0.0)
    })
}

/// Label of gold in the class mask (particle classes are 1..=n).
pub const GOLD_LABEL: u8 = 100;
/// Label of vesicle membranes in the class mask.
pub const MEMBRANE_LABEL: u8 = 101;

/// What to put in the sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// Volume size in voxels `[x, y, z]`.
    pub shape_xyz: [usize; 3],
    /// Voxel size in Å.
    pub voxel_size_a: f64,
    /// Ice thickness in Å (the slab is centred in z); `None` fills the whole depth.
    pub ice_thickness_a: Option<f64>,
    /// Objects are placed only between these z (voxels), inside the ice; `None`: anywhere in
    /// the ice. Training cubes use it to show an ice surface: a particle-free band whose noise
    /// is that of the rest (a flat ice–vacuum step itself lies inside any missing wedge).
    pub placement_z_vox: Option<[f64; 2]>,
    /// Number of particles to place, drawn from the classes in turn.
    pub n_particles: usize,
    /// Gold beads: count and radius range in Å.
    pub gold: (usize, [f64; 2]),
    /// Vesicles: count and outer radius range in Å.
    pub vesicles: (usize, [f64; 2]),
    /// Random positions tried per object before the sample is called full.
    pub tries: usize,
    /// Mask threshold in volts (as for subtomograms).
    pub mask_threshold_v: f64,
}

/// A placed class template: its potential (centred cube) and support radius in voxels.
pub struct Template<'a> {
    /// Class name.
    pub name: &'a str,
    /// Potential, centred at voxel n/2.
    pub potential: ArrayView3<'a, f32>,
    /// Radius of its non-zero support, voxels.
    pub radius: f64,
}

/// The sample and its ground truth.
pub struct Sample {
    /// Noise-free potential `[z, y, x]`, V relative to ice.
    pub potential: Array3<f32>,
    /// 0 background, 1..=n particle class (index + 1), 100 gold, 101 membrane (fits int8 MRC).
    pub class_mask: Array3<u8>,
    /// 0 background, k = the k-th particle of `particles` (1-based), as SHREC's occupancy mask.
    pub occupancy: Array3<u32>,
    /// The placed particles (Å from voxel 0, rotation reference → tomogram).
    pub particles: Vec<Particle>,
    /// Gold beads and vesicles (class `fiducial` or `vesicle`).
    pub distractors: Vec<Particle>,
    /// Particles asked for but not placed because no free position was found.
    pub not_placed: usize,
}

impl SampleSpec {
    /// Checks the numbers.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SimError::Parameter(m));
        crate::randomization::check_voxel_size(self.voxel_size_a)?;
        if self.shape_xyz.iter().any(|&n| !(8..=4096).contains(&n)) {
            return bad(format!(
                "shape {:?}: each side must be 8 to 4096 voxels",
                self.shape_xyz
            ));
        }
        if let Some(t) = self.ice_thickness_a
            && (t.is_nan() || t <= 0.0)
        {
            return bad(format!("ice_thickness_a = {t}: must be positive"));
        }
        if let Some([lo, hi]) = self.placement_z_vox
            && !(lo >= 0.0 && hi > lo && hi <= self.shape_xyz[2] as f64)
        {
            return bad(format!(
                "placement_z_vox = [{lo}, {hi}]: must be an ordered range inside 0..={}",
                self.shape_xyz[2]
            ));
        }
        for (what, r) in [("gold", self.gold.1), ("vesicles", self.vesicles.1)] {
            if !(r[0] > 0.0 && r[1] >= r[0]) {
                return bad(format!(
                    "{what} radius range {r:?}: must be positive and ordered"
                ));
            }
        }
        if self.tries == 0 {
            return bad("tries must be at least 1".into());
        }
        Ok(())
    }
}

/// Builds a sample. Particles are drawn from `templates` in turn; `seed` fixes everything.
pub fn build_sample(spec: &SampleSpec, templates: &[Template<'_>], seed: u64) -> Result<Sample> {
    spec.validate()?;
    if templates.is_empty() && spec.n_particles > 0 {
        return Err(SimError::Parameter("no particle classes given".into()));
    }
    let [nx, ny, nz] = spec.shape_xyz;
    let vs = spec.voxel_size_a;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut potential = Array3::<f32>::zeros((nz, ny, nx));
    let mut class_mask = Array3::<u8>::zeros((nz, ny, nx));
    let mut occupancy = Array3::<u32>::zeros((nz, ny, nx));
    // The ice slab, in voxel z.
    let (ice_lo, ice_hi) = match spec.ice_thickness_a {
        Some(t) => {
            let half = t / vs / 2.0;
            (
                (nz as f64 / 2.0 - half).max(0.0),
                (nz as f64 / 2.0 + half).min(nz as f64),
            )
        }
        None => (0.0, nz as f64),
    };
    let (z_lo, z_hi) = match spec.placement_z_vox {
        Some([lo, hi]) => (ice_lo.max(lo), ice_hi.min(hi)),
        None => (ice_lo, ice_hi),
    };
    let mut particles = Vec::new();
    let mut distractors = Vec::new();

    // Gold and vesicles first: they are big and simple.
    for _ in 0..spec.gold.0 {
        let r = rng.random_range(spec.gold.1[0]..=spec.gold.1[1]) / vs;
        if let Some(c) = free_spot(&class_mask, r, (z_lo, z_hi), spec.tries, &mut rng) {
            paint_ball(
                &mut potential,
                &mut class_mask,
                c,
                r,
                |d| {
                    if d <= r {
                        Some(GOLD_POTENTIAL_V as f32)
                    } else {
                        None
                    }
                },
                GOLD_LABEL,
            );
            distractors.push(Particle::new(
                "fiducial",
                PosAngstrom::new(c[0] * vs, c[1] * vs, c[2] * vs),
            ));
        }
    }
    for _ in 0..spec.vesicles.0 {
        let r_out = rng.random_range(spec.vesicles.1[0]..=spec.vesicles.1[1]) / vs;
        let half = BILAYER_HALF_A / vs;
        let mid = r_out - (BILAYER_HALF_A + 2.0 * HEADGROUP_SD_A) / vs;
        if mid <= half {
            continue;
        }
        if let Some(c) = free_spot(&class_mask, r_out, (z_lo, z_hi), spec.tries, &mut rng) {
            let profile = |d: f64| bilayer_potential_v((d - mid) * vs);
            paint_ball(
                &mut potential,
                &mut class_mask,
                c,
                r_out,
                profile,
                MEMBRANE_LABEL,
            );
            distractors.push(Particle::new(
                "vesicle",
                PosAngstrom::new(c[0] * vs, c[1] * vs, c[2] * vs),
            ));
        }
    }

    // Particles. One that finds no room is skipped; after a whole round of classes fails in a
    // row the sample is full and filling stops, so asking for too many never loops forever.
    let mut failures_in_a_row = 0;
    for i in 0..spec.n_particles {
        let (k, t) = (i % templates.len(), &templates[i % templates.len()]);
        let rot = random_rotation(&mut rng);
        let r = t.radius;
        let side = 2 * r.ceil() as usize + 2;
        let mut placed = false;
        for _ in 0..spec.tries {
            let Some(c) = random_centre([nx, ny, nz], r, (z_lo, z_hi), &mut rng) else {
                break;
            };
            // Local box with its corner at an integer voxel; the particle centre inside it.
            let corner = [
                c[0].floor() as i64 - side as i64 / 2,
                c[1].floor() as i64 - side as i64 / 2,
                c[2].floor() as i64 - side as i64 / 2,
            ];
            let local_c = [
                c[0] - corner[0] as f64,
                c[1] - corner[1] as f64,
                c[2] - corner[2] as f64,
            ];
            let cut = spec.mask_threshold_v as f32;
            let occupied =
                |[x, y, z]: [usize; 3]| at(&class_mask, corner, [x, y, z]).is_some_and(|m| m != 0);
            // Most tries clash in a crowded sample: test first (sampling only where the mask
            // is taken, the same answer as placing it), place only what fits.
            let box_zyx = [side, side, side];
            if cut >= 0.0
                && rotated_exceeds(&t.potential, &rot, 1.0, local_c, box_zyx, r, cut, occupied)
            {
                continue;
            }
            let local = place_rotated(&t.potential, &rot, 1.0, local_c, box_zyx, r);
            let clash = cut < 0.0
                && local
                    .indexed_iter()
                    .any(|((z, y, x), v)| *v > cut && occupied([x, y, z]));
            if clash {
                continue;
            }
            let id = particles.len() as u32 + 1;
            for ((z, y, x), v) in local.indexed_iter() {
                let (gx, gy, gz) = (
                    corner[0] + x as i64,
                    corner[1] + y as i64,
                    corner[2] + z as i64,
                );
                if gx < 0
                    || gy < 0
                    || gz < 0
                    || gx >= nx as i64
                    || gy >= ny as i64
                    || gz >= nz as i64
                {
                    continue;
                }
                let g = [gz as usize, gy as usize, gx as usize];
                potential[g] += *v;
                if *v > cut {
                    class_mask[g] = k as u8 + 1;
                    occupancy[g] = id;
                }
            }
            let mut p = Particle::new(t.name, PosAngstrom::new(c[0] * vs, c[1] * vs, c[2] * vs));
            p.rotation = Some(rot);
            particles.push(p);
            placed = true;
            break;
        }
        if placed {
            failures_in_a_row = 0;
        } else {
            failures_in_a_row += 1;
            if failures_in_a_row >= templates.len().max(3) {
                break;
            }
        }
    }
    let not_placed = spec.n_particles - particles.len();

    // Vacuum outside the ice slab.
    if spec.ice_thickness_a.is_some() {
        for z in 0..nz {
            let zc = z as f64 + 0.5;
            if zc < ice_lo || zc > ice_hi {
                potential
                    .slice_mut(s![z, .., ..])
                    .fill(-ICE_POTENTIAL_V as f32);
            }
        }
    }
    Ok(Sample {
        potential,
        class_mask,
        occupancy,
        particles,
        distractors,
        not_placed,
    })
}

fn at(mask: &Array3<u8>, corner: [i64; 3], local: [usize; 3]) -> Option<u8> {
    let (nz, ny, nx) = mask.dim();
    let (x, y, z) = (
        corner[0] + local[0] as i64,
        corner[1] + local[1] as i64,
        corner[2] + local[2] as i64,
    );
    (x >= 0 && y >= 0 && z >= 0 && x < nx as i64 && y < ny as i64 && z < nz as i64)
        .then(|| mask[[z as usize, y as usize, x as usize]])
}

/// A centre (voxels, x y z) that keeps a ball of radius `r` inside the volume and the slab.
fn random_centre<R: Rng + ?Sized>(
    shape: [usize; 3],
    r: f64,
    slab: (f64, f64),
    rng: &mut R,
) -> Option<[f64; 3]> {
    let lo = [r, r, slab.0 + r];
    let hi = [shape[0] as f64 - r, shape[1] as f64 - r, slab.1 - r];
    if (0..3).any(|a| hi[a] <= lo[a]) {
        return None;
    }
    Some([
        rng.random_range(lo[0]..hi[0]),
        rng.random_range(lo[1]..hi[1]),
        rng.random_range(lo[2]..hi[2]),
    ])
}

/// A centre where a ball of radius `r` overlaps nothing yet.
fn free_spot<R: Rng + ?Sized>(
    mask: &Array3<u8>,
    r: f64,
    slab: (f64, f64),
    tries: usize,
    rng: &mut R,
) -> Option<[f64; 3]> {
    let (nz, ny, nx) = mask.dim();
    for _ in 0..tries {
        let c = random_centre([nx, ny, nz], r, slab, rng)?;
        let mut clash = false;
        visit_ball(c, r, [nx, ny, nz], |z, y, x, _| {
            clash |= mask[[z, y, x]] != 0
        });
        if !clash {
            return Some(c);
        }
    }
    None
}

fn visit_ball(c: [f64; 3], r: f64, shape: [usize; 3], mut f: impl FnMut(usize, usize, usize, f64)) {
    let lo = |a: usize| ((c[a] - r).floor().max(0.0)) as usize;
    let hi = |a: usize| ((c[a] + r).ceil() as usize).min(shape[a] - 1);
    for z in lo(2)..=hi(2) {
        for y in lo(1)..=hi(1) {
            for x in lo(0)..=hi(0) {
                let d = ((x as f64 - c[0]).powi(2)
                    + (y as f64 - c[1]).powi(2)
                    + (z as f64 - c[2]).powi(2))
                .sqrt();
                if d <= r {
                    f(z, y, x, d);
                }
            }
        }
    }
}

fn paint_ball(
    potential: &mut Array3<f32>,
    mask: &mut Array3<u8>,
    c: [f64; 3],
    r: f64,
    value: impl Fn(f64) -> Option<f32>,
    label: u8,
) {
    let (nz, ny, nx) = potential.dim();
    visit_ball(c, r, [nx, ny, nz], |z, y, x, d| {
        if let Some(v) = value(d) {
            potential[[z, y, x]] += v;
            mask[[z, y, x]] = label;
        }
    });
}
