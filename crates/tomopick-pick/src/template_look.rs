//! What a user asks of template matching's templates: the tilt series' CTF and the tomogram's
//! hand, as the command line's `--defocus`, `--phase-flipped`, `--ctf-power`, `--voltage`,
//! `--cs`, `--amplitude-contrast` and `--hand` and Python's keywords of the same names give
//! them. The rules that refuse a request which would change nothing live here once, so that
//! every front end refuses the same; each words the keywords its own way ([`Spelling`]).

use crate::stated::UseStated;
use crate::template_ctf::{DEFAULT_CTF_POWER, TemplateCtf};
use crate::template_hand::Hand;

/// The templates' CTF and hand as a user asked for them (nothing: no CTF, the hand told from
/// the picks).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TemplateLook {
    /// The tilt series' mean defocus, µm (underfocus positive).
    pub defocus_um: Option<f64>,
    /// The projections were phase-flipped before reconstruction.
    pub phase_flipped: bool,
    /// The CTF's magnitude to this power ([`DEFAULT_CTF_POWER`] when not given).
    pub ctf_power: Option<f64>,
    /// Acceleration voltage, kV (the default microscope's when not given).
    pub voltage_kv: Option<f64>,
    /// Spherical aberration, mm.
    pub cs_mm: Option<f64>,
    /// Amplitude contrast (fraction).
    pub amplitude_contrast: Option<f64>,
    /// The tomogram's hand against the templates'.
    pub hand: Hand,
}

/// What follows the request: decides which keywords would change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follows {
    /// No template matching (a pick without it).
    Nothing,
    /// Template matching of one tomogram: the CTF comes from the request alone.
    OneTomogram,
    /// Template matching of a dataset, which may state each tomogram's defocus.
    Dataset,
}

/// How a front end writes a keyword in its messages: `keyword("phase_flipped")` gives
/// `--phase-flipped` on the command line and `phase_flipped=` in Python; `enable` is what
/// turns template matching on (`--match-templates`, `match_templates=True`).
pub struct Spelling {
    /// A keyword as the front end spells it.
    pub keyword: fn(&str) -> String,
    /// The switch that turns template matching on.
    pub enable: &'static str,
    /// Where a dataset can state each tomogram's defocus instead (`None` where the front end
    /// takes no datasets).
    pub stated_hint: Option<&'static str>,
}

impl Spelling {
    /// The command line's: `--kebab-case`.
    pub const CLI: Spelling = Spelling {
        keyword: cli_keyword,
        enable: "--match-templates",
        stated_hint: Some(
            "for a dataset, a RELION 5 tomograms.star or a manifest's defocus column gives \
             each tomogram's own",
        ),
    };
    /// Python's: `snake_case=`.
    pub const PYTHON: Spelling = Spelling {
        keyword: python_keyword,
        enable: "match_templates=True",
        stated_hint: None,
    };
}

fn cli_keyword(k: &str) -> String {
    format!("--{}", k.replace('_', "-"))
}

fn python_keyword(k: &str) -> String {
    format!("{k}=")
}

