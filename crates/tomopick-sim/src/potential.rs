//! Electrostatic potential of an atomic model on a voxel grid, in volts.
//!
//! Maps are cached on disk (see [`crate::library::class_potential`]): bump
//! [`crate::library::MAP_VERSION`] with any change here that alters the numbers.
//!
//! Each Peng Gaussian is averaged over each voxel exactly (the IASA approach of Rullgård 2011
//! and Vulović 2013): along each axis the voxel integral of `exp(−4π²x²/b)` is
//! `(√b / 4√π)·[erf(2πx₁/√b) − erf(2πx₀/√b)]`, so the integral over a voxel of one atom's
//! Gaussian i is `K aᵢ Π_axes ½[erf(…) − erf(…)]`, and the whole atom integrates to `K Σ aᵢ`.
//!
//! Atoms are weighted by their occupancy. Optional: a B-factor (added to every bᵢ), united-atom hydrogens (PDB files rarely hold
//! hydrogens; each heavy atom carries its typical number of bonded H at its own position),
//! and subtraction of the ice that the protein displaces (4.5301 V times the fraction of the
//! voxel occupied, from an average 17.4 Å³ per heavy atom, 1.35 g/cm³ protein).

use crate::error::{Result, SimError};
use crate::scattering::{ELEMENTS, Element, ICE_POTENTIAL_V, K_V_A2};
use crate::structure::Atom;
use ndarray::Array3;
use rayon::prelude::*;
use std::f64::consts::PI;
use tomopick_io::{Volume, VoxelSize};

/// Options for [`potential_map`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PotentialOptions {
    /// Voxel size in Å.
    pub voxel_size_a: f64,
    /// B-factor in Å² added to every atom.
    pub b_factor: f64,
    /// Also add each atom's own B-factor from the file.
    pub use_atom_b_factors: bool,
    /// Add united-atom hydrogens.
    pub implicit_hydrogens: bool,
    /// Subtract the displaced ice.
    pub subtract_solvent: bool,
    /// Empty margin around the structure in Å.
    pub padding_a: f64,
}

impl Default for PotentialOptions {
    fn default() -> Self {
        PotentialOptions {
            voxel_size_a: 10.0,
            b_factor: 0.0,
            use_atom_b_factors: false,
            implicit_hydrogens: true,
            subtract_solvent: true,
            padding_a: 20.0,
        }
    }
}

/// Average hydrogens bonded to a heavy atom of each element in proteins.
fn implicit_h(symbol: &str) -> f64 {
    match symbol {
        "C" => 1.3,
        "N" => 1.1,
        "O" => 0.3,
        "S" => 0.5,
        _ => 0.0,
    }
}

/// Volume a heavy atom displaces, Å³ (protein at 1.35 g/cm³, ≈ 14 Da per heavy atom with its H).
pub const HEAVY_ATOM_VOLUME_A3: f64 = 17.4;
/// Width (sd, Å) of the Gaussian that spreads an atom's displaced volume.
const SOLVENT_SIGMA_A: f64 = 1.5;

