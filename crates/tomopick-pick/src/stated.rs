//! What a dataset states about each tomogram's tilt series (a RELION 5 project's tilt-series
//! STAR files and its microscope, a CSV manifest's `defocus` and `tilt_max` columns), and how
//! it enters `--match-templates`: each tomogram's templates get its own CTF and missing wedge.

use crate::error::{PickError, Result};
use crate::template_ctf::{DEFAULT_CTF_POWER, TemplateCtf};
use crate::template_match::TemplateMatchOptions;
use std::path::PathBuf;
use tomopick_io::lists::tomograms_star::read_tilt_series_star;

/// What a dataset states about one tomogram's tilt series (nothing, by default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatedTiltSeries {
    /// The mean defocus over the tilt images, µm (underfocus positive).
    pub defocus_um: Option<f64>,
    /// The largest |tilt|, degrees.
    pub tilt_max_deg: Option<f64>,
    /// The projections were phase-flipped (CTF-corrected) before reconstruction.
    pub phase_flipped: Option<bool>,
    /// Acceleration voltage, kV.
    pub voltage_kv: Option<f64>,
    /// Spherical aberration, mm.
    pub cs_mm: Option<f64>,
    /// Amplitude contrast (fraction).
    pub amplitude_contrast: Option<f64>,
    /// A RELION 5 tilt series' STAR file and the tomogram's name (its block), read only when a
    /// pick needs the defocus or the tilts ([`StatedTiltSeries::resolved`]).
    pub relion_star: Option<(PathBuf, String)>,
    /// The file that states the rest (a manifest, a `tomograms.star`), for messages.
    pub source: Option<PathBuf>,
}

impl StatedTiltSeries {
    /// These facts with the tilt series' STAR file read (defocus and tilt range taken from it
    /// where not stated otherwise); errors name the file and line.
    pub fn resolved(&self) -> Result<StatedTiltSeries> {
        let mut out = self.clone();
        if let Some((path, name)) = &self.relion_star {
            let ts = read_tilt_series_star(path, name)?;
            out.defocus_um = out.defocus_um.or(ts.mean_defocus_a().map(|a| a / 1e4));
            out.tilt_max_deg = out.tilt_max_deg.or(ts.tilt_max_deg());
        }
        Ok(out)
    }

    /// Where the facts come from, for the log.
    fn source(&self) -> PathBuf {
        match (&self.relion_star, &self.source) {
            (Some((p, _)), _) | (None, Some(p)) => p.clone(),
            (None, None) => PathBuf::from("the dataset"),
        }
    }
}

/// Which stated facts `--match-templates` takes for each tomogram of a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UseStated {
    /// Give the templates each tomogram's stated CTF (where the request's options carry none:
    /// a CTF set by the user is kept for every tomogram).
    pub ctf: bool,
    /// Every stated CTF's tilt series was phase-flipped before reconstruction (else each
    /// tomogram's own statement, if any, says).
    pub phase_flipped: bool,
    /// The stated CTFs' magnitude enters to this power (see [`TemplateCtf::power`]).
    pub ctf_power: f64,
    /// Use each tomogram's stated tilt range for the missing wedge (instead of the request's).
    pub tilt: bool,
}

impl Default for UseStated {
    /// Everything stated is used; not phase-flipped; [`DEFAULT_CTF_POWER`].
    fn default() -> Self {
        UseStated {
            ctf: true,
            phase_flipped: false,
            ctf_power: DEFAULT_CTF_POWER,
            tilt: true,
        }
    }
}

