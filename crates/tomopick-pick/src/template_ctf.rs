//! The tilt series' contrast transfer, given to the templates so that they look as the
//! tomogram's particles do.
//!
//! A tomogram reconstructed from projections that were not CTF-corrected holds each particle's
//! potential times the CTF: past its first zero (about 31 Å at 5 µm underfocus, 300 kV) whole
//! bands are inverted. A template without it correlates against those bands. With the defocus
//! given, each template's spectrum is weighted by −CTF(k) (positive at low frequency, as the
//! template's protein is), or by |CTF(k)| where the tilt series was phase-flipped before
//! reconstruction, each to the power [`DEFAULT_CTF_POWER`] (the sign kept, the magnitude's
//! dips lifted). The weight is radial: one defocus for the whole tomogram (the tilt series'
//! mean), no defocus gradient across tilted images, no astigmatism.

use ndarray::Array3;
use tomopick_sim::ctf::CtfParams;

/// The power of the CTF's magnitude in the templates' weights: 0.5 named more of the foreign
/// suite's validation particles than 1 (the CTF itself) or no CTF, in eight of its ten
/// tomograms (BENCHMARKS.md, "The tilt series' CTF in the templates"). The full CTF narrows a
/// template's power to the CTF's first lobe at high defocus and names fewer there.
pub const DEFAULT_CTF_POWER: f64 = 0.5;

/// The tomogram's microscope, defocus and CTF correction, for the templates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemplateCtf {
    /// Voltage, defocus (the tilt series' mean, Å, underfocus positive), Cs, amplitude
    /// contrast; the envelope's B-factor is usually 0 here.
    pub params: CtfParams,
    /// The projections were phase-flipped before reconstruction: the templates' weights have
    /// no sign changes.
    pub phase_flipped: bool,
    /// The CTF's magnitude enters to this power (1: the CTF itself; 0: its sign alone;
    /// [`DEFAULT_CTF_POWER`] unless set).
    pub power: f64,
}

impl TemplateCtf {
    /// At `defocus_um` µm (underfocus positive) on [`CtfParams::default`]'s microscope (300 kV,
    /// Cs 2.7 mm, amplitude contrast 0.07, no envelope; set `params`' fields for others), the
    /// magnitude to the power [`DEFAULT_CTF_POWER`].
    pub fn at_defocus(defocus_um: f64, phase_flipped: bool) -> Self {
        TemplateCtf {
            params: CtfParams {
                defocus_a: defocus_um * 1e4,
                ..Default::default()
            },
            phase_flipped,
            power: DEFAULT_CTF_POWER,
        }
    }

    /// The weight for a CTF value `c`.
    fn of(&self, c: f64) -> f64 {
        let m = c.abs().powf(self.power);
        if self.phase_flipped || c < 0.0 { m } else { -m }
    }

    /// The weight of a template's spectrum at spatial frequency `k` (1/Å): the sign of −CTF
    /// (of |CTF| when phase-flipped) times |CTF| to the power `power`.
    pub fn weight(&self, k: f64) -> f64 {
        self.of(self.params.curve().value(k))
    }

