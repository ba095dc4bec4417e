//! Peng (1996) five-Gaussian electron scattering factors, `f(s) = Σ aᵢ exp(−bᵢ s²)` with
//! `s = |k| / 2` in Å⁻¹, a in Å and b in Å² (Acta Cryst. A52, 257–276, table 1, neutral atoms).

/// Scattering parameters of one element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Element {
    /// Chemical symbol, capitalised as in the periodic table.
    pub symbol: &'static str,
    /// a₁..a₅ in Å.
    pub a: [f64; 5],
    /// b₁..b₅ in Å².
    pub b: [f64; 5],
}

/// The elements tomopick knows. Values as tabulated by PyTom (`physics.py`) and cryojax.
pub const ELEMENTS: &[Element] = &[
    Element {
        symbol: "H",
        a: [0.0349, 0.1201, 0.1970, 0.0573, 0.1195],
        b: [0.5347, 3.5867, 12.3471, 18.9525, 38.6269],
    },
    Element {
        symbol: "C",
        a: [0.0893, 0.2563, 0.7570, 1.0487, 0.3575],
        b: [0.2465, 1.7100, 6.4094, 18.6113, 50.2523],
    },
    Element {
        symbol: "N",
        a: [0.1022, 0.3219, 0.7982, 0.8197, 0.1715],
        b: [0.2451, 1.7481, 6.1925, 17.3894, 48.1431],
    },
    Element {
        symbol: "O",
        a: [0.0974, 0.2921, 0.6910, 0.6990, 0.2039],
        b: [0.2067, 1.3815, 4.6943, 12.7105, 32.4726],
    },
    Element {
        symbol: "F",
        a: [0.1083, 0.3175, 0.6487, 0.5846, 0.1421],
        b: [0.2057, 1.3439, 4.2788, 11.3932, 28.7881],
    },
    Element {
        symbol: "Na",
        a: [0.2142, 0.6853, 0.7692, 1.6589, 1.4482],
        b: [0.3334, 2.3446, 10.083, 48.3037, 138.27],
    },
    Element {
        symbol: "Mg",
        a: [0.2314, 0.6866, 0.9677, 2.1882, 1.1339],
        b: [0.3278, 2.2720, 10.9241, 39.2898, 101.9748],
    },
    Element {
        symbol: "P",
        a: [0.2548, 0.6106, 1.4541, 2.3204, 0.8477],
        b: [0.2908, 1.8740, 8.5176, 24.3434, 63.2996],
    },
    Element {
        symbol: "S",
        a: [0.2497, 0.5628, 1.3899, 2.1865, 0.7715],
        b: [0.2681, 1.6711, 7.0267, 19.5377, 50.3888],
    },
    Element {
        symbol: "Cl",
        a: [0.2443, 0.5397, 1.3919, 2.0197, 0.6621],
        b: [0.2468, 1.5242, 6.1537, 16.6687, 42.3086],
    },
    Element {
        symbol: "K",
        a: [0.4115, 1.4031, 2.2784, 2.6742, 2.2162],
        b: [0.3703, 3.3874, 13.1029, 68.9592, 194.4329],
    },
    Element {
        symbol: "Ca",
        a: [0.4054, 1.3880, 2.1602, 3.7532, 2.2063],
        b: [0.3499, 3.0991, 11.9608, 53.9353, 142.3892],
    },
    Element {
        symbol: "Fe",
        a: [0.3946, 1.2725, 1.7031, 2.3140, 1.4795],
        b: [0.2717, 2.0443, 7.6007, 29.9714, 86.2265],
    },
    Element {
        symbol: "Zn",
        a: [0.4288, 1.2646, 1.4472, 1.8294, 1.0934],
        b: [0.2593, 1.7998, 6.7500, 25.5860, 73.5284],
    },
];

/// `K = h² / (2π m₀ e)` in V·Å²: converts a scattering factor in Å to a potential.
pub const K_V_A2: f64 = 47.878;

/// Potential of vitreous ice in V (Vulović 2013), subtracted where protein displaces solvent.
pub const ICE_POTENTIAL_V: f64 = 4.5301;

impl Element {
    /// Looks up a symbol, case-insensitively (`FE`, `Fe`).
    pub fn from_symbol(symbol: &str) -> Option<&'static Element> {
        let s = symbol.trim();
        ELEMENTS.iter().find(|e| e.symbol.eq_ignore_ascii_case(s))
    }
    /// Carbon, used for unknown elements.
    pub fn carbon() -> &'static Element {
        &ELEMENTS[1]
    }
    /// `∫V d³r = K Σ aᵢ` in V·Å³.
    pub fn integrated_potential(&self) -> f64 {
        K_V_A2 * self.a.iter().sum::<f64>()
    }
}
