//! Pick thresholds fitted to annotated tomograms (simulated, or folders with a truth list and
//! an occupancy mask), and picks scored against a simulation's truth.

use crate::error::{PickError, Result};
use crate::picker::{PickOptions, pick, to_particles};
use crate::pipeline::check_voxel_size;
use ndarray::Array3;
use std::path::{Path, PathBuf};
use tomopick_eval::{
    ClassTable, CziiOptions, EvalReport, Occupancy, Scores, dilate_labels, evaluate,
    occupancy_labels, shrec_hits,
};
use tomopick_io::volume::standard_scale;
use tomopick_io::{
    ListContext, MrcReadOptions, Particle, Volume, VoxelSize, read_mrc, read_particles,
};
use tomopick_nn::DetectorModel;
use tomopick_sim::tomogram::Tomogram;

/// Picks a volume held in memory at its own voxel size (no resampling, no checks: see
/// [`crate::pick_source`] for the whole pipeline); `progress(done, total)` after each tile.
pub fn pick_in_memory(
    model: &DetectorModel,
    volume: &Volume,
    opts: &PickOptions,
    progress: impl Fn(usize, usize) + Sync,
) -> Vec<Particle> {
    let stats = volume.stats();
    let (mean, inv) = (stats.mean as f32, standard_scale(stats.rms));
    let dets = pick::<std::convert::Infallible>(
        model,
        volume.shape_xyz(),
        opts,
        |origin, size| Ok(volume.block(origin, size, |v| (v - mean) * inv)),
        progress,
    )
    .unwrap_or_else(|e| match e {});
    to_particles(&dets, model, volume.voxel_size)
}

/// Scores picks against a simulated tomogram's truth with both metrics (F1: beta = 1).
pub fn score_simulated(picks: &[Particle], t: &Tomogram) -> Result<EvalReport> {
    let vs = VoxelSize::isotropic(t.config.voxel_size_a);
    let mut classes = ClassTable::default();
    for (n, r) in &t.class_radii_a {
        classes.radius_a.insert(n.clone(), *r);
    }
    let occupancy = Volume::new(t.sample.occupancy.mapv(|v| v as f32), vs);
    Ok(evaluate(
        picks,
        &t.sample.particles,
        &classes,
        Occupancy::Mask(&occupancy),
        CziiOptions {
            threshold: 0.5,
            beta: 1.0,
        },
        ("picks", "simulation truth"),
    )?)
}

/// The confidence threshold with the best F1 on a simulated tomogram.
pub struct Calibration {
    /// The threshold (one of [`calibration_grid`]'s).
    pub threshold: f64,
    /// F1 at that threshold.
    pub f1: f64,
    /// Picks at that threshold.
    pub picks: usize,
}

/// One confidence threshold per class with the best class-agnostic F1 on a simulated tomogram.
pub struct ClassCalibration {
    /// The thresholds, in the model's class order (each one of [`calibration_grid`]'s).
    pub thresholds: Vec<f64>,
    /// F1 with them.
    pub f1: f64,
    /// Picks with them.
    pub picks: usize,
    /// The best single threshold on the same tomogram, which the search starts from.
    pub single: Calibration,
}

/// The thresholds the calibrations scan: 0.10–0.95 in steps of 0.05, then 0.97 and 0.99
/// (a well-trained model's best threshold can lie above 0.90).
pub fn calibration_grid() -> Vec<f64> {
    let mut grid: Vec<f64> = (0..=17).map(|i| 0.10 + 0.05 * i as f64).collect();
    grid.extend([0.97, 0.99]);
    grid
}

/// One tomogram picked once at the lowest threshold of [`calibration_grid`], with each pick's
/// SHREC hit looked up once, so that the class-agnostic F1 under any thresholds is a count.
/// Thresholding after NMS keeps the same picks as thresholding before it (greedy NMS only
/// suppresses weaker detections; tested in tomopick-pick), so one pass serves every threshold.
#[derive(Clone)]
pub struct ScoredPicks {
    /// Per pick: (score, class index, hit label; 0 = background or outside).
    picks: Vec<(f64, usize, u32)>,
    n_truth: usize,
}

impl ScoredPicks {
    /// Picks `volume` with `model` at the grid's lowest threshold and looks each pick up in the
    /// (already dilated) occupancy `labels` of `n_truth` true particles.
    pub fn new(
        model: &DetectorModel,
        volume: &Volume,
        labels: &Array3<u32>,
        n_truth: usize,
    ) -> Self {
        let opts = PickOptions {
            threshold: calibration_grid()[0],
            ..PickOptions::default()
        };
        let picks = pick_in_memory(model, volume, &opts, |_, _| {});
        let hits = shrec_hits(&picks, labels, volume.voxel_size);
        let class_of = |name: &str| model.config.classes.iter().position(|c| c == name);
        ScoredPicks {
            picks: picks
                .iter()
                .zip(hits)
                .map(|(p, h)| {
                    let class = class_of(&p.class).expect("picks carry the model's classes");
                    (p.score.unwrap_or(1.0), class, h.unwrap_or(0))
                })
                .collect(),
            n_truth,
        }
    }

