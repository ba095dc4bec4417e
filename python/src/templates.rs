//! Template matching from Python: the template options of `pick`/`adapt(match_templates=True)`
//! and `match_templates`, which names the classes of particles found by anything (another
//! picker, a copick project, by hand), as `tomopick match-templates` does.

use crate::errors::{ToPyErr, bad_argument};
use crate::frames::{from_columns, to_columns};
use crate::pick::{Input, add_score_columns, interruptible};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use tomopick_io::VoxelSize;
use tomopick_pick::template_hand::Hand;
use tomopick_pick::template_look::{Follows, Spelling, TemplateLook};
use tomopick_pick::template_match::{
    DEFAULT_BACKGROUND, DEFAULT_HIGHPASS_A, DEFAULT_LOWPASS_A, DEFAULT_NAMING_EXPONENT,
    DEFAULT_ROTATIONS, DEFAULT_SEED, DEFAULT_SHIFT_VOX, DEFAULT_TILT_MAX, missing_wedge,
    parse_protein,
};
use tomopick_pick::{TemplateMatchOptions, TemplateSource};

/// The CTF and hand keywords that shape the templates, as the command line's `--defocus`,
/// `--phase-flipped`, `--ctf-power`, `--voltage`, `--cs`, `--amplitude-contrast` and `--hand`;
/// the library's [`TemplateLook`] checks them.
pub struct TemplateKeywords<'a> {
    /// The tilt series' mean defocus, µm (underfocus positive).
    pub defocus: Option<f64>,
    /// The projections were phase-flipped before reconstruction.
    pub phase_flipped: bool,
    /// The CTF's magnitude to this power (default [`tomopick_pick::template_ctf::DEFAULT_CTF_POWER`]).
    pub ctf_power: Option<f64>,
    /// Acceleration voltage, kV.
    pub voltage: Option<f64>,
    /// Spherical aberration, mm.
    pub cs: Option<f64>,
    /// Amplitude contrast (fraction).
    pub amplitude_contrast: Option<f64>,
    /// `auto`, `as-is` or `mirrored`.
    pub hand: &'a str,
}

impl TemplateKeywords<'_> {
    /// The library's request, refused (in Python's words) where it would change nothing for
    /// what `follows`.
    pub fn look(&self, follows: Follows) -> PyResult<TemplateLook> {
        let hand = Hand::parse(self.hand).ok_or_else(|| {
            bad_argument(format!(
                "hand '{}': expected 'auto', 'as-is' or 'mirrored'",
                self.hand
            ))
        })?;
        let look = TemplateLook {
            defocus_um: self.defocus,
            phase_flipped: self.phase_flipped,
            ctf_power: self.ctf_power,
            voltage_kv: self.voltage,
            cs_mm: self.cs,
            amplitude_contrast: self.amplitude_contrast,
            hand,
        };
        look.check(follows, &Spelling::PYTHON)
            .map_err(bad_argument)?;
        Ok(look)
    }

    /// The options of `pick`/`adapt` with `match_templates` (`None` without it).
    pub fn pick_options(
        &self,
        match_templates: bool,
        tilt_max: f64,
        rotations: usize,
    ) -> PyResult<Option<TemplateMatchOptions>> {
        let follows = match match_templates {
            true => Follows::OneTomogram,
            false => Follows::Nothing,
        };
        let look = self.look(follows)?;
        Ok(match_templates
            .then(|| TemplateMatchOptions::for_pick(tilt_max, rotations, look.ctf(), look.hand)))
    }
}

