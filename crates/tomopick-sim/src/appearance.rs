//! What the particle itself looks like, randomised (issue 14): another simulator draws the same
//! molecule with another density model (scattering factors, B-factors, solvent and hydration),
//! so a classifier must not key on how ours draws it. Each subtomogram draws an extra B-factor
//! (a Gaussian blur of the particle's density), a density exponent (flatter or peakier interior:
//! another atom-to-density model or a low-resolution map) and a hydration shell (a layer of
//! extra density, or less, just outside the particle). The mask stays the particle's own.

use crate::error::{Result, SimError};
use crate::randomization::Dist;
use crate::smooth::gaussian_smooth;
use ndarray::Array3;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The ranges of a particle's appearance (`[appearance]` in a subtomogram config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticleAppearance {
    /// Extra B-factor of the particle's density, Å² (a Gaussian blur of σ = √(B / 8π²) Å).
    #[serde(default = "zero")]
    pub b_factor_a2: Dist,
    /// Exponent on the density, its maximum kept: below 1 flattens the interior, above 1
    /// sharpens it.
    #[serde(default = "one")]
    pub density_gamma: Dist,
    /// Density of a hydration shell just outside the particle, as a fraction of the particle's
    /// mean density (negative: a depleted layer).
    #[serde(default = "zero")]
    pub shell_contrast: Dist,
    /// Width of the shell, Å.
    #[serde(default = "shell_width")]
    pub shell_width_a: Dist,
    /// Conformational variation: root mean square of a smooth random displacement of the
    /// particle's density, Å ([`crate::variation::warp`]). 0 (the default) leaves it rigid.
    #[serde(default = "zero")]
    pub warp_a: Dist,
    /// Length over which that displacement varies (the Gaussian smoothing of its field), Å.
    #[serde(default = "warp_length")]
    pub warp_length_a: Dist,
    /// Compositional variation: the probability that a particle lacks a piece (a subunit).
    #[serde(default)]
    pub missing_probability: f64,
    /// The size of the missing piece, as a fraction of the particle's volume
    /// ([`crate::variation::erase_piece`]).
    #[serde(default = "missing_fraction")]
    pub missing_fraction: Dist,
}

impl Default for ParticleAppearance {
    /// The particle as its density model draws it: nothing varied.
    fn default() -> Self {
        ParticleAppearance {
            b_factor_a2: zero(),
            density_gamma: one(),
            shell_contrast: zero(),
            shell_width_a: shell_width(),
            warp_a: zero(),
            warp_length_a: warp_length(),
            missing_probability: 0.0,
            missing_fraction: missing_fraction(),
        }
    }
}

fn zero() -> Dist {
    Dist::Fixed(0.0)
}

fn one() -> Dist {
    Dist::Fixed(1.0)
}

fn shell_width() -> Dist {
    Dist::Fixed(5.0)
}

fn warp_length() -> Dist {
    Dist::Fixed(30.0)
}

fn missing_fraction() -> Dist {
    Dist::Fixed(0.15)
}

/// One particle's drawn appearance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Appearance {
    /// Extra B-factor, Å².
    pub b_factor_a2: f64,
    /// Density exponent.
    pub density_gamma: f64,
    /// Shell density relative to the particle's mean.
    pub shell_contrast: f64,
    /// Shell width, Å.
    pub shell_width_a: f64,
    /// Its shape and composition, where the config varies them.
    pub variation: Option<Variation>,
}

/// One particle's drawn conformational and compositional variation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variation {
    /// Root mean square displacement, Å (0: rigid).
    pub warp_a: f64,
    /// Length over which the displacement varies, Å.
    pub warp_length_a: f64,
    /// Share of the particle's volume missing (0: complete).
    pub missing_fraction: f64,
    /// Seed of the displacement field and of the missing piece's place.
    pub seed: u64,
}

