//! Template matching at given positions: a class for each pick from how well each class's
//! template, at many orientations, fits the box around it.
//!
//! The tomogram's boxes and the rotated templates get the same band-pass (Gaussian low-pass at
//! `lowpass_a`, Gaussian high-pass at `highpass_a`, each 1/e² at its cut-off), and each rotated
//! template the tomogram's missing wedge (single-axis tilt about y, ±`tilt_max_deg`) and, when
//! the defocus is given, the tilt series' CTF (`template_ctf.rs`). A class's
//! score at a pick is the best Pearson correlation, inside a ball around the centre that holds
//! the class's template (its radius where the template passes 5 % of its peak, plus 2 voxels),
//! over the orientations and over every shift of up to `shift_vox` voxels. Each class's scores
//! are then standardised (z-scores): a small template correlates well with noise, and would
//! otherwise win at every pick. They are standardised against the same class's scores at
//! `background` seeded random places of the tomogram away from the picks (median and MAD,
//! each z-score then weighted by the class's spread there: [`DEFAULT_NAMING_EXPONENT`];
//! `template_background.rs`), or, with `background` 0, over the picks (mean and sd), which
//! assumes the picks hold the classes in about equal numbers. The pick's class is the highest
//! standardised score.
//!
//! Protein's sign (dark or bright) is read from the picks, unless given: the sign of the sum
//! of the tomogram's values at their centres, band-passed at 40–300 Å.

use crate::error::{PickError, Result};
use crate::source::TomoSource;
use crate::template_background::{background_centres, robust_standardised, standardise_with};
use crate::template_ctf::TemplateCtf;
use crate::template_hand::{HAND_PICKS, Hand, HandCheck, mirrored_z};
use ndarray::{Array2, Array3, Axis, Zip, s};
use rand::SeedableRng;
use rayon::prelude::*;
use std::path::Path;
use tomopick_io::Rotation;
use tomopick_sim::fft::{Complex32, Fft3, freq_index};
use tomopick_sim::resample::{place_rotated, radius_above};
use tomopick_sim::rotation::random_rotation;

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

/// `cc` standardised against the reference places' scores, each class's z-score weighted by
/// (its spread / the geometric mean spread)^`exponent` (see [`DEFAULT_NAMING_EXPONENT`]).
fn against_reference(cc: &[Vec<f32>], reference: &[Vec<f32>], exponent: f64) -> Vec<Vec<f32>> {
    let (z, scale) = robust_standardised(cc, reference);
    let spread: Vec<f64> = scale
        .iter()
        .map(|&s| s as f64)
        .filter(|&s| s > 0.0)
        .collect();
    let mean_log = spread.iter().map(|s| s.ln()).sum::<f64>() / spread.len().max(1) as f64;
    let factor: Vec<f32> = scale
        .iter()
        .map(|&s| ((s as f64).ln() - mean_log) * exponent)
        .map(|l| if l.is_finite() { l.exp() as f32 } else { 0.0 })
        .collect();
    z.into_iter()
        .map(|r| r.iter().zip(&factor).map(|(v, f)| v * f).collect())
        .collect()
}

/// A class's template: a centred cube (centre voxel `n/2`), protein positive, at the
/// tomogram's voxel size.
#[derive(Debug, Clone)]
pub struct Template {
    /// The class name.
    pub name: String,
    /// The density, `[z, y, x]`.
    pub data: Array3<f32>,
}

/// What matching found at each pick.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateScores {
    /// The classes, in the order of the scores.
    pub classes: Vec<String>,
    /// Per pick, per class: the best correlation.
    pub cc: Vec<Vec<f32>>,
    /// Per pick, per class: the correlation standardised against the reference places (see
    /// [`DEFAULT_NAMING_EXPONENT`]), or its z-score over the picks when `background` is 0.
    pub z: Vec<Vec<f32>>,
    /// True when protein was taken as brighter than ice.
    pub protein_bright: bool,
    /// The box edge in voxels (of the largest class).
    pub box_size: usize,
    /// True when classes are chosen by z-score (at least [`MIN_PICKS_FOR_Z`] reference places
    /// or picks to standardise over), false when by correlation.
    pub by_z: bool,
    /// The reference places the scores were standardised against (0: over the picks).
    pub background: usize,
    /// The tomogram was matched as mirrored along z against the templates.
    pub mirrored: bool,
    /// What the picks said about the hand ([`Hand::Auto`] with enough picks).
    pub hand_check: Option<HandCheck>,
}

/// Fewer picks than this are too few to standardise a class's scores over; their classes
/// are chosen by correlation.
pub const MIN_PICKS_FOR_Z: usize = 30;

impl TemplateScores {
    /// The class index with the highest standardised score at pick `i` (correlation when
    /// `by_z` is false), and that score.
    pub fn best(&self, i: usize) -> (usize, f32) {
        let row = if self.by_z { &self.z[i] } else { &self.cc[i] };
        row.iter().enumerate().fold(
            (0, f32::NEG_INFINITY),
            |b, (k, &v)| if v > b.1 { (k, v) } else { b },
        )
    }

