//! Template matching's options: what `match-templates`, `pick --match-templates` and Python's
//! keywords set, their defaults, and the check that refuses them out of range. Re-exported by
//! [`crate::template_match`].

use crate::error::{PickError, Result};
use crate::template_ctf::TemplateCtf;
use crate::template_hand::Hand;
use std::path::Path;

/// How to match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemplateMatchOptions {
    /// Orientations tried per class (uniform random rotations from `seed`).
    pub rotations: usize,
    /// Seed of the orientations.
    pub seed: u64,
    /// Low-pass cut-off, Å.
    pub lowpass_a: f64,
    /// High-pass cut-off, Å.
    pub highpass_a: f64,
    /// Largest tilt of the tilt series (degrees; the missing wedge), `None`: no wedge.
    pub tilt_max_deg: Option<f64>,
    /// Shifts of up to this many voxels along each axis are tried around each pick.
    pub shift_vox: usize,
    /// `Some(true)`: protein is brighter than ice; `Some(false)`: darker; `None`: read it from
    /// the picks.
    pub protein_bright: Option<bool>,
    /// Orientations re-scored at every shift: the best this many at the pick's centre
    /// (0, or as many as `rotations`: every orientation at every shift).
    pub refine: usize,
    /// Whiten: weight boxes and templates alike by 1/√(the boxes' mean power) at each spatial
    /// frequency, so that correlation is the matched filter for the tomogram's coloured noise.
    pub whiten: bool,
    /// Places of the tomogram, away from the picks, against which each class's scores are
    /// standardised (0: over the picks instead).
    pub background: usize,
    /// Against reference places, each class's z-score is weighted by its spread there to this
    /// power (see [`DEFAULT_NAMING_EXPONENT`]).
    pub naming_exponent: f64,
    /// The tilt series' CTF, given to the templates (`None`: templates without it).
    pub ctf: Option<TemplateCtf>,
    /// The tomogram's hand against the templates' ([`Hand::Auto`]: told from the picks).
    pub hand: Hand,
}

/// Protein's contrast as the command line and Python name it: `auto` (read from the picks:
/// `Some(None)`), `bright` (`Some(Some(true))`) or `dark` (`Some(Some(false))`); `None` for
/// anything else. [`TemplateMatchOptions::protein_bright`] takes the inner value.
pub fn parse_protein(s: &str) -> Option<Option<bool>> {
    match s {
        "auto" => Some(None),
        "bright" => Some(Some(true)),
        "dark" => Some(Some(false)),
        _ => None,
    }
}

/// The missing wedge of a tilt series whose largest tilt is `tilt_max_deg` degrees, as
/// [`TemplateMatchOptions::tilt_max_deg`] takes it: 90° (a full tilt range) means none.
pub fn missing_wedge(tilt_max_deg: f64) -> Option<f64> {
    (tilt_max_deg != 90.0).then_some(tilt_max_deg)
}

impl TemplateMatchOptions {
    /// The options `pick --match-templates` (and Python's `pick(match_templates=True)`) uses:
    /// the defaults with the tilt series' largest tilt ([`missing_wedge`]), `rotations`, the
    /// tilt series' CTF, if given, and the tomogram's `hand`.
    pub fn for_pick(
        tilt_max_deg: f64,
        rotations: usize,
        ctf: Option<TemplateCtf>,
        hand: Hand,
    ) -> Self {
        TemplateMatchOptions {
            tilt_max_deg: missing_wedge(tilt_max_deg),
            rotations,
            ctf,
            hand,
            ..Default::default()
        }
    }
}

impl Default for TemplateMatchOptions {
    fn default() -> Self {
        TemplateMatchOptions {
            rotations: DEFAULT_ROTATIONS,
            seed: DEFAULT_SEED,
            lowpass_a: DEFAULT_LOWPASS_A,
            highpass_a: DEFAULT_HIGHPASS_A,
            tilt_max_deg: Some(DEFAULT_TILT_MAX),
            shift_vox: DEFAULT_SHIFT_VOX,
            protein_bright: None,
            refine: 0,
            whiten: false,
            background: DEFAULT_BACKGROUND,
            naming_exponent: DEFAULT_NAMING_EXPONENT,
            ctf: None,
            hand: Hand::Auto,
        }
    }
}