/// The cubic box side in voxels (even) and the centre of the atoms in Å.
pub fn box_for(atoms: &[Atom], voxel_size_a: f64, padding_a: f64) -> (usize, [f64; 3]) {
    let n = atoms.len().max(1) as f64;
    let mut c = [0.0; 3];
    for a in atoms {
        for (ck, p) in c.iter_mut().zip(a.pos_a) {
            *ck += p / n;
        }
    }
    let rmax = atoms
        .iter()
        .map(|a| {
            (0..3)
                .map(|k| (a.pos_a[k] - c[k]).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .fold(0.0, f64::max);
    let half = ((rmax + padding_a) / voxel_size_a).ceil() as usize;
    (2 * half.max(1), c)
}

/// One Gaussian `w·exp(−4π²r²/b)`, normalised so that `weight` is its integral, to deposit.
struct Blob {
    pos: [f64; 3],
    b: f64,
    weight: f64,
}

/// Adds the voxel integrals of `blobs` (divided by the voxel volume) into a cube of side `n`.
fn deposit(blobs: &[Blob], n: usize, vs: f64) -> Array3<f64> {
    let threads = rayon::current_num_threads().max(1);
    let chunk = blobs.len().div_ceil(threads).max(1);
    let partial: Vec<Array3<f64>> = blobs
        .par_chunks(chunk)
        .map(|part| {
            let mut acc = Array3::<f64>::zeros((n, n, n));
            let mut ix = Vec::new();
            let mut iy = Vec::new();
            let mut iz = Vec::new();
            for bl in part {
                let s = bl.b.sqrt();
                let sigma = s / (2.0 * PI * std::f64::consts::SQRT_2);
                let r = (4.0 * sigma / vs).ceil() as i64 + 1;
                let axis = |u: f64, out: &mut Vec<(usize, f64)>| {
                    out.clear();
                    let kc = (u / vs).round() as i64;
                    for k in (kc - r).max(0)..=(kc + r).min(n as i64 - 1) {
                        let x0 = (k as f64 - 0.5) * vs - u;
                        let x1 = (k as f64 + 0.5) * vs - u;
                        let v = 0.5 * (libm::erf(2.0 * PI * x1 / s) - libm::erf(2.0 * PI * x0 / s));
                        if v != 0.0 {
                            out.push((k as usize, v));
                        }
                    }
                };
                axis(bl.pos[0], &mut ix);
                axis(bl.pos[1], &mut iy);
                axis(bl.pos[2], &mut iz);
                for &(z, wz) in &iz {
                    for &(y, wy) in &iy {
                        let wzy = bl.weight * wz * wy;
                        for &(x, wx) in &ix {
                            acc[[z, y, x]] += wzy * wx;
                        }
                    }
                }
            }
            acc
        })
        .collect();
    let dv = vs * vs * vs;
    let mut total = Array3::<f64>::zeros((n, n, n));
    for p in partial {
        total += &p;
    }
    total.mapv_inplace(|v| v / dv);
    total
}

/// The potential of `atoms` in a cube centred on their centroid (voxel `n/2` is the centre).
pub fn potential_map(atoms: &[Atom], opts: &PotentialOptions) -> Result<Volume> {
    let vs = opts.voxel_size_a;
    if !(vs.is_finite() && vs > 0.0) {
        return Err(SimError::Parameter(format!(
            "voxel size {vs} Å: must be positive"
        )));
    }
    if !(opts.b_factor.is_finite() && opts.b_factor >= 0.0) {
        return Err(SimError::Parameter(format!(
            "B-factor {} Å²: must be zero or positive",
            opts.b_factor
        )));
    }
    if atoms.is_empty() {
        return Err(SimError::Parameter(
            "no atoms to turn into a potential".into(),
        ));
    }
    let (n, c) = box_for(atoms, vs, opts.padding_a);
    let shift = n as f64 / 2.0 * vs;
    let hydrogen: &Element = &ELEMENTS[0];
    let mut blobs = Vec::with_capacity(atoms.len() * 10);
    for a in atoms {
        let pos = [
            a.pos_a[0] - c[0] + shift,
            a.pos_a[1] - c[1] + shift,
            a.pos_a[2] - c[2] + shift,
        ];
        let extra_b = opts.b_factor
            + if opts.use_atom_b_factors {
                a.b_factor.max(0.0)
            } else {
                0.0
            };
        // Integral of w·exp(−4π²r²/b) over all space is w·(b/4π)^{3/2}; deposit() integrates a
        // unit-integral Gaussian, so weight = K·aᵢ.
        let nh = if opts.implicit_hydrogens {
            implicit_h(a.element.symbol)
        } else {
            0.0
        };
        for (el, count) in [(a.element, 1.0), (hydrogen, nh)] {
            if count == 0.0 {
                continue;
            }
            for i in 0..5 {
                blobs.push(Blob {
                    pos,
                    b: el.b[i] + extra_b,
                    weight: a.occupancy * count * K_V_A2 * el.a[i],
                });
            }
        }
    }
    let mut v = deposit(&blobs, n, vs);
    if opts.subtract_solvent {
        let b_solvent = 8.0 * PI * PI * SOLVENT_SIGMA_A * SOLVENT_SIGMA_A;
        let occ: Vec<Blob> = atoms
            .iter()
            .filter(|a| a.element.symbol != "H")
            .map(|a| Blob {
                pos: [
                    a.pos_a[0] - c[0] + shift,
                    a.pos_a[1] - c[1] + shift,
                    a.pos_a[2] - c[2] + shift,
                ],
                b: b_solvent,
                weight: a.occupancy * HEAVY_ATOM_VOLUME_A3,
            })
            .collect();
        let fraction = deposit(&occ, n, vs);
        v.zip_mut_with(&fraction, |p, f| *p -= ICE_POTENTIAL_V * f.min(1.0));
    }
    Ok(Volume::new(v.mapv(|x| x as f32), VoxelSize::isotropic(vs)))
}