    /// The number of true particles.
    pub fn n_truth(&self) -> usize {
        self.n_truth
    }

    /// Class-agnostic SHREC F1 and the number of picks kept with `thresholds[class]` (counted
    /// as `evaluate_shrec` counts: duplicates are picks, so they lower precision).
    pub fn f1(&self, thresholds: &[f64]) -> (f64, usize) {
        let mut found = vec![false; self.n_truth + 1];
        let (mut kept, mut tp, mut fp, mut dup) = (0, 0, 0, 0);
        for &(score, class, hit) in &self.picks {
            if score >= thresholds[class] {
                kept += 1;
                match hit {
                    0 => fp += 1,
                    h if found[h as usize] => dup += 1,
                    h => {
                        found[h as usize] = true;
                        tp += 1;
                    }
                }
            }
        }
        let s = Scores::from_counts(tp, fp, dup, kept, self.n_truth, kept, 1.0);
        (s.f1, kept)
    }
}

/// Scores thresholds over one or more picked tomograms: the mean of their class-agnostic F1s
/// (each tomogram counts once, whatever it holds) and the picks kept in all.
struct ThresholdScorer {
    tomograms: Vec<ScoredPicks>,
}

impl ThresholdScorer {
    fn simulated(model: &DetectorModel, volume: &Volume, t: &Tomogram) -> Self {
        let labels = dilate_labels(&t.sample.occupancy);
        ThresholdScorer {
            tomograms: vec![ScoredPicks::new(
                model,
                volume,
                &labels,
                t.sample.particles.len(),
            )],
        }
    }

    fn f1(&self, thresholds: &[f64]) -> (f64, usize) {
        let (mut sum, mut kept) = (0.0, 0);
        for t in &self.tomograms {
            let (f1, k) = t.f1(thresholds);
            sum += f1;
            kept += k;
        }
        (sum / self.tomograms.len() as f64, kept)
    }

    /// The single threshold of the grid with the best F1 (the lowest on ties).
    fn best_single(&self, classes: usize) -> Calibration {
        let mut best = Calibration {
            threshold: 0.5,
            f1: -1.0,
            picks: 0,
        };
        for th in calibration_grid() {
            let (f1, picks) = self.f1(&vec![th; classes]);
            if f1 > best.f1 {
                best = Calibration {
                    threshold: th,
                    f1,
                    picks,
                };
            }
        }
        best
    }

