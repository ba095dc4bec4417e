//! Noise of which a share is low-passed in each projection: real tilt series carry noise that is
//! not white at the scale of a particle (ice of varying thickness and density, beam-induced
//! motion, a gain reference's residue, interpolation in alignment and binning), and another
//! simulator may colour part of its noise so (the foreign suite's "mixed" noise: half its
//! variance Gaussian noise blurred by one pixel). Such noise makes particle-sized blobs where
//! there is no particle. A share `fraction` of the noise variance is passed through a Gaussian of
//! `sigma_px` pixels, the rest left as it was; the total variance, and so the SNR, is unchanged.

use crate::error::{Result, SimError};
use crate::randomization::Dist;

/// Largest allowed blur, pixels (the share is at most 1).
const MAX_SIGMA_PX: f64 = 8.0;

/// The low-passed share of a tilt series' noise; the default (share 0) leaves the noise as it was.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LowPassNoise {
    /// Share of the noise variance that is low-passed, in [0, 1].
    pub fraction: f64,
    /// Standard deviation of the Gaussian blur of that share, pixels.
    pub sigma_px: f64,
}

impl LowPassNoise {
    /// Refuses a share outside [0, 1] or a blur outside [0, 8] pixels.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.fraction) || !(0.0..=MAX_SIGMA_PX).contains(&self.sigma_px) {
            return Err(SimError::Parameter(format!(
                "low-passed noise: fraction {} must be in [0, 1] and sigma {} px in [0, {MAX_SIGMA_PX}]",
                self.fraction, self.sigma_px
            )));
        }
        Ok(())
    }

    /// The noise filter `h` (amplitude per frequency of a real 2D spectrum, `k` in 1/Å at the
    /// same positions, `weight` each position's share of the full spectrum) with this share
    /// low-passed: `√((1 − f)·h² + f·s·(h·g)²)`, `g` the blur's transfer and `s` the factor that
    /// gives both parts the same mean power, so the mean power of `h` is kept. Unchanged at
    /// share 0.
    pub fn apply(&self, h: &[f32], k: &[f64], weight: &[f64], pixel_a: f64) -> Vec<f32> {
        if self.fraction == 0.0 {
            return h.to_vec();
        }
        let c = 2.0 * std::f64::consts::PI.powi(2) * (self.sigma_px * pixel_a).powi(2);
        let g2: Vec<f64> = k.iter().map(|k| (-2.0 * c * k * k).exp()).collect();
        let (mut plain, mut blurred) = (0.0, 0.0);
        for ((h, g2), w) in h.iter().zip(&g2).zip(weight) {
            let h2 = (*h as f64).powi(2);
            plain += w * h2;
            blurred += w * h2 * g2;
        }
        let s = if blurred > 0.0 { plain / blurred } else { 0.0 };
        let f = self.fraction;
        h.iter()
            .zip(&g2)
            .map(|(h, g2)| {
                let h2 = (*h as f64).powi(2);
                ((1.0 - f) * h2 + f * s * h2 * g2).sqrt() as f32
            })
            .collect()
    }
}

/// Checks configured distributions of the share and the blur, named `prefix.low_pass_noise_*`.
/// `sigma_px` is `Some` where the blur was configured (not left at its default): a blur without
/// a share of the noise to act on would be silently unused, so it is refused.
pub fn check_dists(prefix: &str, fraction: Option<&Dist>, sigma_px: Option<&Dist>) -> Result<()> {
    let no_share = fraction.is_none_or(|d| d.range().1 <= 0.0);
    if let (true, Some(px)) = (no_share, sigma_px) {
        return Err(SimError::Parameter(format!(
            "{prefix}.low_pass_noise_px = {px:?} has no effect: {prefix}.low_pass_noise_fraction \
             is not set above 0, so no share of the noise is low-passed"
        )));
    }
    if let Some(d) = fraction {
        d.check(
            &format!("{prefix}.low_pass_noise_fraction"),
            |v| (0.0..=1.0).contains(&v),
            "must be in [0, 1]",
        )?;
    }
    if let Some(d) = sigma_px {
        d.check(
            &format!("{prefix}.low_pass_noise_px"),
            |v| (0.0..=MAX_SIGMA_PX).contains(&v),
            &format!("must be in [0, {MAX_SIGMA_PX}]"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_power_is_kept_and_the_share_moves_to_low_frequencies() {
        let n = 200;
        let k: Vec<f64> = (0..n).map(|i| i as f64 / n as f64 * 0.05).collect();
        let h = vec![1.0f32; n];
        let w = vec![1.0; n];
        let mixed = LowPassNoise {
            fraction: 0.5,
            sigma_px: 1.0,
        }
        .apply(&h, &k, &w, 10.0);
        let mean = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / n as f64;
        assert!((mean(&mixed) - 1.0).abs() < 1e-6, "{}", mean(&mixed));
        assert!(
            mixed[0] > 1.2 && mixed[n - 1] < 0.75,
            "{} {}",
            mixed[0],
            mixed[n - 1]
        );
        let none = LowPassNoise::default().apply(&h, &k, &w, 10.0);
        assert_eq!(none, h);
        assert!(
            LowPassNoise {
                fraction: 1.5,
                sigma_px: 1.0
            }
            .validate()
            .is_err()
        );
    }
}
