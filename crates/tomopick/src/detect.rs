//! Glue shared by `train detector`, `pick` and `demo`: picking an in-memory volume, simulating a
//! held-aside tomogram, and scoring picks against a simulation's truth.

use anyhow::Result;
use ndarray::Array3;
use tomopick_eval::{
    ClassTable, CziiOptions, EvalReport, Occupancy, Scores, dilate_labels, evaluate, shrec_hits,
};
use tomopick_io::volume::standard_scale;
use tomopick_io::{Particle, Volume, VoxelSize};
use tomopick_nn::DetectorModel;
use tomopick_pick::{PickOptions, pick, to_particles};
use tomopick_sim::Dist;
use tomopick_sim::tomogram::{Route, Tomogram, TomogramConfig, simulate_tomogram};

/// Picks a volume held in memory; `progress(done, total)` after each tile.
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

/// Pick options with the model's thresholds (per class when calibrated), or `threshold` for
/// every class when given.
pub fn model_pick_options(model: &DetectorModel, threshold: Option<f64>) -> PickOptions {
    PickOptions {
        threshold: threshold.unwrap_or(model.config.pick_threshold),
        class_thresholds: match threshold {
            Some(_) => None,
            None => model.config.class_thresholds(),
        },
        ..PickOptions::default()
    }
}

/// The thresholds of `opts` in words, for logs.
pub fn describe_thresholds(opts: &PickOptions) -> String {
    match &opts.class_thresholds {
        Some(t) => {
            let (lo, hi) = t
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            format!("confidence thresholds per class, {lo:.2}–{hi:.2}")
        }
        None => format!("confidence threshold {:.2}", opts.threshold),
    }
}

/// A small test tomogram like SHREC's (tilt series ±60° in 3° steps, 120 e/Å², defocus 3 µm,
/// gold and vesicles at SHREC's density per area):
/// `shape_xyz` voxels, `particles` particles of `classes` at `voxel_size_a`.
pub fn test_tomogram_config(
    shape_xyz: [usize; 3],
    particles: usize,
    classes: &[String],
    voxel_size_a: f64,
) -> TomogramConfig {
    let mut c = TomogramConfig::shrec_like();
    c.shape_xyz = shape_xyz;
    c.particles = Dist::Fixed(particles as f64);
    c.classes = classes.to_vec();
    c.voxel_size_a = voxel_size_a;
    c.ice_thickness_a = Dist::Fixed(shape_xyz[2] as f64 * voxel_size_a);
    // SHREC's density of distractors: 30 gold beads and 2 vesicles per 512 × 512 voxels, and at
    // least one vesicle (a small validation tomogram must show the detector a membrane).
    let area = (shape_xyz[0] * shape_xyz[1]) as f64 / 512.0 / 512.0;
    c.gold = Dist::Fixed((area * 30.0).round());
    c.vesicles = Dist::Fixed((area * 2.0).ceil());
    c.imaging.route = Route::Tilt;
    c
}

/// Simulates a tomogram without progress output.
pub fn simulate_quietly(config: &TomogramConfig, seed: u64) -> Result<Tomogram> {
    Ok(simulate_tomogram(config, seed, &|_| {})?)
}

/// Scores picks against a simulated tomogram's truth with both metrics (F1: beta = 1).
pub fn score(picks: &[Particle], t: &Tomogram) -> Result<EvalReport> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let model = crate::cmd_pick::load_model(None).unwrap();
        let c = &model.config;
        let config = test_tomogram_config([96, 96, 48], 40, &c.classes, c.voxel_size_a);
        let mut t = simulate_quietly(&config, 4242).unwrap();
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
        (picks.len(), overall_f1(&score(&picks, t).unwrap()))
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