    /// The same scores laid out over `classes` (a superset of those matched, in its order),
    /// NaN for a class that was not matched (`pick --classes`: only the sample's are).
    pub fn over(self, classes: &[String]) -> TemplateScores {
        let at: Vec<Option<usize>> = classes
            .iter()
            .map(|c| self.classes.iter().position(|m| m == c))
            .collect();
        let spread = |rows: Vec<Vec<f32>>| -> Vec<Vec<f32>> {
            rows.into_iter()
                .map(|r| at.iter().map(|k| k.map_or(f32::NAN, |k| r[k])).collect())
                .collect()
        };
        TemplateScores {
            classes: classes.to_vec(),
            cc: spread(self.cc),
            z: spread(self.z),
            protein_bright: self.protein_bright,
            box_size: self.box_size,
            by_z: self.by_z,
            background: self.background,
            mirrored: self.mirrored,
            hand_check: self.hand_check,
        }
    }

    /// The score tables with their column prefixes: `cc_` (correlations), then `z_`
    /// (standardised scores); one row per pick, one value per class.
    pub fn tables(&self) -> [(&'static str, &[Vec<f32>]); 2] {
        [("cc_", self.cc.as_slice()), ("z_", self.z.as_slice())]
    }

    /// What the log should say about the tomogram's hand, when it was told from the picks or
    /// set to mirrored.
    pub fn hand_note(&self) -> Option<String> {
        match (&self.hand_check, self.mirrored) {
            (Some(c), _) => Some(c.describe()),
            (None, true) => Some("hand: mirrored along z against the templates (as asked)".into()),
            (None, false) => None,
        }
    }
}

/// An `m`³ box's half spectrum `[kz, ky, kx]` (the layout of [`Fft3`]) of voxels `voxel_a` Å,
/// each value `f([kz, ky, kx])` of its spatial frequency (1/Å).
pub(crate) fn half_spectrum(m: usize, voxel_a: f64, f: impl Fn([f64; 3]) -> f32) -> Array3<f32> {
    let k = |i: usize| freq_index(i, m) as f64 / (m as f64 * voxel_a);
    Array3::from_shape_fn((m, m, m / 2 + 1), |(z, y, x)| {
        f([k(z), k(y), x as f64 / (m as f64 * voxel_a)])
    })
}

/// The band-pass (and wedge) weights of an `m`³ box's half spectrum `[kz, ky, kx]`, times
/// `shape` of the spatial frequency (1/Å) when given (the whitening), times the tilt series'
/// CTF as the templates take it when given (templates only: the boxes hold it already).
fn filter(
    m: usize,
    voxel_a: f64,
    o: &TemplateMatchOptions,
    shape: Option<&Whitening>,
    ctf: Option<&TemplateCtf>,
) -> Array3<f32> {
    let tan = o.tilt_max_deg.map(|t| t.to_radians().tan());
    let ctf = ctf.map(TemplateCtf::radial);
    half_spectrum(m, voxel_a, |[kz, ky, kx]| {
        let k2 = kz * kz + ky * ky + kx * kx;
        let band = (-2.0 * k2 * o.lowpass_a.powi(2)).exp()
            * (1.0 - (-2.0 * k2 * o.highpass_a.powi(2)).exp())
            * shape.map_or(1.0, |w| w.at(k2.sqrt()))
            * ctf.as_ref().map_or(1.0, |c| c(k2.sqrt()));
        let seen = tan.is_none_or(|t| kz.abs() <= kx.abs() * t + 1e-12);
        if seen { band as f32 } else { 0.0 }
    })
}

/// `v` band-passed by `weights` (the half spectrum of `fft`'s shape).
fn filtered(fft: &Fft3, v: &Array3<f32>, weights: &Array3<f32>) -> Array3<f32> {
    weighted_inverse(fft, fft.forward(v), weights)
}

/// The volume of the half spectrum `spec` (of `fft`'s shape) weighted by `weights`.
fn weighted_inverse(fft: &Fft3, mut spec: Array3<Complex32>, weights: &Array3<f32>) -> Array3<f32> {
    Zip::from(&mut spec).and(weights).for_each(|c, &w| *c *= w);
    fft.inverse_owned(spec)
}

/// Picks whose boxes measure the tomogram's power spectrum for the whitening (evenly spread).
const WHITENING_PICKS: usize = 200;

/// 1/√(mean power) of the tomogram's boxes against spatial frequency: the whitening filter.
struct Whitening {
    /// Spatial frequency (1/Å) per bin.
    step: f64,
    /// The weight at each bin's frequency.
    weight: Vec<f64>,
}

impl Whitening {
    /// From the spectra of `m`³ boxes of voxels `voxel_a` Å (half spectra, [`Fft3`]'s layout),
    /// averaged over spherical shells one frequency bin wide.
    fn measure(m: usize, voxel_a: f64, spectra: &[Array3<Complex32>]) -> Whitening {
        let bins = m + 1;
        let (mut power, mut count) = (vec![0f64; bins], vec![0usize; bins]);
        for spec in spectra {
            for ((z, y, x), c) in spec.indexed_iter() {
                let (fz, fy) = (freq_index(z, m) as f64, freq_index(y, m) as f64);
                let r = (fz * fz + fy * fy + (x * x) as f64).sqrt().round() as usize;
                power[r] += c.norm_sqr() as f64;
                count[r] += 1;
            }
        }
        let weight = power
            .iter()
            .zip(&count)
            .map(|(&p, &c)| if p > 0.0 { (c as f64 / p).sqrt() } else { 0.0 })
            .collect();
        Whitening {
            step: 1.0 / (m as f64 * voxel_a),
            weight,
        }
    }