impl ParticleAppearance {
    /// Refuses ranges outside what a density model can give, naming the field.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, d: &Dist, lo: f64, hi: f64| {
            let (a, b) = d.range();
            if a >= lo && b <= hi {
                Ok(())
            } else {
                Err(SimError::Parameter(format!(
                    "appearance.{name} spans [{a}, {b}]: must lie in [{lo}, {hi}]"
                )))
            }
        };
        check("b_factor_a2", &self.b_factor_a2, 0.0, 20_000.0)?;
        check("density_gamma", &self.density_gamma, 0.2, 4.0)?;
        check("shell_contrast", &self.shell_contrast, -1.0, 1.0)?;
        check("shell_width_a", &self.shell_width_a, 0.5, 50.0)?;
        check("warp_a", &self.warp_a, 0.0, 50.0)?;
        check("warp_length_a", &self.warp_length_a, 5.0, 500.0)?;
        check("missing_fraction", &self.missing_fraction, 0.0, 0.5)?;
        if !(0.0..=1.0).contains(&self.missing_probability) {
            return Err(SimError::Parameter(format!(
                "appearance.missing_probability = {}: must lie in [0, 1]",
                self.missing_probability
            )));
        }
        Ok(())
    }

    /// Whether it varies the particles' shape or composition (and so draws a [`Variation`]).
    fn varies(&self) -> bool {
        self.warp_a.range().1 > 0.0 || self.missing_probability > 0.0
    }

    /// Draws one particle's appearance.
    pub fn draw(&self, rng: &mut impl Rng) -> Appearance {
        Appearance {
            b_factor_a2: self.b_factor_a2.sample(rng),
            density_gamma: self.density_gamma.sample(rng),
            shell_contrast: self.shell_contrast.sample(rng),
            shell_width_a: self.shell_width_a.sample(rng),
            // Drawn only where asked for, so that configs without it keep their streams.
            variation: self.varies().then(|| {
                let warp_a = self.warp_a.sample(rng);
                let warp_length_a = self.warp_length_a.sample(rng);
                let missing = rng.random::<f64>() < self.missing_probability;
                let missing_fraction = self.missing_fraction.sample(rng);
                Variation {
                    warp_a,
                    warp_length_a,
                    missing_fraction: if missing { missing_fraction } else { 0.0 },
                    seed: rng.random(),
                }
            }),
        }
    }
}

impl Appearance {
    /// How far the shape variation can move density, Å (the padding a box needs around it).
    pub fn warp_reach_a(&self) -> f64 {
        self.variation.map_or(0.0, |v| 3.0 * v.warp_a)
    }

    /// Bends the particle in `v` and removes its missing piece (the particle: voxels above
    /// `cut`), where drawn; to be applied before its mask is taken and [`Appearance::apply`].
    pub fn deform(&self, v: &mut Array3<f32>, cut: f32, voxel_size_a: f64) {
        if let Some(d) = &self.variation {
            crate::variation::warp(
                v,
                d.warp_a / voxel_size_a,
                d.warp_length_a / voxel_size_a,
                d.seed,
            );
            crate::variation::erase_piece(v, cut, d.missing_fraction, d.seed ^ 0x5eed);
        }
    }

    /// Standard deviation in Å of the Gaussian blur that the extra B-factor gives: √(B / 8π²).
    pub fn blur_sigma_a(&self) -> f64 {
        (self.b_factor_a2 / (8.0 * std::f64::consts::PI.powi(2))).sqrt()
    }