/// `a`, `a and b`, `a, b and c`.
fn listed(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl TemplateLook {
    /// The CTF keywords given other than the defocus itself.
    fn shaping(&self) -> Vec<&'static str> {
        [
            ("phase_flipped", self.phase_flipped),
            ("ctf_power", self.ctf_power.is_some()),
            ("voltage", self.voltage_kv.is_some()),
            ("cs", self.cs_mm.is_some()),
            ("amplitude_contrast", self.amplitude_contrast.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, given)| given.then_some(k))
        .collect()
    }

    /// Refuses what would change nothing: any keyword where no template matching follows, and
    /// a keyword that shapes the CTF without a defocus for one tomogram. The message names the
    /// keywords given, as `spell` writes them.
    pub fn check(&self, follows: Follows, spell: &Spelling) -> Result<(), String> {
        let kw = |k: &str| (spell.keyword)(k);
        let shaping = self.shaping();
        if follows == Follows::Nothing {
            let mut given: Vec<String> =
                self.defocus_um.map(|_| kw("defocus")).into_iter().collect();
            given.extend(shaping.iter().map(|k| kw(k)));
            if self.hand != Hand::Auto {
                given.push(kw("hand"));
            }
            if !given.is_empty() {
                return Err(format!(
                    "{} {} for template matching's templates: add {}",
                    listed(&given),
                    if given.len() == 1 { "is" } else { "are" },
                    spell.enable
                ));
            }
        }
        if follows == Follows::OneTomogram && self.defocus_um.is_none() && !shaping.is_empty() {
            let given: Vec<String> = shaping.iter().map(|k| kw(k)).collect();
            return Err(format!(
                "{} {} the CTF of {}: add {} (µm, underfocus positive){}",
                listed(&given),
                if given.len() == 1 { "shapes" } else { "shape" },
                kw("defocus"),
                kw("defocus"),
                spell
                    .stated_hint
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default()
            ));
        }
        Ok(())
    }

    /// The templates' CTF, if a defocus was given (ranges are checked with the tomogram, by
    /// [`crate::template_match::check_options`]).
    pub fn ctf(&self) -> Option<TemplateCtf> {
        self.defocus_um.map(|um| {
            let mut ctf = TemplateCtf::at_defocus(um, self.phase_flipped);
            let p = &mut ctf.params;
            p.voltage_kv = self.voltage_kv.unwrap_or(p.voltage_kv);
            p.cs_mm = self.cs_mm.unwrap_or(p.cs_mm);
            p.amplitude_contrast = self.amplitude_contrast.unwrap_or(p.amplitude_contrast);
            ctf.power = self.ctf_power.unwrap_or(DEFAULT_CTF_POWER);
            ctf
        })
    }

    /// Which of a dataset's stated defocus and tilt range template matching takes: what the
    /// request did not set (`tilt_set`: the user gave the tilt range).
    pub fn use_stated(&self, tilt_set: bool) -> UseStated {
        UseStated {
            ctf: self.defocus_um.is_none(),
            phase_flipped: self.phase_flipped,
            ctf_power: self.ctf_power.unwrap_or(DEFAULT_CTF_POWER),
            tilt: !tilt_set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_asked_passes_everywhere() {
        let none = TemplateLook::default();
        for f in [Follows::Nothing, Follows::OneTomogram, Follows::Dataset] {
            assert_eq!(none.check(f, &Spelling::CLI), Ok(()));
        }
        assert_eq!(none.ctf(), None);
    }

    #[test]
    fn keywords_without_template_matching_are_named_in_each_spelling() {
        let look = TemplateLook {
            defocus_um: Some(3.0),
            phase_flipped: true,
            hand: Hand::Mirrored,
            ..Default::default()
        };
        let cli = look.check(Follows::Nothing, &Spelling::CLI).unwrap_err();
        assert_eq!(
            cli,
            "--defocus, --phase-flipped and --hand are for template matching's templates: \
             add --match-templates"
        );
        let py = look.check(Follows::Nothing, &Spelling::PYTHON).unwrap_err();
        assert!(
            py.starts_with("defocus=, phase_flipped= and hand= are")
                && py.ends_with("add match_templates=True"),
            "{py}"
        );
        let hand = TemplateLook {
            hand: Hand::AsIs,
            ..Default::default()
        };
        let one = hand.check(Follows::Nothing, &Spelling::CLI).unwrap_err();
        assert!(one.starts_with("--hand is for"), "{one}");
        assert_eq!(look.check(Follows::OneTomogram, &Spelling::CLI), Ok(()));
    }

    #[test]
    fn shaping_a_ctf_needs_its_defocus_unless_a_dataset_may_state_it() {
        let look = TemplateLook {
            ctf_power: Some(1.0),
            voltage_kv: Some(200.0),
            ..Default::default()
        };
        let cli = look
            .check(Follows::OneTomogram, &Spelling::CLI)
            .unwrap_err();
        assert!(
            cli.starts_with("--ctf-power and --voltage shape the CTF of --defocus: add --defocus")
                && cli.contains("tomograms.star"),
            "{cli}"
        );
        let py = look
            .check(Follows::OneTomogram, &Spelling::PYTHON)
            .unwrap_err();
        assert!(
            py.starts_with("ctf_power= and voltage= shape the CTF of defocus=: add defocus= (µm"),
            "{py}"
        );
        assert!(!py.contains("tomograms.star"), "{py}");
        assert_eq!(look.check(Follows::Dataset, &Spelling::CLI), Ok(()));
    }

    #[test]
    fn the_ctf_takes_the_microscope_given_and_the_defaults_otherwise() {
        let look = TemplateLook {
            defocus_um: Some(4.0),
            voltage_kv: Some(200.0),
            amplitude_contrast: Some(0.1),
            ..Default::default()
        };
        let ctf = look.ctf().unwrap();
        assert_eq!(ctf.params.defocus_a, 40_000.0);
        assert_eq!(ctf.params.voltage_kv, 200.0);
        assert_eq!(ctf.params.amplitude_contrast, 0.1);
        assert_eq!(
            ctf.params.cs_mm,
            TemplateCtf::at_defocus(4.0, false).params.cs_mm
        );
        assert_eq!(ctf.power, DEFAULT_CTF_POWER);
        assert!(!ctf.phase_flipped);
        let stated = look.use_stated(true);
        assert!(!stated.ctf && !stated.tilt && stated.ctf_power == DEFAULT_CTF_POWER);
    }
}
