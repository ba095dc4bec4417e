//! The contrast transfer function and the detector MTF.
//!
//! Convention (CTFFIND/RELION): Δf > 0 is underfocus;
//! `χ(k) = πλΔf k² − (π/2) C_s λ³ k⁴ + φ`, `CTF = −sin(χ + arctan(A/√(1−A²)))·exp(−B k²/4)`.
//! With this sign, protein (positive potential) images dark at low frequency, as in real data.

/// Microscope and CTF parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtfParams {
    /// Acceleration voltage in kV.
    pub voltage_kv: f64,
    /// Defocus in Å; positive is underfocus.
    pub defocus_a: f64,
    /// Spherical aberration in mm.
    pub cs_mm: f64,
    /// Amplitude contrast fraction A (0.07 typical).
    pub amplitude_contrast: f64,
    /// Envelope B-factor in Å².
    pub b_factor_a2: f64,
    /// Extra phase shift in radians (phase plate).
    pub phase_shift_rad: f64,
}

impl Default for CtfParams {
    fn default() -> Self {
        CtfParams {
            voltage_kv: 300.0,
            defocus_a: 30_000.0,
            cs_mm: 2.7,
            amplitude_contrast: 0.07,
            b_factor_a2: 0.0,
            phase_shift_rad: 0.0,
        }
    }
}

/// Relativistic electron wavelength in Å.
pub fn wavelength_a(voltage_kv: f64) -> f64 {
    let v = voltage_kv * 1e3;
    // h / sqrt(2 m0 e V (1 + eV / 2 m0 c²)), in Å.
    12.264_259_9 / (v * (1.0 + 0.978_475_7e-6 * v)).sqrt()
}

impl CtfParams {
    /// The phase χ(k) + amplitude-contrast phase at spatial frequency `k` (1/Å).
    pub fn phase(&self, k: f64) -> f64 {
        self.curve().phase(k)
    }
    /// The CTF at spatial frequency `k` (1/Å), envelope included.
    pub fn value(&self, k: f64) -> f64 {
        self.curve().value(k)
    }
    /// The CTF's constants worked out once, for evaluating it at many frequencies.
    pub fn curve(&self) -> CtfCurve {
        let lambda = wavelength_a(self.voltage_kv);
        let cs = self.cs_mm * 1e7;
        let pi = std::f64::consts::PI;
        let a = self.amplitude_contrast;
        CtfCurve {
            k2: pi * lambda * self.defocus_a,
            k4: 0.5 * pi * cs * lambda.powi(3),
            phase0: self.phase_shift_rad + (a / (1.0 - a * a).sqrt()).atan(),
            envelope: self.b_factor_a2 / 4.0,
        }
    }
}

/// A CTF ready to evaluate: `χ(k) = k2·k² − k4·k⁴ + phase0`, envelope `exp(−envelope·k²)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtfCurve {
    k2: f64,
    k4: f64,
    phase0: f64,
    envelope: f64,
}

impl CtfCurve {
    /// The phase at spatial frequency `k` (1/Å).
    pub fn phase(&self, k: f64) -> f64 {
        let q = k * k;
        self.k2 * q - self.k4 * q * q + self.phase0
    }
    /// The CTF at spatial frequency `k` (1/Å), envelope included.
    pub fn value(&self, k: f64) -> f64 {
        -self.phase(k).sin() * (-self.envelope * k * k).exp()
    }
}

/// The MTF of ideal square pixels, `sinc(π ω / 2)` with ω = k / k_Nyquist (0.637 at Nyquist).
pub fn pixel_mtf(k: f64, voxel_size_a: f64) -> f64 {
    let w = k * 2.0 * voxel_size_a;
    let x = std::f64::consts::FRAC_PI_2 * w;
    if x.abs() < 1e-12 { 1.0 } else { x.sin() / x }
}
