//! What a recorded tilt series suffers beyond its CTF and its noise, tilt by tilt: residual
//! alignment error, radiation damage that grows with the dose already received, and the
//! thicker ice a tilted beam crosses. Every real tilt series has all three in some measure and
//! another simulator models them its own way; the training cubes draw them so that the network
//! does not key on a series without them.
//!
//! - **Misalignment**: each projection shifted by its own `(dx, dy)`, each ~ N(0, σ²) pixels,
//!   before imaging (the reconstruction assumes it was not): a blur of the reconstruction that
//!   grows with σ, and streaks where the shifts disagree.
//! - **Damage**: the projection recorded `r`-th in dose-symmetric order (0°, +s, −s, +2s, …)
//!   is multiplied by `exp(−r·B·k²/4)` (`B` Å² per earlier tilt), the B-factor form of a
//!   dose-dependent loss of high resolution.
//! - **Ice attenuation**: at tilt α the beam crosses `t / cos α` of ice; the electrons that
//!   reach the detector elastically fall by `exp(−τ (1/cos α − 1))` relative to 0°, `τ = t / λ`
//!   (thickness over the inelastic mean free path), and so does the projection's SNR.

use crate::error::{Result, SimError};
use crate::fft::Complex32;
use crate::randomization::Dist;

/// The three fields of [`TiltDegradation`] in order, each with its largest allowed value:
/// misalignment 10 pixels, damage 200 Å² per tilt, τ 3 (the beam at 60° would keep e⁻³ of
/// 0°'s electrons).
pub const LIMITS: [(&str, f64); 3] = [
    ("misalignment_sd_px", 10.0),
    ("damage_b_per_tilt_a2", 200.0),
    ("thickness_over_mfp", 3.0),
];

/// Checks configured distributions of the three fields (in [`LIMITS`]' order), named
/// `prefix.field` in the message.
pub fn check_dists(prefix: &str, dists: [Option<&Dist>; 3]) -> Result<()> {
    for ((name, max), d) in LIMITS.into_iter().zip(dists) {
        if let Some(d) = d {
            d.check(
                &format!("{prefix}.{name}"),
                |v| (0.0..=max).contains(&v),
                &format!("must be in [0, {max}]"),
            )?;
        }
    }
    Ok(())
}

/// The three degradations of a tilt series; all zero (the default) leaves it as it was.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TiltDegradation {
    /// Standard deviation of each projection's alignment error along x and along y, pixels.
    pub misalignment_sd_px: f64,
    /// B-factor in Å² added for every tilt recorded before this one (dose-symmetric order).
    pub damage_b_per_tilt_a2: f64,
    /// Ice thickness over the inelastic mean free path at 0° (τ = t / λ).
    pub thickness_over_mfp: f64,
}

impl TiltDegradation {
    /// From its three values in [`LIMITS`]' order.
    pub fn from_values(
        [misalignment_sd_px, damage_b_per_tilt_a2, thickness_over_mfp]: [f64; 3],
    ) -> Self {
        TiltDegradation {
            misalignment_sd_px,
            damage_b_per_tilt_a2,
            thickness_over_mfp,
        }
    }

    /// Its three values in [`LIMITS`]' order.
    pub fn values(&self) -> [f64; 3] {
        [
            self.misalignment_sd_px,
            self.damage_b_per_tilt_a2,
            self.thickness_over_mfp,
        ]
    }

    /// Refuses a negative or non-finite value, or one above its [`LIMITS`].
    pub fn validate(&self) -> Result<()> {
        for ((name, max), v) in LIMITS.into_iter().zip(self.values()) {
            if !(0.0..=max).contains(&v) {
                return Err(SimError::Parameter(format!(
                    "{name} = {v}: must be in [0, {max}]"
                )));
            }
        }
        Ok(())
    }

    /// The share of 0°'s signal-to-noise ratio left at `alpha_deg` by the thicker ice.
    pub fn snr_factor(&self, alpha_deg: f64) -> f64 {
        let c = alpha_deg.to_radians().cos().max(1e-3);
        (-self.thickness_over_mfp * (1.0 / c - 1.0)).exp()
    }

    /// The damage envelope at |k| = `k` (1/Å) for the tilt recorded `rank`-th.
    pub fn damage(&self, rank: usize, k: f64) -> f64 {
        (-(rank as f64) * self.damage_b_per_tilt_a2 * k * k / 4.0).exp()
    }
}

/// Each tilt's place in dose-symmetric order (0 for the tilt nearest 0°, then +s before −s,
/// outward), for `angles_deg` in any order.
pub fn dose_ranks(angles_deg: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..angles_deg.len()).collect();
    let key = |a: f64| (a.abs(), a < 0.0);
    order.sort_by(|&i, &j| {
        let (a, b) = (key(angles_deg[i]), key(angles_deg[j]));
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
    });
    let mut rank = vec![0; angles_deg.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    rank
}

/// The phase ramp that shifts an image by `(dx_a, dy_a)` Å, at the spectrum's frequencies
/// `(kx, ky)` in 1/Å (multiply the spectrum by it).
pub fn shift_table(
    frequencies: impl Iterator<Item = (f64, f64)>,
    dx_a: f64,
    dy_a: f64,
) -> Vec<Complex32> {
    frequencies
        .map(|(kx, ky)| {
            let phase = -2.0 * std::f64::consts::PI * (kx * dx_a + ky * dy_a);
            Complex32::new(phase.cos() as f32, phase.sin() as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dose_symmetric_order() {
        let angles = [-6.0, -3.0, 0.0, 3.0, 6.0];
        assert_eq!(dose_ranks(&angles), vec![4, 2, 0, 1, 3]);
    }

    #[test]
    fn ice_costs_snr_only_when_tilted() {
        let d = TiltDegradation {
            thickness_over_mfp: 0.5,
            ..Default::default()
        };
        assert_eq!(d.snr_factor(0.0), 1.0);
        assert!((d.snr_factor(60.0) - (-0.5f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn refuses_out_of_range() {
        let d = TiltDegradation {
            misalignment_sd_px: -1.0,
            ..Default::default()
        };
        assert!(
            d.validate()
                .unwrap_err()
                .to_string()
                .contains("misalignment_sd_px")
        );
    }
}