/// The tilt series' largest tilt assumed when none is given (`pick`/`adapt --tilt-max`,
/// Python's `tilt_max=`): ±60°, the common dose-symmetric scheme.
pub const DEFAULT_TILT_MAX: f64 = 60.0;

/// Orientations tried per class (`rotations`; `match-templates --rotations`, `pick
/// --template-rotations`).
pub const DEFAULT_ROTATIONS: usize = 1500;

/// Seed of the orientations (`seed`).
pub const DEFAULT_SEED: u64 = 1;

/// The band-pass's high-pass cut-off, Å (`highpass_a`).
pub const DEFAULT_HIGHPASS_A: f64 = 150.0;

/// Shifts tried around each pick, voxels along each axis (`shift_vox`).
pub const DEFAULT_SHIFT_VOX: usize = 1;

/// The band-pass's low-pass cut-off, Å (`lowpass_a`): 20 Å named more of the foreign suite's
/// validation part than 25 or 30 Å (BENCHMARKS.md, "What limits template matching's names").
pub const DEFAULT_LOWPASS_A: f64 = 20.0;

/// Reference places per tomogram for the z-scores (`background`).
pub const DEFAULT_BACKGROUND: usize = 200;

/// Against reference places a class's standardised score is its z-score there (correlation
/// less the places' median, over their spread s, 1.4826 × MAD) times (s / S)^e, e this,
/// S the geometric mean of the classes' spreads. The z-score alone favours the large classes
/// (their correlation spreads little at empty places: at any particle they stand out), the
/// correlation less the median alone (exponent 1) the small ones; 0.5 names the most on the
/// foreign suite's validation part (BENCHMARKS.md, "Template matching's z-scores and the
/// sample's make-up"). Where every class spreads alike it is the z-score.
pub const DEFAULT_NAMING_EXPONENT: f64 = 0.5;

/// Refuses options out of their range; `path` names the tomogram.
pub fn check_options(o: &TemplateMatchOptions, path: &Path) -> Result<()> {
    let bad = |what: String| Err(PickError::input(path, what));
    if o.rotations == 0 {
        return bad("template matching needs at least one orientation".into());
    }
    if !(o.lowpass_a.is_finite() && o.lowpass_a > 0.0) {
        return bad(format!("low-pass {} Å: must be positive", o.lowpass_a));
    }
    if !(o.highpass_a.is_finite() && o.highpass_a > o.lowpass_a) {
        return bad(format!(
            "high-pass {} Å: must be longer than the low-pass ({} Å)",
            o.highpass_a, o.lowpass_a
        ));
    }
    if let Some(t) = o.tilt_max_deg
        && !(t > 0.0 && t <= 90.0)
    {
        return bad(format!("largest tilt {t}°: must be in (0, 90]"));
    }
    if !o.naming_exponent.is_finite() {
        return bad(format!(
            "naming exponent {}: must be finite",
            o.naming_exponent
        ));
    }
    if o.shift_vox > 4 {
        return bad(format!("shift {} voxels: at most 4", o.shift_vox));
    }
    if let Some(problem) = o.ctf.as_ref().and_then(TemplateCtf::problem) {
        return bad(problem);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_options() {
        let p = Path::new("t.mrc");
        let o = TemplateMatchOptions::default();
        assert!(check_options(&TemplateMatchOptions { rotations: 0, ..o }, p).is_err());
        let e = check_options(
            &TemplateMatchOptions {
                highpass_a: 20.0,
                ..o
            },
            p,
        )
        .unwrap_err();
        assert!(e.to_string().contains("high-pass 20 Å"), "{e}");
        assert!(
            check_options(
                &TemplateMatchOptions {
                    tilt_max_deg: Some(0.0),
                    ..o
                },
                p
            )
            .is_err()
        );
        let e = check_options(
            &TemplateMatchOptions {
                naming_exponent: f64::NAN,
                ..o
            },
            p,
        )
        .unwrap_err();
        assert!(e.to_string().contains("naming exponent"), "{e}");
        let ctf = |defocus_um: f64| TemplateMatchOptions {
            ctf: Some(TemplateCtf::at_defocus(defocus_um, false)),
            ..o
        };
        let e = check_options(&ctf(-3.0), p).unwrap_err();
        assert!(e.to_string().contains("defocus -3 µm"), "{e}");
        assert!(check_options(&ctf(3.0), p).is_ok());
        assert!(check_options(&o, p).is_ok());
    }
}