    /// The weight at spatial frequency `k` (1/Å), linear between bins, the last bin's beyond.
    fn at(&self, k: f64) -> f64 {
        let t = k / self.step;
        let i = t.floor() as usize;
        match (self.weight.get(i), self.weight.get(i + 1)) {
            (Some(&a), Some(&b)) => a + (b - a) * (t - i as f64),
            (Some(&a), None) => a,
            _ => *self.weight.last().unwrap_or(&1.0),
        }
    }
}

/// Offsets (flat indices into an `n`³ box) of the voxels within `radius` of its centre.
fn ball(n: usize, radius: f64) -> Vec<usize> {
    let c = (n / 2) as f64;
    let mut out = Vec::new();
    for z in 0..n {
        for y in 0..n {
            for x in 0..n {
                let d2 = (x as f64 - c).powi(2) + (y as f64 - c).powi(2) + (z as f64 - c).powi(2);
                if d2 <= radius * radius {
                    out.push((z * n + y) * n + x);
                }
            }
        }
    }
    out
}

/// The values of `flat` at `idx`, zero-mean and unit-norm (all zero when constant).
fn normalised(flat: &[f32], idx: &[usize]) -> Vec<f32> {
    let mean = idx.iter().map(|&i| flat[i] as f64).sum::<f64>() / idx.len().max(1) as f64;
    let mut v: Vec<f32> = idx
        .iter()
        .map(|&i| (flat[i] as f64 - mean) as f32)
        .collect();
    let norm = v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let inv = if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 };
    v.iter_mut().for_each(|x| *x *= inv);
    v
}

/// One class: its box edge, its ball and its rotated, filtered, normalised templates (one row
/// each).
struct ClassBank {
    n: usize,
    ball: Vec<usize>,
    rows: Array2<f32>,
}

/// The even box edge that holds a ball of `radius` voxels about voxel `n/2`.
fn box_edge(radius: f64) -> usize {
    2 * (radius.ceil() as usize + 1)
}

/// A class's bank: `template` at each of `rotations` in a box just holding its ball of
/// `radius`, band-passed (and given the tilt series' CTF), cut to the ball and normalised.
fn class_bank(
    template: &Array3<f32>,
    radius: f64,
    rotations: &[Rotation],
    voxel_a: f64,
    opts: &TemplateMatchOptions,
    whitening: Option<&Whitening>,
) -> ClassBank {
    let n = box_edge(radius);
    let fft = Fft3::new([n, n, n]);
    let weights = filter(n, voxel_a, opts, whitening, opts.ctf.as_ref());
    let ball = ball(n, radius);
    let c = (n / 2) as f64;
    let rows: Vec<Vec<f32>> = rotations
        .par_iter()
        .map(|rot| {
            let placed = place_rotated(
                &template.view(),
                rot,
                1.0,
                [c, c, c],
                [n, n, n],
                f64::INFINITY,
            );
            let f = filtered(&fft, &placed, &weights);
            normalised(f.as_slice().expect("standard layout"), &ball)
        })
        .collect();
    ClassBank {
        rows: Array2::from_shape_vec((rotations.len(), ball.len()), rows.concat())
            .expect("rows of the ball's length"),
        n,
        ball,
    }
}

/// The band (Å) in which protein's sign is read at the picks: broader and lower than the
/// matching band, whose centre voxel misread the sign of two phase-flipped tomograms of the
/// foreign suite (BENCHMARKS.md, "Template matching on the suite").
const SIGN_LOWPASS_A: f64 = 40.0;
const SIGN_HIGHPASS_A: f64 = 300.0;

/// Mixed into the seed for the reference places, so that they do not follow the orientations.
const BACKGROUND_SEED: u64 = 0x6261_636b_6772_6f75;

/// Picks per chunk of boxes (bounds the memory of the box matrices).
const PICKS_PER_CHUNK: usize = 32;
/// Margin around each box that is filtered with it and then cut away, voxels.
const FILTER_MARGIN: usize = 8;