    /// Applies it to a box holding one particle's density `v` (voxels of `voxel_size_a`), whose
    /// extent is `mask`: the exponent, then the shell outside the mask, then the blur.
    pub fn apply(&self, v: &mut Array3<f32>, mask: &Array3<u8>, voxel_size_a: f64) {
        let max = v.iter().fold(0f32, |m, &x| m.max(x));
        if max <= 0.0 {
            return;
        }
        if (self.density_gamma - 1.0).abs() > 1e-9 {
            let g = self.density_gamma as f32;
            v.mapv_inplace(|x| if x > 0.0 { max * (x / max).powf(g) } else { x });
        }
        if self.shell_contrast != 0.0 {
            let (sum, n) = v
                .iter()
                .zip(mask.iter())
                .filter(|(_, m)| **m > 0)
                .fold((0f64, 0usize), |(s, n), (x, _)| (s + *x as f64, n + 1));
            if n > 0 {
                let level = (self.shell_contrast * sum / n as f64) as f32;
                // The shell: voxels outside the mask within its width of it (a blurred mask).
                let mut near = mask.mapv(f32::from);
                gaussian_smooth(&mut near, (self.shell_width_a / voxel_size_a).max(0.3));
                for ((x, m), s) in v.iter_mut().zip(mask.iter()).zip(near.iter()) {
                    if *m == 0 && *s > 0.05 {
                        *x += level * (*s * 2.0).min(1.0);
                    }
                }
            }
        }
        gaussian_smooth(v, self.blur_sigma_a() / voxel_size_a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ball() -> (Array3<f32>, Array3<u8>) {
        let n = 24;
        let v = Array3::from_shape_fn((n, n, n), |(z, y, x)| {
            let r2 = [z, y, x]
                .iter()
                .map(|&a| (a as f64 - 11.5).powi(2))
                .sum::<f64>();
            (5.0 * (-r2 / 18.0).exp()) as f32
        });
        let mask = v.mapv(|x| u8::from(x > 1.0));
        (v, mask)
    }

    #[test]
    fn the_identity_appearance_changes_nothing() {
        let (mut v, mask) = ball();
        let before = v.clone();
        let a = Appearance {
            b_factor_a2: 0.0,
            density_gamma: 1.0,
            shell_contrast: 0.0,
            shell_width_a: 5.0,
            variation: None,
        };
        a.apply(&mut v, &mask, 10.0);
        assert_eq!(v, before);
    }

    #[test]
    fn a_b_factor_blurs_keeping_the_mass_and_a_shell_adds_density_outside_only() {
        let (v0, mask) = ball();
        let mut v = v0.clone();
        let blur = Appearance {
            b_factor_a2: 16000.0,
            density_gamma: 1.0,
            shell_contrast: 0.0,
            shell_width_a: 5.0,
            variation: None,
        };
        blur.apply(&mut v, &mask, 10.0);
        let (m0, m1): (f32, f32) = (v0.sum(), v.sum());
        assert!((m0 - m1).abs() / m0 < 1e-3, "mass {m0} -> {m1}");
        let peak = |a: &Array3<f32>| a.iter().fold(0f32, |m, &x| m.max(x));
        assert!(peak(&v) < 0.9 * peak(&v0), "not blurred");
        let mut w = v0.clone();
        let shell = Appearance {
            b_factor_a2: 0.0,
            density_gamma: 1.0,
            shell_contrast: 0.3,
            shell_width_a: 10.0,
            variation: None,
        };
        shell.apply(&mut w, &mask, 10.0);
        for ((a, b), m) in w.iter().zip(v0.iter()).zip(mask.iter()) {
            if *m > 0 {
                assert_eq!(a, b);
            }
        }
        assert!(w.sum() > v0.sum() * 1.05, "no shell");
    }

    #[test]
    fn ranges_out_of_reach_are_refused_by_name() {
        let a = ParticleAppearance {
            b_factor_a2: Dist::Uniform([0.0, 1e6]),
            ..Default::default()
        };
        let e = a.validate().unwrap_err().to_string();
        assert!(e.contains("appearance.b_factor_a2"), "{e}");
        let a = ParticleAppearance {
            missing_probability: 1.5,
            ..Default::default()
        };
        let e = a.validate().unwrap_err().to_string();
        assert!(e.contains("appearance.missing_probability"), "{e}");
        let a = ParticleAppearance {
            warp_a: Dist::Uniform([-1.0, 5.0]),
            ..Default::default()
        };
        let e = a.validate().unwrap_err().to_string();
        assert!(e.contains("appearance.warp_a"), "{e}");
    }
}
