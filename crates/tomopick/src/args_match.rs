//! Arguments of `tomopick match-templates`.

use crate::args::positive_angstrom;
use clap::Args;
use std::path::PathBuf;
use tomopick_pick::template_hand::Hand;
use tomopick_pick::template_look::{Follows, Spelling, TemplateLook};
use tomopick_sim::ctf::CtfParams;

#[derive(Args)]
pub struct MatchTemplatesArgs {
    /// The tomogram (MRC, TIFF stack, OME-Zarr).
    pub tomogram: PathBuf,
    /// Particle positions (any list format; pixel formats use the tomogram's voxel size).
    #[arg(long)]
    pub picks: PathBuf,
    /// Output: .csv gets every class's correlation and z-score; other list formats get class
    /// and z-score.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Comma-separated classes to simulate templates for: shipped names,
    /// `name=file.pdb[:assembly]`, or PDB/mmCIF/MRC paths (default: the 13 SHREC 2021 classes).
    #[arg(long, value_delimiter = ',', conflicts_with = "templates")]
    pub classes: Option<Vec<String>>,
    /// Template maps instead (MRC, protein positive, the tomogram's voxel size; the class is
    /// the file name), or one folder of them.
    #[arg(long, num_args = 1.., value_name = "MRC")]
    pub templates: Option<Vec<PathBuf>>,
    /// Largest tilt of the tilt series in degrees (the missing wedge; 90: none).
    #[arg(long, default_value_t = 60.0, value_name = "DEG")]
    pub tilt_max: f64,
    /// Orientations tried per class.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_ROTATIONS)]
    pub rotations: usize,
    /// Seed of the orientations.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_SEED)]
    pub seed: u64,
    /// Low-pass cut-off, Å.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_LOWPASS_A, value_name = "Å")]
    pub lowpass: f64,
    /// High-pass cut-off, Å.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_HIGHPASS_A, value_name = "Å")]
    pub highpass: f64,
    /// Shifts of up to this many voxels around each pick are tried.
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_SHIFT_VOX, value_name = "VOXELS")]
    pub shift: usize,
    /// Orientations re-scored at every shift: the best this many at the pick's centre (0: every
    /// orientation at every shift, slower).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub refine: usize,
    /// Whiten: weight boxes and templates by 1/√(the boxes' mean power) at each frequency (the
    /// matched filter for the tomogram's own noise spectrum).
    #[arg(long)]
    pub whiten: bool,
    /// Places of the tomogram, away from the picks, against which each class's scores are
    /// standardised (0: standardise over the picks, which assumes the sample holds its classes
    /// in about equal numbers).
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_BACKGROUND, value_name = "N")]
    pub background: usize,
    /// With --background: each class's z-score at a pick is weighted by (its spread at the
    /// places / the classes' mean spread) to this power before the highest names the pick (0:
    /// plain z-scores, which favour large templates; 1: correlation less its median there,
    /// which favours small ones; 0.5 named the most on the foreign suite's validation part).
    #[arg(long, default_value_t = tomopick_pick::template_match::DEFAULT_NAMING_EXPONENT, value_name = "E", allow_hyphen_values = true)]
    pub naming_exponent: f64,
    /// Protein's contrast: dark, bright, or auto (read from the picks).
    #[arg(long, default_value = "auto")]
    pub protein: String,
    /// Voxel size in Å (overrides the header).
    #[arg(long, value_name = "Å", value_parser = positive_angstrom)]
    pub voxel_size: Option<f64>,
    #[command(flatten)]
    pub ctf: CtfArgs,
    #[command(flatten)]
    pub hand: HandArgs,
}

/// The tomogram's hand against the templates'.
#[derive(Args, Clone, Debug)]
pub struct HandArgs {
    /// Template matching: the tomogram's hand against the atomic models' (reconstruction
    /// programs differ in which way z points): auto (told from the picks: their best
    /// correlation with mirrored boxes against as they are; the log says which), as-is, or
    /// mirrored.
    #[arg(long, default_value = "auto", value_name = "auto|as-is|mirrored", value_parser = parse_hand)]
    pub hand: Hand,
}

fn parse_hand(s: &str) -> Result<Hand, String> {
    Hand::parse(s).ok_or_else(|| format!("'{s}': expected auto, as-is or mirrored"))
}

/// The tilt series' CTF, for template matching's templates.
#[derive(Args, Clone, Debug)]
pub struct CtfArgs {
    /// Template matching: the tilt series' mean defocus in µm (underfocus positive, as CTFFIND
    /// gives it); each template gets the CTF's sign and the square root of its magnitude, so
    /// that bands the microscope inverted or removed match (default: templates without a CTF;
    /// for a dataset, each tomogram's own defocus where the dataset states it).
    #[arg(long, value_name = "µm", allow_hyphen_values = true)]
    pub defocus: Option<f64>,
    /// The projections were phase-flipped (CTF-corrected) before reconstruction; the templates'
    /// CTF keeps its magnitude and loses its sign changes (with --defocus, or a dataset that
    /// states each tomogram's defocus).
    #[arg(long)]
    pub phase_flipped: bool,
    /// With --defocus: acceleration voltage, kV.
    #[arg(long, default_value_t = CtfParams::default().voltage_kv, value_name = "KV", requires = "defocus")]
    pub voltage: f64,
    /// With --defocus: spherical aberration, mm.
    #[arg(long, default_value_t = CtfParams::default().cs_mm, value_name = "MM", requires = "defocus")]
    pub cs: f64,
    /// With --defocus: amplitude contrast (fraction).
    #[arg(long, default_value_t = CtfParams::default().amplitude_contrast, value_name = "A", requires = "defocus")]
    pub amplitude_contrast: f64,
    /// The CTF's magnitude enters the templates to this power, its sign kept (1: the CTF
    /// itself; 0: its sign alone; default 0.5, which named the most on the foreign suite).
    #[arg(long, value_name = "P")]
    pub ctf_power: Option<f64>,
}

/// The CTF and hand options as the library's one request, whose rules refuse what would change
/// nothing (`Follows`) in the command line's words.
pub fn template_look(ctf: &CtfArgs, hand: &HandArgs) -> TemplateLook {
    let with_defocus = |v: f64| ctf.defocus.map(|_| v);
    TemplateLook {
        defocus_um: ctf.defocus,
        phase_flipped: ctf.phase_flipped,
        ctf_power: ctf.ctf_power,
        voltage_kv: with_defocus(ctf.voltage),
        cs_mm: with_defocus(ctf.cs),
        amplitude_contrast: with_defocus(ctf.amplitude_contrast),
        hand: hand.hand,
    }
}

/// `look` checked for what follows it (the library's rules, the command line's keywords).
pub fn checked(look: TemplateLook, follows: Follows) -> anyhow::Result<TemplateLook> {
    look.check(follows, &Spelling::CLI)
        .map_err(anyhow::Error::msg)?;
    Ok(look)
}