/// Matches `templates` at each of `centres_vox` (`[x, y, z]` voxels) of `src` (`path` names it
/// in messages), whose voxels are `voxel_a` Å. `progress(done, total)` after each chunk.
pub fn match_templates(
    src: &TomoSource,
    path: &Path,
    centres_vox: &[[f64; 3]],
    templates: &[Template],
    opts: &TemplateMatchOptions,
    progress: impl Fn(usize, usize),
) -> Result<TemplateScores> {
    check_options(opts, path)?;
    if templates.is_empty() {
        return Err(PickError::input(path, "no templates to match"));
    }
    let voxel_a = src.voxel_size().as_array()[0];
    let radii: Vec<f64> = templates
        .iter()
        .map(|t| {
            let peak = t.data.iter().cloned().fold(0f32, f32::max);
            radius_above(&t.data.view(), 0.05 * peak) + 2.0
        })
        .collect();
    let reach = radii.iter().cloned().fold(0.0, f64::max);
    let n = box_edge(reach);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
    let rotations: Vec<Rotation> = (0..opts.rotations)
        .map(|_| random_rotation(&mut rng))
        .collect();
    // Each pick's box, with the shifts and the filter margin around it, band-passed.
    let sh = opts.shift_vox;
    let m = n + 2 * (sh + FILTER_MARGIN);
    let bfft = Fft3::new([m, m, m]);
    // The box around a pick, centred: voxels outside the tomogram take the mean of those
    // inside.
    let centred_box = |c: &[f64; 3]| -> Result<Array3<f32>> {
        let origin = c.map(|v| v.round() as i64 - (m / 2) as i64);
        let shape = src.shape_xyz();
        let mut b = src.block(origin, [m, m, m], |v| v)?;
        if b.iter().any(|v| !v.is_finite()) {
            return Err(PickError::input(
                path,
                format!("NaN or infinite voxels near voxel {c:?}; `tomopick validate` shows them"),
            ));
        }
        let inside = |z: usize, y: usize, x: usize| {
            let p = [
                x as i64 + origin[0],
                y as i64 + origin[1],
                z as i64 + origin[2],
            ];
            (0..3).all(|a| p[a] >= 0 && p[a] < shape[a] as i64)
        };
        let (mut sum, mut cnt) = (0f64, 0usize);
        for ((z, y, x), &v) in b.indexed_iter() {
            if inside(z, y, x) {
                sum += v as f64;
                cnt += 1;
            }
        }
        let mean = (sum / cnt.max(1) as f64) as f32;
        for ((z, y, x), v) in b.indexed_iter_mut() {
            *v = if inside(z, y, x) { *v - mean } else { 0.0 };
        }
        Ok(b)
    };
    let whitening = if opts.whiten {
        let every = centres_vox.len().div_ceil(WHITENING_PICKS).max(1);
        let sample: Vec<&[f64; 3]> = centres_vox.iter().step_by(every).collect();
        let spectra = sample
            .par_iter()
            .map(|c| Ok(bfft.forward(&centred_box(c)?)))
            .collect::<Result<Vec<_>>>()?;
        Some(Whitening::measure(m, voxel_a, &spectra))
    } else {
        None
    };
    let banks: Vec<ClassBank> = templates
        .iter()
        .zip(&radii)
        .map(|(t, &r)| class_bank(&t.data, r, &rotations, voxel_a, opts, whitening.as_ref()))
        .collect();
    let bweights = filter(m, voxel_a, opts, whitening.as_ref(), None);
    let sign_weights = filter(
        m,
        voxel_a,
        &TemplateMatchOptions {
            lowpass_a: SIGN_LOWPASS_A,
            highpass_a: SIGN_HIGHPASS_A,
            ..*opts
        },
        None,
        None,
    );
    // Each box band-passed for matching, and its centre voxel band-passed for protein's sign.
    let read_box = |c: &[f64; 3]| -> Result<(Array3<f32>, f32)> {
        let spec = bfft.forward(&centred_box(c)?);
        // Needed only when protein's sign is read from the picks.
        let centre = match opts.protein_bright {
            Some(_) => 0.0,
            None => weighted_inverse(&bfft, spec.clone(), &sign_weights)[[m / 2, m / 2, m / 2]],
        };
        Ok((weighted_inverse(&bfft, spec, &bweights), centre))
    };
    // The reference places for the z-scores, away from the picks by half the largest ball.
    let reference = if opts.background > 0 {
        background_centres(
            src.shape_xyz(),
            centres_vox,
            opts.background,
            0.5 * reach,
            (n / 2) as f64,
            opts.seed ^ BACKGROUND_SEED,
        )
    } else {
        Vec::new()
    };
    // Progress counts reading and scoring each box, picks and reference places alike, in
    // units of picks.
    let hand_every = centres_vox.len().div_ceil(HAND_PICKS).max(1);
    let hand_sample = match opts.hand {
        Hand::Auto => centres_vox.len().div_ceil(hand_every),
        _ => 0,
    };
    // (A mirrored verdict scores the picks once more; the bar then waits at its end.)
    let work = 2 * (centres_vox.len() + reference.len()) + hand_sample;
    let report = |done: usize| {
        let n = centres_vox.len();
        progress((done * n / work.max(1)).min(n), n)
    };
    let mut boxes: Vec<Array3<f32>> = Vec::with_capacity(centres_vox.len());
    let mut centre_sum = 0f64;
    for chunk in centres_vox.chunks(PICKS_PER_CHUNK) {
        let got = chunk.par_iter().map(read_box).collect::<Result<Vec<_>>>()?;
        for (b, c) in got {
            boxes.push(b);
            centre_sum += c as f64;
        }
        report(boxes.len());
    }
    let mut reference_boxes: Vec<Array3<f32>> = Vec::with_capacity(reference.len());
    for chunk in reference.chunks(PICKS_PER_CHUNK) {
        let got = chunk
            .par_iter()
            .map(|c| {
                Ok(weighted_inverse(
                    &bfft,
                    bfft.forward(&centred_box(c)?),
                    &bweights,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        reference_boxes.extend(got);
        report(boxes.len() + reference_boxes.len());
    }
    let protein_bright = opts.protein_bright.unwrap_or(centre_sum > 0.0);
    let sign = if protein_bright { 1.0 } else { -1.0 };
    let shifts: Vec<[usize; 3]> = (0..=2 * sh)
        .flat_map(|z| (0..=2 * sh).flat_map(move |y| (0..=2 * sh).map(move |x| [z, y, x])))
        .collect();
    let read = boxes.len() + reference_boxes.len();
    let mut scored = 0;
    let mut score = |boxes: &[Array3<f32>]| -> Vec<Vec<f32>> {
        let mut cc: Vec<Vec<f32>> = Vec::with_capacity(boxes.len());
        for chunk in boxes.chunks(PICKS_PER_CHUNK) {
            let per_class: Vec<Vec<f32>> = banks
                .par_iter()
                .map(|bank| class_scores(bank, chunk, &shifts, n, sign, opts.refine))
                .collect();
            for i in 0..chunk.len() {
                cc.push(per_class.iter().map(|c| c[i]).collect());
            }
            scored += chunk.len();
            report(read + scored);
        }
        cc
    };
    // The hand: the same banks against boxes mirrored about their centres. Auto compares a
    // sample of the picks' scores as they are with the same picks mirrored, and scores the
    // picks again only when the mirrored hand wins.
    let told_mirrored = opts.hand == Hand::Mirrored;
    if told_mirrored {
        boxes = boxes.par_iter().map(mirrored_z).collect();
    }
    let mut cc = score(&boxes);
    let hand_check = match opts.hand {
        Hand::Auto => {
            let as_is: Vec<Vec<f32>> = cc.iter().step_by(hand_every).cloned().collect();
            let flipped: Vec<Array3<f32>> = boxes
                .par_iter()
                .step_by(hand_every)
                .map(mirrored_z)
                .collect();
            HandCheck::decide(&as_is, &score(&flipped))
        }
        _ => None,
    };
    let mirrored = told_mirrored || hand_check.is_some_and(|c| c.is_mirrored());
    if mirrored && !told_mirrored {
        boxes = boxes.par_iter().map(mirrored_z).collect();
        cc = score(&boxes);
    }
    if mirrored {
        reference_boxes = reference_boxes.par_iter().map(mirrored_z).collect();
    }
    let reference_cc = score(&reference_boxes);
    let (z, by_z, background) = if reference_cc.len() >= MIN_PICKS_FOR_Z {
        let z = against_reference(&cc, &reference_cc, opts.naming_exponent);
        (z, true, reference_cc.len())
    } else {
        (standardised(&cc), cc.len() >= MIN_PICKS_FOR_Z, 0)
    };
    Ok(TemplateScores {
        classes: templates.iter().map(|t| t.name.clone()).collect(),
        z,
        by_z,
        cc,
        protein_bright,
        box_size: n,
        background,
        mirrored,
        hand_check,
    })
}

/// One class's best correlation at each box of `chunk` (band-passed boxes of edge `n` plus
/// margins, `sign` making protein positive): over the bank's orientations and `shifts`. With
/// `refine` (fewer than the bank's orientations), every orientation is scored at the box's
/// centre and only the best `refine` of them at every shift.
fn class_scores(
    bank: &ClassBank,
    chunk: &[Array3<f32>],
    shifts: &[[usize; 3]],
    n: usize,
    sign: f32,
    refine: usize,
) -> Vec<f32> {
    // The class's window at a shift of a box, cut to its ball and normalised.
    let (k, o) = (bank.n, FILTER_MARGIN + (n - bank.n) / 2);
    let window = |b: &Array3<f32>, [z, y, x]: [usize; 3]| -> Vec<f32> {
        let w = b.slice(s![o + z..o + z + k, o + y..o + y + k, o + x..o + x + k]);
        let flat: Vec<f32> = w.iter().map(|&v| sign * v).collect();
        normalised(&flat, &bank.ball)
    };
    let windows = |boxes: &[&Array3<f32>], at: &[[usize; 3]]| -> Array2<f32> {
        let rows: Vec<f32> = boxes
            .iter()
            .flat_map(|b| at.iter().flat_map(|&sft| window(b, sft)))
            .collect();
        Array2::from_shape_vec((boxes.len() * at.len(), bank.ball.len()), rows)
            .expect("rows of the ball's length")
    };
    let all: Vec<&Array3<f32>> = chunk.iter().collect();
    let orientations = bank.rows.nrows();
    if refine == 0 || refine >= orientations || shifts.len() == 1 {
        let scores = windows(&all, shifts).dot(&bank.rows.t());
        return scores
            .axis_chunks_iter(Axis(0), shifts.len())
            .map(largest)
            .collect();
    }
    let centre = shifts[shifts.len() / 2];
    let at_centre = windows(&all, &[centre]).dot(&bank.rows.t());
    all.iter()
        .zip(at_centre.rows())
        .map(|(b, row)| {
            let mut order: Vec<usize> = (0..orientations).collect();
            order.select_nth_unstable_by(refine - 1, |&i, &j| {
                row[j].total_cmp(&row[i]).then(i.cmp(&j))
            });
            let top = bank.rows.select(Axis(0), &order[..refine]);
            largest(&windows(&[b], shifts).dot(&top.t())).max(largest(row))
        })
        .collect()
}

/// The largest of `values` (−∞ when there are none).
fn largest<'a>(values: impl IntoIterator<Item = &'a f32>) -> f32 {
    values
        .into_iter()
        .cloned()
        .fold(f32::NEG_INFINITY, f32::max)
}

/// Each column of `cc` (a class over the picks) standardised: zero mean, unit sd (0 where the
/// sd is 0, as with a single pick).
fn standardised(cc: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let k = cc.first().map_or(0, |r| r.len());
    let n = cc.len().max(1) as f64;
    let stats: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            let mean = cc.iter().map(|r| r[j] as f64).sum::<f64>() / n;
            let var = cc.iter().map(|r| (r[j] as f64 - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        })
        .collect();
    standardise_with(cc, &stats)
}

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
    use rand::Rng;
    use tomopick_io::{Volume, VoxelSize};
    use tomopick_sim::resample::add_rotated;

    /// A solid ellipsoid with semi-axes `a` (x, y, z voxels) centred in a 16³ cube.
    fn ellipsoid(a: [f64; 3]) -> Array3<f32> {
        Array3::from_shape_fn((16, 16, 16), |(z, y, x)| {
            let d = [x as f64 - 8.0, y as f64 - 8.0, z as f64 - 8.0];
            let r2: f64 = (0..3).map(|i| (d[i] / a[i]).powi(2)).sum();
            if r2 <= 1.0 { 1.0 } else { 0.0 }
        })
    }

    /// The three test shapes as templates: a rod, a ball and a plate.
    fn shape_templates() -> Vec<Template> {
        [
            ("rod", ellipsoid([6.0, 2.0, 2.0])),
            ("ball", ellipsoid([3.5, 3.5, 3.5])),
            ("plate", ellipsoid([5.0, 5.0, 2.0])),
        ]
        .into_iter()
        .map(|(n, t)| Template {
            name: n.to_string(),
            data: t,
        })
        .collect()
    }

    /// A tomogram of `shape_zyx` at 10 Å holding `templates[k]` at each `(k, centre)` of
    /// `placed`, each at a random orientation (seeded, in order), as dark protein in uniform
    /// noise of 0.7 × the density's sd.
    fn placed_in_noise(
        templates: &[Template],
        shape_zyx: (usize, usize, usize),
        placed: &[(usize, [f64; 3])],
        seed: u64,
    ) -> TomoSource {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut data = Array3::<f32>::zeros(shape_zyx);
        for &(k, c) in placed {
            let rot = random_rotation(&mut rng);
            add_rotated(
                &templates[k].data.view(),
                &rot,
                1.0,
                c,
                &mut data,
                f64::INFINITY,
            );
        }
        data.mapv_inplace(|v| -v + 0.7 * (rng.random::<f32>() - 0.5) * 12f32.sqrt());
        TomoSource::Memory(Volume::new(data, VoxelSize::isotropic(10.0)))
    }

    /// Each of the three shapes placed three times, 21 voxels apart, at height `z`.
    fn three_by_three(z: f64) -> Vec<(usize, [f64; 3])> {
        (0..3)
            .flat_map(|k| {
                (0..3).map(move |j| (k, [10.0 + 21.0 * j as f64, 10.0 + 21.0 * k as f64, z]))
            })
            .collect()
    }

    /// `match_templates` on a test tomogram, without progress.
    fn matched(
        src: &TomoSource,
        centres: &[[f64; 3]],
        templates: &[Template],
        o: TemplateMatchOptions,
    ) -> TemplateScores {
        match_templates(src, Path::new("t.mrc"), centres, templates, &o, |_, _| {}).unwrap()
    }

    /// Three shapes, each placed three times at random orientations in noise: matching names
    /// each placement's shape (over the picks by correlation: nine picks are too few for
    /// z-scores; against reference places by standardised score).
    #[test]
    fn names_rotated_shapes_in_noise() {
        let templates = shape_templates();
        let placed = three_by_three(24.0);
        let src = placed_in_noise(&templates, (48, 64, 64), &placed, 7);
        let centres: Vec<[f64; 3]> = placed.iter().map(|p| p.1).collect();
        let truth: Vec<usize> = placed.iter().map(|p| p.0).collect();
        let opts = TemplateMatchOptions {
            rotations: 500,
            lowpass_a: 20.0,
            highpass_a: 100.0,
            tilt_max_deg: None,
            ..Default::default()
        };
        let run = |o: TemplateMatchOptions| matched(&src, &centres, &templates, o);
        // Nine picks are too few to standardise over: without reference places, the classes
        // come from the correlations; with them (the default), from the weighted z-scores.
        let against_picks = run(TemplateMatchOptions {
            background: 0,
            ..opts
        });
        assert!(!against_picks.by_z && against_picks.background == 0);
        let with_reference = run(opts);
        assert!(with_reference.by_z);
        assert_eq!(with_reference.background, DEFAULT_BACKGROUND);
        assert_eq!(with_reference.cc, against_picks.cc);
        for (i, &k) in truth.iter().enumerate() {
            assert_eq!(
                with_reference.best(i).0,
                k,
                "pick {i}: {:?}",
                with_reference.z[i]
            );
        }
        let opts = TemplateMatchOptions {
            background: 0,
            ..opts
        };
        let m = against_picks;
        assert!(!m.protein_bright, "protein was dark");
        let right = (0..centres.len())
            .filter(|&i| m.best(i).0 == truth[i])
            .count();
        assert_eq!(
            right,
            centres.len(),
            "classes {:?}",
            (0..9).map(|i| m.best(i).0).collect::<Vec<_>>()
        );
        // The right shape also correlates best before standardising.
        for (i, &k) in truth.iter().enumerate() {
            let best = m.cc[i].iter().cloned().fold(f32::MIN, f32::max);
            assert_eq!(m.cc[i][k], best, "pick {i}: {:?}", m.cc[i]);
            assert!(best > 0.5, "pick {i}: correlation {best}");
        }
        // Re-scoring only the best orientations at the centre: never above the exhaustive
        // search, the same with all of them, the same classes with the best 50; whitening
        // names them all too.
        assert_eq!(
            run(TemplateMatchOptions {
                refine: 500,
                ..opts
            })
            .cc,
            m.cc
        );
        let fast = run(TemplateMatchOptions { refine: 50, ..opts });
        for (i, (a, b)) in fast.cc.iter().zip(&m.cc).enumerate() {
            assert!(
                a.iter().zip(b).all(|(x, y)| *x <= y + 1e-6),
                "pick {i}: {a:?} above {b:?}"
            );
            assert_eq!(fast.best(i).0, truth[i], "refined pick {i}: {a:?}");
        }
        let white = run(TemplateMatchOptions {
            whiten: true,
            ..opts
        });
        for (i, &k) in truth.iter().enumerate() {
            assert_eq!(white.best(i).0, k, "whitened pick {i}: {:?}", white.cc[i]);
        }
    }

    /// A tomogram whose particles carry a CTF (10 µm underfocus, not phase-flipped: the band
    /// 44–31 Å inverted): templates given the same CTF correlate better at the particles than
    /// templates without it, and name as many placements; the default weighting (the
    /// magnitude's square root) lies between; templates told the data was phase-flipped
    /// (their inverted bands left upright) fit worse than the right CTF.
    #[test]
    fn templates_given_the_tomograms_ctf_fit_its_particles_better() {
        let templates = shape_templates();
        let placed = three_by_three(32.0);
        let clean = placed_in_noise(&templates, (64, 64, 64), &placed, 5);
        // The CTF itself on the data (power 1), its inverted bands in the shapes' band.
        let ctf = TemplateCtf {
            power: 1.0,
            ..TemplateCtf::at_defocus(10.0, false)
        };
        // The tomogram's spectrum times the CTF (protein stays dark at low frequency).
        let TomoSource::Memory(v) = clean else {
            unreachable!()
        };
        let fft = Fft3::new([64, 64, 64]);
        let weights = ctf.weights(64, 10.0);
        let src = TomoSource::Memory(Volume::new(
            weighted_inverse(&fft, fft.forward(&v.data), &weights),
            VoxelSize::isotropic(10.0),
        ));
        let centres: Vec<[f64; 3]> = placed.iter().map(|p| p.1).collect();
        let opts = TemplateMatchOptions {
            rotations: 300,
            lowpass_a: 15.0,
            highpass_a: 100.0,
            tilt_max_deg: None,
            background: 0,
            protein_bright: Some(false),
            ..Default::default()
        };
        let run = |o: TemplateMatchOptions| matched(&src, &centres, &templates, o);
        let without = run(opts);
        let with = run(TemplateMatchOptions {
            ctf: Some(ctf),
            ..opts
        });
        let mean_right = |m: &TemplateScores| {
            placed
                .iter()
                .enumerate()
                .map(|(i, p)| m.cc[i][p.0])
                .sum::<f32>()
                / 9.0
        };
        let (a, b) = (mean_right(&without), mean_right(&with));
        assert!(b > a + 0.01, "with the CTF {b}, without {a}");
        // The default, the magnitude's square root: between the two.
        let default = run(TemplateMatchOptions {
            ctf: Some(TemplateCtf::at_defocus(10.0, false)),
            ..opts
        });
        let c = mean_right(&default);
        assert!(c > a && c < b, "the default {c}, the CTF {b}, none {a}");
        let wrong = run(TemplateMatchOptions {
            ctf: Some(TemplateCtf {
                phase_flipped: true,
                ..ctf
            }),
            ..opts
        });
        let w = mean_right(&wrong);
        assert!(
            w < b - 0.01,
            "bands left inverted {w}, the CTF {b}, none {a}"
        );
        let named = |m: &TemplateScores| (0..9).filter(|&i| m.best(i).0 == placed[i].0).count();
        assert!(
            named(&with) >= named(&without) && named(&default) >= named(&without),
            "named right: the CTF {}, the default {}, none {}",
            named(&with),
            named(&default),
            named(&without)
        );
    }

    /// A sample that is mostly one class (24 plates, 3 rods, 3 balls, as ribosomes dominate a
    /// cell): standardised over the picks, the plates' own scores set their mean and many
    /// plates lose to another class; against reference places they are named right.
    #[test]
    fn one_dominant_class_is_named_right_against_reference_places() {
        let templates = shape_templates();
        let placed: Vec<(usize, [f64; 3])> = (0..30)
            .map(|j| {
                let k = match j {
                    0..3 => 0,
                    3..6 => 1,
                    _ => 2,
                };
                (
                    k,
                    [
                        9.0 + 15.0 * (j % 6) as f64,
                        9.0 + 15.0 * (j / 6) as f64,
                        24.0,
                    ],
                )
            })
            .collect();
        let src = placed_in_noise(&templates, (48, 80, 96), &placed, 11);
        let centres: Vec<[f64; 3]> = placed.iter().map(|p| p.1).collect();
        let truth: Vec<usize> = placed.iter().map(|p| p.0).collect();
        let named = |background: usize| {
            let o = TemplateMatchOptions {
                rotations: 300,
                lowpass_a: 20.0,
                highpass_a: 100.0,
                tilt_max_deg: None,
                background,
                ..Default::default()
            };
            let m = match_templates(
                &src,
                Path::new("t.mrc"),
                &centres,
                &templates,
                &o,
                |_, _| {},
            )
            .unwrap();
            assert!(m.by_z);
            let plates = (6..30).filter(|&i| m.best(i).0 == 2).count();
            let all = (0..30).filter(|&i| m.best(i).0 == truth[i]).count();
            (plates, all)
        };
        let (plates, all) = named(DEFAULT_BACKGROUND);
        let (plates_over_picks, all_over_picks) = named(0);
        assert!(
            plates >= 23 && all >= 27,
            "reference places: {plates} of 24 plates, {all} of 30"
        );
        assert!(
            plates_over_picks < plates && all_over_picks < all,
            "over the picks: {plates_over_picks} plates, {all_over_picks} of 30"
        );
    }

    #[test]
    fn the_wedge_removes_what_the_tilts_did_not_see() {
        let o = TemplateMatchOptions {
            tilt_max_deg: Some(45.0),
            ..Default::default()
        };
        let f = filter(32, 10.0, &o, None, None);
        // kz = 6, kx = 2 (index order z, y, x): beyond 45°, unseen; the transpose is seen.
        assert_eq!(f[[6, 0, 2]], 0.0);
        assert!(f[[2, 0, 6]] > 0.0);
        assert_eq!(f[[0, 0, 0]], 0.0, "the high-pass removes the mean");
        let none = filter(
            32,
            10.0,
            &TemplateMatchOptions {
                tilt_max_deg: None,
                ..o
            },
            None,
            None,
        );
        assert!(none[[6, 0, 2]] > 0.0);
    }

    #[test]
    fn z_scores_are_standardised_per_class() {
        let cc = vec![vec![0.1, 0.5], vec![0.3, 0.5], vec![0.5, 0.5]];
        let z = standardised(&cc);
        let col: Vec<f32> = z.iter().map(|r| r[0]).collect();
        assert!(col[1].abs() < 1e-6 && (col[2] + col[0]).abs() < 1e-6);
        let var: f32 = col.iter().map(|v| v * v).sum::<f32>() / 3.0;
        assert!((var - 1.0).abs() < 1e-5);
        assert!(z.iter().all(|r| r[1] == 0.0), "a constant class gets 0");
    }

    #[test]
    fn reference_scores_weigh_each_z_score_by_the_root_of_its_spread() {
        // Class 0 spreads 4x as much as class 1 at the reference places (MAD 0.2 against
        // 0.05), both around a median of 0.
        let reference: Vec<Vec<f32>> = [-0.2f32, 0.0, 0.2]
            .iter()
            .map(|&v| vec![v, v / 4.0])
            .collect();
        let s = [1.4826 * 0.2, 1.4826 * 0.05];
        let z = against_reference(&[vec![0.6, 0.2]], &reference, 0.5);
        // z-scores 0.6/s0 and 0.2/s1; weights √(s/S), S = √(s0 s1): √2 and 1/√2.
        let want = [0.6 / s[0] * 2f64.sqrt(), 0.2 / s[1] / 2f64.sqrt()];
        for k in 0..2 {
            assert!(
                (z[0][k] as f64 - want[k]).abs() < 1e-4,
                "{z:?} against {want:?}"
            );
        }
        // Equal spreads: the plain z-scores.
        let same: Vec<Vec<f32>> = [-0.2f32, 0.0, 0.2].iter().map(|&v| vec![v, v]).collect();
        let z = against_reference(&[vec![0.6, 0.2]], &same, 0.5);
        // Exponent 0: the z-scores as they are.
        let plain = against_reference(&[vec![0.6, 0.2]], &reference, 0.0);
        assert!((plain[0][1] as f64 - 0.2 / s[1]).abs() < 1e-3, "{plain:?}");
        assert!((z[0][0] as f64 - 0.6 / s[0]).abs() < 1e-4, "{z:?}");
    }

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