    /// [`TemplateCtf::weight`] as a function of `k` (1/Å), the CTF's curve computed once.
    pub fn radial(&self) -> impl Fn(f64) -> f64 + '_ {
        let curve = self.params.curve();
        move |k| self.of(curve.value(k))
    }

    /// The weights of an `m`³ box's half spectrum `[kz, ky, kx]` (the layout of
    /// [`tomopick_sim::fft::Fft3`]) of voxels `voxel_a` Å.
    pub fn weights(&self, m: usize, voxel_a: f64) -> Array3<f32> {
        let w = self.radial();
        crate::template_filter::half_spectrum(m, voxel_a, |k| {
            w((k[0] * k[0] + k[1] * k[1] + k[2] * k[2]).sqrt()) as f32
        })
    }

    /// What is out of range, if anything: defocus in (0, 20] µm, voltage in (0, 1000] kV, Cs
    /// in [0, 10] mm, amplitude contrast in [0, 0.5], power in [0, 2].
    pub fn problem(&self) -> Option<String> {
        let p = &self.params;
        let um = p.defocus_a / 1e4;
        if !(um > 0.0 && um <= 20.0) {
            return Some(format!(
                "defocus {um} µm: must be in (0, 20] (underfocus positive)"
            ));
        }
        if !(p.voltage_kv > 0.0 && p.voltage_kv <= 1000.0) {
            return Some(format!("voltage {} kV: must be in (0, 1000]", p.voltage_kv));
        }
        if !(p.cs_mm >= 0.0 && p.cs_mm <= 10.0) {
            return Some(format!(
                "spherical aberration {} mm: must be in [0, 10]",
                p.cs_mm
            ));
        }
        if !(p.amplitude_contrast >= 0.0 && p.amplitude_contrast <= 0.5) {
            return Some(format!(
                "amplitude contrast {}: must be in [0, 0.5]",
                p.amplitude_contrast
            ));
        }
        if !(self.power >= 0.0 && self.power <= 2.0) {
            return Some(format!("CTF power {}: must be in [0, 2]", self.power));
        }
        None
    }

    /// The first zero of the CTF (Å), for the log: where the inversion starts.
    pub fn first_zero_a(&self) -> Option<f64> {
        // χ rises from the amplitude-contrast phase to π within the first lobe: the zero is
        // the first k where the phase reaches π. Scan finely up to 1/(2 Å).
        let curve = self.params.curve();
        let step = 1e-4;
        (1..5000)
            .map(|i| i as f64 * step)
            .find(|&k| curve.phase(k) >= std::f64::consts::PI)
            .map(|k| 1.0 / k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CTF itself (power 1), for checks against optics.
    fn at(defocus_um: f64, phase_flipped: bool) -> TemplateCtf {
        TemplateCtf {
            power: 1.0,
            ..TemplateCtf::at_defocus(defocus_um, phase_flipped)
        }
    }

    #[test]
    fn low_frequencies_keep_the_templates_sign_and_the_first_zero_is_where_optics_puts_it() {
        let c = at(5.0, false);
        // Amplitude contrast alone at k = 0: A = 0.07, positive.
        assert!((c.weight(0.0) - 0.07).abs() < 1e-6, "{}", c.weight(0.0));
        assert!(c.weight(1.0 / 60.0) > 0.5);
        // First zero near 1/√(λΔf) = 1/√(0.01969 Å × 50,000 Å) ≈ 31.4 Å; a little above it:
        // the amplitude-contrast phase (0.07 rad) is part of the π, and Cs slows χ.
        let z = c.first_zero_a().unwrap();
        assert!((31.4..32.2).contains(&z), "{z}");
        // Past it, inverted (unflipped) or kept positive (phase-flipped).
        assert!(c.weight(1.0 / 27.0) < -0.5);
        assert!(at(5.0, true).weight(1.0 / 27.0) > 0.5);
    }

    #[test]
    fn a_power_below_one_keeps_the_sign_and_lifts_the_magnitude() {
        let full = at(5.0, false);
        let half = TemplateCtf { power: 0.5, ..full };
        let sign = TemplateCtf { power: 0.0, ..full };
        for k in [1.0 / 200.0, 1.0 / 60.0, 1.0 / 27.0, 1.0 / 22.0] {
            let c = full.weight(k);
            assert_eq!(half.weight(k).signum(), c.signum(), "{k}");
            assert!((half.weight(k).abs() - c.abs().sqrt()).abs() < 1e-12);
            assert_eq!(sign.weight(k), c.signum());
        }
    }

    #[test]
    fn the_box_weights_are_the_radial_weight_at_each_frequency() {
        let c = at(3.0, false);
        let (m, v) = (16, 10.0);
        let w = c.weights(m, v);
        assert_eq!(w.dim(), (16, 16, 9));
        // [kz, ky, kx] = [3, 0, 4] / (16 × 10 Å): |k| = 5 / 160 Å.
        assert!((w[[3, 0, 4]] as f64 - c.weight(5.0 / 160.0)).abs() < 1e-6);
        // Negative frequencies along z alike.
        assert_eq!(w[[13, 0, 4]], w[[3, 0, 4]]);
    }
}
