//! The second stage on a tomogram: classifying a box around each pick, and
//! `pick --refine-classes` (each pick takes the classifier's class).

use crate::classify::{Classification, ClassifyOptions, classify};
use crate::error::{PickError, Result};
use crate::source::TomoSource;
use std::path::Path;
use tomopick_io::Particle;
use tomopick_nn::ClassifierModel;
use tomopick_sim::subtomo::MEMBRANE_CLASS;

/// Classifies a box around each particle of `picks` in `src` (`tomo` names the file in
/// messages); refuses non-finite voxels. `progress(done, total)` after each box.
pub fn classify_particles(
    model: &ClassifierModel,
    src: &TomoSource,
    picks: &[Particle],
    opts: &ClassifyOptions,
    tomo: &Path,
    progress: impl Fn(usize, usize),
) -> Result<Classification> {
    let vs = src.voxel_size();
    let centres: Vec<[f64; 3]> = picks
        .iter()
        .map(|p| p.pos_a.to_voxels(vs).as_array())
        .collect();
    classify(
        model,
        &centres,
        src.shape_xyz(),
        opts,
        |origin, size| {
            let b = src.block(origin, size, |v| v)?;
            if b.iter().any(|v| !v.is_finite()) {
                return Err(PickError::input(
                    tomo,
                    format!(
                        "NaN or infinite voxels in the box at voxel {origin:?}; fix the tomogram \
                         first (`tomopick validate` shows them)"
                    ),
                ));
            }
            Ok(b)
        },
        progress,
    )
}

/// Refuses a classifier whose classes (besides `membrane`) are not the detector's; `path`
/// names the classifier file (`None`: the embedded default).
pub fn check_refines(
    model: &ClassifierModel,
    detector: &[String],
    path: Option<&Path>,
) -> Result<()> {
    let mut have: Vec<&String> = model
        .config
        .classes
        .iter()
        .filter(|c| *c != MEMBRANE_CLASS)
        .collect();
    let mut want: Vec<&String> = detector.iter().collect();
    have.sort();
    want.sort();
    if have != want {
        return Err(PickError::input(
            path.unwrap_or(Path::new("<embedded default classifier>")),
            format!(
                "the classifier's classes [{}] are not the detector's [{}]; train one for these classes",
                model.config.classes.join(", "),
                detector.join(", ")
            ),
        ));
    }
    Ok(())
}

/// What refining did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refinement {
    /// Picks whose class changed.
    pub changed: usize,
    /// Picks the classifier called membrane (kept, with the detector's class).
    pub membranes: usize,
    /// Picks whose box crossed the border (padded with its mean).
    pub padded: usize,
}

/// How sure the classifier must be of a class before it replaces the detector's: chosen for the
/// stage-6 classifier on the foreign suite's validation part together with our own validation
/// tomogram (BENCHMARKS.md, "Classifier stage 6 shipped"): the lowest value that does not lower
/// our own tomogram's mean per-class F1 (0.3-0.5 raise the suite's further and cost ours up to
/// 0.065).
pub const REFINE_MIN_PROBABILITY: f32 = 0.7;

/// `pick --refine-classes`: a pick takes the classifier's most probable class other than
/// `membrane` where the classifier gives it at least [`REFINE_MIN_PROBABILITY`], and keeps the
/// detector's class otherwise; no pick is dropped (dropping the picks it called membrane, as
/// before, cost 0.16 of the class-agnostic F1 on another simulator's tomograms and 0.16 on our
/// own). Only the classes in `named` (the detector's, or those the sample holds) are given. The
/// caller has checked the classifier's voxel size against the tomogram's (before picking).
pub fn refine_classes(
    picks: Vec<Particle>,
    model: &ClassifierModel,
    src: &TomoSource,
    tomo: &Path,
    named: &[String],
) -> Result<(Vec<Particle>, Refinement)> {
    let c = classify_particles(
        model,
        src,
        &picks,
        &ClassifyOptions::default(),
        tomo,
        |_, _| {},
    )?;
    let classes = &model.config.classes;
    let mut r = Refinement {
        padded: c.boxes.iter().filter(|b| b.padded).count(),
        ..Refinement::default()
    };
    let mut out = picks;
    for b in &c.boxes {
        let p = &mut out[b.pick];
        r.membranes += usize::from(classes[b.prediction.class_index] == MEMBRANE_CLASS);
        let best = (0..classes.len())
            .filter(|&i| classes[i] != MEMBRANE_CLASS && named.contains(&classes[i]))
            .max_by(|&i, &j| {
                b.prediction.probabilities[i].total_cmp(&b.prediction.probabilities[j])
            });
        if let Some(i) = best
            && b.prediction.probabilities[i] >= REFINE_MIN_PROBABILITY
            && classes[i] != p.class
        {
            p.class = classes[i].clone();
            r.changed += 1;
        }
    }
    Ok((out, r))
}

/// Refuses the first particle of `picks` (read from `list`) whose centre lies outside a
/// tomogram of `shape_xyz` voxels of `vs` (`tomo` names it): such a list belongs to another
/// tomogram, binning or unit.
pub fn check_picks_inside(
    picks: &[Particle],
    shape_xyz: [usize; 3],
    vs: tomopick_io::VoxelSize,
    list: &Path,
    tomo: &Path,
) -> Result<()> {
    let outside = picks.iter().enumerate().find(|(_, p)| {
        let v = p.pos_a.to_voxels(vs).as_array();
        (0..3).any(|a| !(v[a] >= -0.5 && v[a] <= shape_xyz[a] as f64 - 0.5))
    });
    if let Some((i, p)) = outside {
        let [x, y, z] = p.pos_a.as_array();
        let ext = [0, 1, 2].map(|a| shape_xyz[a] as f64 * vs.as_array()[a]);
        return Err(PickError::input(
            list,
            format!(
                "particle {} at ({x:.1}, {y:.1}, {z:.1}) Å lies outside {} ({:.0} × {:.0} × {:.0} Å); \
                 is the list for another tomogram, binning or unit? (--voxel-size, --binning)",
                i + 1,
                tomo.display(),
                ext[0],
                ext[1],
                ext[2]
            ),
        ));
    }
    Ok(())
}
