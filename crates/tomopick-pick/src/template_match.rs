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
use crate::template_background::{against_reference, background_centres, standardised};
use crate::template_filter::{
    ClassBank, WHITENING_PICKS, Whitening, box_edge, class_bank, filter, normalised,
    weighted_inverse,
};
use crate::template_hand::{HAND_PICKS, Hand, HandCheck, mirrored_z};
use ndarray::{Array2, Array3, Axis, s};
use rand::SeedableRng;
use rayon::prelude::*;
use std::path::Path;
use tomopick_io::Rotation;
use tomopick_sim::fft::Fft3;
use tomopick_sim::resample::radius_above;
use tomopick_sim::rotation::random_rotation;

pub use crate::template_options::{
    DEFAULT_BACKGROUND, DEFAULT_HIGHPASS_A, DEFAULT_LOWPASS_A, DEFAULT_NAMING_EXPONENT,
    DEFAULT_ROTATIONS, DEFAULT_SEED, DEFAULT_SHIFT_VOX, DEFAULT_TILT_MAX, TemplateMatchOptions,
    check_options, missing_wedge, parse_protein,
};

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

/// The radius (voxels) of the ball that holds `template`: where it passes 5 % of its peak, plus
/// 2 voxels.
fn ball_radius(template: &Template) -> f64 {
    let peak = template.data.iter().cloned().fold(0f32, f32::max);
    radius_above(&template.data.view(), 0.05 * peak) + 2.0
}

/// The largest ball radius (voxels) of `templates`: where a template passes 5 % of its peak,
/// plus 2 voxels (0 for none).
pub fn template_reach(templates: &[Template]) -> f64 {
    templates.iter().map(ball_radius).fold(0.0, f64::max)
}

/// Matches `templates` at each of `centres_vox` (`[x, y, z]` voxels) of `src` (`path` names it
/// in messages), whose voxels are `voxel_a` Å. `progress(done, total)` after each chunk.
///
/// The boxes cut around the picks and the reference places' distance from them follow the
/// largest template's ball, or `least_reach_vox` where that is larger: give the
/// [`template_reach`] of the whole set the templates were chosen from (the template library,
/// [`crate::least_reach`]), and each class's correlations and reference places, hence its
/// names against the other classes matched, do not depend on which of the set were matched.
pub fn match_templates(
    src: &TomoSource,
    path: &Path,
    centres_vox: &[[f64; 3]],
    templates: &[Template],
    least_reach_vox: f64,
    opts: &TemplateMatchOptions,
    progress: impl Fn(usize, usize),
) -> Result<TemplateScores> {
    check_options(opts, path)?;
    if templates.is_empty() {
        return Err(PickError::input(path, "no templates to match"));
    }
    let voxel_a = src.voxel_size().as_array()[0];
    let radii: Vec<f64> = templates.iter().map(ball_radius).collect();
    let reach = radii.iter().cloned().fold(least_reach_vox, f64::max);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template_ctf::TemplateCtf;
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
        match_templates(
            src,
            Path::new("t.mrc"),
            centres,
            templates,
            0.0,
            &o,
            |_, _| {},
        )
        .unwrap()
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
                0.0,
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
}