    /// Per-class thresholds by coordinate ascent from the best single one: each class's
    /// threshold in turn takes the grid value that raises F1 most, in passes over the classes
    /// until one changes nothing (at most 5).
    fn per_class(&self, n: usize) -> ClassCalibration {
        let single = self.best_single(n);
        let mut th = vec![single.threshold; n];
        let mut best = single.f1;
        for _ in 0..5 {
            let mut changed = false;
            for c in 0..n {
                for g in calibration_grid() {
                    let mut trial = th.clone();
                    trial[c] = g;
                    let (f1, _) = self.f1(&trial);
                    if f1 > best + 1e-12 {
                        (best, th, changed) = (f1, trial, true);
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let (f1, picks) = self.f1(&th);
        ClassCalibration {
            thresholds: th,
            f1,
            picks,
            single,
        }
    }
}

/// Picks `volume` (the reconstruction of `t`) once and finds the single confidence threshold of
/// [`calibration_grid`] with the best class-agnostic F1 (SHREC metric).
pub fn calibrate_threshold(model: &DetectorModel, volume: &Volume, t: &Tomogram) -> Calibration {
    ThresholdScorer::simulated(model, volume, t).best_single(model.config.classes.len())
}

/// Picks `volume` (the reconstruction of `t`) once and finds one confidence threshold per class
/// with the best class-agnostic F1 (SHREC metric), by coordinate ascent from the best single
/// threshold. Needs a tomogram with many particles of each class (a SHREC-size one has about
/// 190), or the thresholds fit its noise.
pub fn calibrate_class_thresholds(
    model: &DetectorModel,
    volume: &Volume,
    t: &Tomogram,
) -> ClassCalibration {
    ThresholdScorer::simulated(model, volume, t).per_class(model.config.classes.len())
}

/// One threshold per class with the best mean class-agnostic F1 over several annotated
/// tomograms (each picked once into a [`ScoredPicks`]), as [`calibrate_class_thresholds`] does
/// on one.
pub fn calibrate_on(tomograms: Vec<ScoredPicks>, classes: usize) -> ClassCalibration {
    ThresholdScorer { tomograms }.per_class(classes)
}

/// An annotated tomogram folder (SHREC layout: the tomogram, `occupancy_mask.mrc`, and
/// `particles.csv` or `particle_locations.txt`) picked once by `model` into [`ScoredPicks`];
/// also the number of true particles.
pub fn score_folder(model: &DetectorModel, dir: &Path, tomogram_name: &str) -> Result<ScoredPicks> {
    let tomo = dir.join(tomogram_name);
    let vol = read_mrc(&tomo, MrcReadOptions { voxel_size: None })?;
    check_voxel_size(model.config.voxel_size_a, vol.voxel_size, &tomo)?;
    let occ_path = dir.join("occupancy_mask.mrc");
    let occ = read_mrc(
        &occ_path,
        MrcReadOptions {
            voxel_size: Some(vol.voxel_size),
        },
    )?;
    if occ.shape_xyz() != vol.shape_xyz() {
        return Err(PickError::input(
            &occ_path,
            format!(
                "occupancy mask of {:?} voxels for a tomogram of {:?}",
                occ.shape_xyz(),
                vol.shape_xyz()
            ),
        ));
    }
    let truth = read_truth(dir, vol.voxel_size)?;
    let labels = dilate_labels(&occupancy_labels(&occ, truth.len())?);
    Ok(ScoredPicks::new(model, &vol, &labels, truth.len()))
}

/// The truth list of a SHREC-layout folder: `particles.csv` (Å) or `particle_locations.txt`.
pub fn read_truth(dir: &Path, vs: VoxelSize) -> Result<Vec<Particle>> {
    let ctx = ListContext {
        voxel_size: Some(vs),
        ..Default::default()
    };
    let candidates: [PathBuf; 2] = [
        dir.join("particles.csv"),
        dir.join("particle_locations.txt"),
    ];
    for p in &candidates {
        if p.exists() {
            return Ok(read_particles(p, None, &ctx)?);
        }
    }
    Err(PickError::input(
        dir,
        "neither particles.csv nor particle_locations.txt is there",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::model_pick_options;
    use tomopick_sim::tomogram::{TomogramConfig, simulate_tomogram};

    /// The class-agnostic F1 of a report (SHREC's metric: the tests score with an occupancy mask).
    fn overall_f1(report: &EvalReport) -> f64 {
        report
            .shrec
            .as_ref()
            .expect("an occupancy mask")
            .overall
            .f_beta
    }

    /// A small simulated tomogram, picked by the embedded model.
    fn small_case() -> (DetectorModel, Tomogram, Volume) {
        let model = crate::models::load_detector(None).unwrap();
        let c = &model.config;
        let config = TomogramConfig::test_like([96, 96, 48], 40, &c.classes, c.voxel_size_a);
        let mut t = simulate_tomogram(&config, 4242, &|_| {}).unwrap();
        let vs = VoxelSize::isotropic(config.voxel_size_a);
        let vol = Volume::new(std::mem::take(&mut t.reconstruction), vs);
        (model, t, vol)
    }

    /// Picks `vol` with `opts`: the number of picks and their F1 scored by `tomopick evaluate`'s
    /// code.
    fn picked(
        model: &DetectorModel,
        vol: &Volume,
        t: &Tomogram,
        opts: &PickOptions,
    ) -> (usize, f64) {
        let picks = pick_in_memory(model, vol, opts, |_, _| {});
        (
            picks.len(),
            overall_f1(&score_simulated(&picks, t).unwrap()),
        )
    }

    /// The calibrated threshold scores at least as well as the paper's 0.5, and picking at it
    /// directly gives the very picks and F1 the calibration counted (thresholding after NMS).
    #[test]
    fn the_calibrated_threshold_is_what_picking_at_it_gives() {
        let (model, t, vol) = small_case();
        let cal = calibrate_threshold(&model, &vol, &t);
        let at = |threshold: f64| {
            let opts = PickOptions {
                threshold,
                ..PickOptions::default()
            };
            picked(&model, &vol, &t, &opts)
        };
        let (n, f1) = at(cal.threshold);
        assert_eq!(n, cal.picks);
        assert!((f1 - cal.f1).abs() < 1e-12, "{f1} vs {}", cal.f1);
        assert!(cal.f1 >= at(0.5).1, "calibrated {} below 0.5's", cal.f1);
        assert!(cal.f1 > 0.3, "F1 {} on an easy tomogram", cal.f1);
    }

    /// Per-class thresholds score at least as well as the best single one on the tomogram they
    /// were fitted to, and a model carrying them picks exactly what the calibration counted.
    #[test]
    fn per_class_thresholds_are_what_picking_with_them_gives() {
        let (mut model, t, vol) = small_case();
        let cal = calibrate_class_thresholds(&model, &vol, &t);
        assert_eq!(cal.thresholds.len(), model.config.classes.len());
        assert!(
            cal.f1 >= cal.single.f1,
            "{} below {}",
            cal.f1,
            cal.single.f1
        );
        assert!(
            cal.thresholds
                .iter()
                .all(|t| calibration_grid().contains(t))
        );
        model.config.class_thresholds = cal.thresholds.clone();
        let opts = model_pick_options(&model, None);
        assert_eq!(opts.class_thresholds.as_ref(), Some(&cal.thresholds));
        let (n, f1) = picked(&model, &vol, &t, &opts);
        assert_eq!(n, cal.picks);
        assert!((f1 - cal.f1).abs() < 1e-12, "{f1} vs {}", cal.f1);
        // --threshold overrides them: one threshold for every class.
        let opts = model_pick_options(&model, Some(cal.single.threshold));
        assert_eq!(opts.class_thresholds, None);
        assert_eq!(picked(&model, &vol, &t, &opts).0, cal.single.picks);
    }
}