/// Names each particle (columns with `class`, `x`, `y`, `z` in Å) by the class whose
/// template fits best, as `tomopick match-templates` does: the particles with the new class,
/// its standardised score as `score`, `input_class`, and `cc_<class>` / `z_<class>` for every
/// class; and the attributes (voxel size, shape, classes, hand, protein contrast, box size).
#[pyfunction]
#[pyo3(signature = (source, particles, voxel_size=None, classes=None, templates=None, tilt_max=DEFAULT_TILT_MAX, rotations=DEFAULT_ROTATIONS, refine=0, background=DEFAULT_BACKGROUND, protein="auto", defocus=None, phase_flipped=false, ctf_power=None, hand="auto", progress=None, voltage=None, cs=None, amplitude_contrast=None, seed=DEFAULT_SEED, lowpass=DEFAULT_LOWPASS_A, highpass=DEFAULT_HIGHPASS_A, shift=DEFAULT_SHIFT_VOX, whiten=false, naming_exponent=DEFAULT_NAMING_EXPONENT))]
#[allow(clippy::too_many_arguments)]
pub fn match_templates<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    particles: &Bound<'py, PyDict>,
    voxel_size: Option<f64>,
    classes: Option<Vec<String>>,
    templates: Option<Vec<PathBuf>>,
    tilt_max: f64,
    rotations: usize,
    refine: usize,
    background: usize,
    protein: &str,
    defocus: Option<f64>,
    phase_flipped: bool,
    ctf_power: Option<f64>,
    hand: &str,
    progress: Option<Bound<'py, PyAny>>,
    voltage: Option<f64>,
    cs: Option<f64>,
    amplitude_contrast: Option<f64>,
    seed: u64,
    lowpass: f64,
    highpass: f64,
    shift: usize,
    whiten: bool,
    naming_exponent: f64,
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let look = TemplateKeywords {
        defocus,
        phase_flipped,
        ctf_power,
        voltage,
        cs,
        amplitude_contrast,
        hand,
    }
    .look(Follows::OneTomogram)?;
    let protein_bright = parse_protein(protein).ok_or_else(|| {
        bad_argument(format!(
            "protein '{protein}': expected 'dark', 'bright' or 'auto'"
        ))
    })?;
    if classes.is_some() && templates.is_some() {
        return Err(bad_argument(
            "classes (simulated templates) and templates (maps): give one",
        ));
    }
    let picks = from_columns(particles)?;
    let input = Input::from_py(source, voxel_size)?;
    let path = input.path().to_path_buf();
    let template_source = match &templates {
        Some(paths) => TemplateSource::files(paths).map_err(ToPyErr::to_py)?,
        None => TemplateSource::simulated(classes),
    };
    let opts = TemplateMatchOptions {
        rotations,
        seed,
        lowpass_a: lowpass,
        highpass_a: highpass,
        tilt_max_deg: missing_wedge(tilt_max),
        shift_vox: shift,
        protein_bright,
        whiten,
        refine,
        background,
        naming_exponent,
        ctf: look.ctf(),
        hand: look.hand,
    };
    let cancel = AtomicBool::new(false);
    let m = interruptible(py, &cancel, progress.as_ref(), |report| {
        let tomo = input.source(voxel_size)?;
        let shape = tomo.shape_xyz();
        let vs = tomo.voxel_size();
        let m = tomopick_pick::match_tomogram(
            tomo,
            &path,
            picks,
            Path::new("particles"),
            &template_source,
            &opts,
            report,
        )?;
        Ok::<_, tomopick_pick::PickError>((m, shape, vs))
    })?
    .map_err(ToPyErr::to_py)?;
    let (m, shape, vs): (_, [usize; 3], VoxelSize) = m;
    let cols = to_columns(py, &m.particles)?;
    let input_class: Vec<&str> = m.input.iter().map(|p| p.class.as_str()).collect();
    cols.set_item("input_class", input_class)?;
    let s = &m.scores;
    add_score_columns(py, &cols, &s.classes, s.tables())?;
    let attrs = PyDict::new(py);
    attrs.set_item("voxel_size", vs.x)?;
    attrs.set_item("shape", shape)?;
    attrs.set_item("classes", s.classes.clone())?;
    attrs.set_item("mirrored", s.mirrored)?;
    attrs.set_item("hand", s.hand_note())?;
    attrs.set_item("protein_bright", s.protein_bright)?;
    attrs.set_item("box_size", s.box_size)?;
    Ok((cols, attrs))
}