/// The template-matching options for one tomogram: `base` with the CTF and tilt range that
/// `stated` gives, where `use_` takes them, and a sentence for the log saying what was taken
/// (`None` when nothing was). A stated value out of range is refused, naming its source.
pub fn options_for(
    base: &TemplateMatchOptions,
    stated: &StatedTiltSeries,
    use_: &UseStated,
) -> Result<(TemplateMatchOptions, Option<String>)> {
    let want_ctf = use_.ctf && base.ctf.is_none();
    if !(want_ctf || use_.tilt) || *stated == StatedTiltSeries::default() {
        return Ok((*base, None));
    }
    let s = stated.resolved()?;
    let mut o = *base;
    let mut said = Vec::new();
    if let (true, Some(um)) = (want_ctf, s.defocus_um) {
        let flipped = use_.phase_flipped || s.phase_flipped == Some(true);
        let mut ctf = TemplateCtf::at_defocus(um, flipped);
        let p = &mut ctf.params;
        p.voltage_kv = s.voltage_kv.unwrap_or(p.voltage_kv);
        p.cs_mm = s.cs_mm.unwrap_or(p.cs_mm);
        p.amplitude_contrast = s.amplitude_contrast.unwrap_or(p.amplitude_contrast);
        ctf.power = use_.ctf_power;
        if let Some(m) = ctf.problem() {
            return Err(PickError::input(
                &s.source(),
                format!("the tilt series' CTF: {m}"),
            ));
        }
        said.push(format!(
            "the CTF at {um:.2} µm defocus, {} kV{}",
            ctf.params.voltage_kv,
            if flipped { ", phase-flipped" } else { "" }
        ));
        o.ctf = Some(ctf);
    }
    if let (true, Some(t)) = (use_.tilt, s.tilt_max_deg) {
        o.tilt_max_deg = crate::template_match::missing_wedge(t);
        said.push(format!("the missing wedge of ±{t:.1}°"));
    }
    let note = (!said.is_empty()).then(|| {
        format!(
            "templates with {} (from {})",
            said.join(" and "),
            s.source().display()
        )
    });
    Ok((o, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template_hand::Hand;

    fn base() -> TemplateMatchOptions {
        TemplateMatchOptions::for_pick(60.0, 10, None, Hand::Auto)
    }

    fn stated(um: f64, tilt: f64) -> StatedTiltSeries {
        StatedTiltSeries {
            defocus_um: Some(um),
            tilt_max_deg: Some(tilt),
            voltage_kv: Some(200.0),
            source: Some("manifest.csv".into()),
            ..Default::default()
        }
    }

    #[test]
    fn each_tomogram_gets_its_stated_ctf_and_wedge_unless_the_user_set_them() {
        let (o, note) = options_for(&base(), &stated(3.5, 48.0), &UseStated::default()).unwrap();
        let ctf = o.ctf.unwrap();
        assert_eq!(ctf.params.defocus_a, 35_000.0);
        assert_eq!(ctf.params.voltage_kv, 200.0);
        assert_eq!(ctf.params.cs_mm, 2.7);
        assert_eq!(ctf.power, DEFAULT_CTF_POWER);
        assert!(!ctf.phase_flipped);
        assert_eq!(o.tilt_max_deg, Some(48.0));
        let note = note.unwrap();
        assert!(
            note.contains("3.50 µm") && note.contains("±48.0°") && note.contains("manifest.csv"),
            "{note}"
        );

        // A CTF on the command line (--defocus) is kept; so is its tilt range (--tilt-max).
        let mine = TemplateMatchOptions::for_pick(
            70.0,
            10,
            Some(TemplateCtf::at_defocus(2.0, true)),
            Hand::Auto,
        );
        let keep = UseStated {
            ctf: false,
            tilt: false,
            ..Default::default()
        };
        let (o, note) = options_for(&mine, &stated(3.5, 48.0), &keep).unwrap();
        assert_eq!(o, mine);
        assert_eq!(note, None);
        // Flipped and another power where the dataset gives the defocus.
        let flipped = UseStated {
            phase_flipped: true,
            ctf_power: 1.0,
            ..Default::default()
        };
        let (o, _) = options_for(&base(), &stated(3.5, 90.0), &flipped).unwrap();
        let ctf = o.ctf.unwrap();
        assert!(ctf.phase_flipped && ctf.power == 1.0);
        assert_eq!(o.tilt_max_deg, None, "±90°: no missing wedge");
        // A tomogram stated as phase-flipped is, where the request does not flip every one.
        let one = StatedTiltSeries {
            phase_flipped: Some(true),
            ..stated(3.5, 60.0)
        };
        let (o, note) = options_for(&base(), &one, &UseStated::default()).unwrap();
        assert!(o.ctf.unwrap().phase_flipped && note.unwrap().contains("phase-flipped"));
        let not = StatedTiltSeries {
            phase_flipped: Some(false),
            ..stated(3.5, 60.0)
        };
        assert!(
            options_for(&base(), &not, &flipped)
                .unwrap()
                .0
                .ctf
                .unwrap()
                .phase_flipped
        );
        assert!(
            !options_for(&base(), &not, &UseStated::default())
                .unwrap()
                .0
                .ctf
                .unwrap()
                .phase_flipped
        );
        // Nothing stated: the options as they were.
        let (o, note) = options_for(&base(), &StatedTiltSeries::default(), &flipped).unwrap();
        assert_eq!((o, note), (base(), None));
    }

    #[test]
    fn a_missing_or_impossible_tilt_series_is_refused_by_name() {
        let gone = StatedTiltSeries {
            relion_star: Some(("tilt_series/TS_07.star".into(), "TS_07".into())),
            ..Default::default()
        };
        let e = options_for(&base(), &gone, &UseStated::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("tilt_series/TS_07.star"), "{e}");
        let far = stated(25.0, 60.0);
        let e = options_for(&base(), &far, &UseStated::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("manifest.csv") && e.contains("defocus 25"),
            "{e}"
        );
    }
}
