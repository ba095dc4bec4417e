//! Glue shared by `train detector`, `pick` and `demo`: picking an in-memory volume, simulating a
//! held-aside tomogram, and scoring picks against a simulation's truth.

use anyhow::Result;
use tomopick_eval::{ClassTable, CziiOptions, EvalReport, Occupancy, evaluate};
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

/// The class-agnostic F1 of a report (the SHREC metric when there is one).
pub fn overall_f1(report: &EvalReport) -> f64 {
    report
        .shrec
        .as_ref()
        .map(|s| s.overall.f_beta)
        .unwrap_or(report.czii.overall.f_beta)
}

/// The confidence threshold with the best F1 on a simulated tomogram.
pub struct Calibration {
    /// The threshold (0.10, 0.15, …, 0.90).
    pub threshold: f64,
    /// F1 at that threshold.
    pub f1: f64,
    /// Picks at that threshold.
    pub picks: usize,
}

/// Picks `volume` (the reconstruction of `t`) once at the lowest threshold and scores the picks
/// at thresholds 0.10–0.90 in steps of 0.05. Picks are thresholded after NMS, which keeps the
/// same picks as thresholding before it (greedy NMS only suppresses weaker detections; tested
/// in tomopick-pick), so one pass serves every threshold.
pub fn calibrate_threshold(
    model: &DetectorModel,
    volume: &Volume,
    t: &Tomogram,
) -> Result<Calibration> {
    let grid: Vec<f64> = (0..=16).map(|i| 0.10 + 0.05 * i as f64).collect();
    let opts = PickOptions {
        threshold: grid[0],
        ..PickOptions::default()
    };
    let picks = pick_in_memory(model, volume, &opts, |_, _| {});
    let mut best = Calibration {
        threshold: 0.5,
        f1: -1.0,
        picks: 0,
    };
    for th in grid {
        let kept: Vec<Particle> = picks
            .iter()
            .filter(|p| p.score.is_none_or(|s| s >= th))
            .cloned()
            .collect();
        let f1 = overall_f1(&score(&kept, t)?);
        if f1 > best.f1 {
            best = Calibration {
                threshold: th,
                f1,
                picks: kept.len(),
            };
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calibrated threshold scores at least as well as the paper's 0.5, and picking at it
    /// directly gives the very picks and F1 the calibration counted (thresholding after NMS).
    #[test]
    fn the_calibrated_threshold_is_what_picking_at_it_gives() {
        let model = crate::cmd_pick::load_model(None).unwrap();
        let c = &model.config;
        let config = test_tomogram_config([96, 96, 48], 40, &c.classes, c.voxel_size_a);
        let mut t = simulate_quietly(&config, 4242).unwrap();
        let vs = VoxelSize::isotropic(config.voxel_size_a);
        let vol = Volume::new(std::mem::take(&mut t.reconstruction), vs);
        let cal = calibrate_threshold(&model, &vol, &t).unwrap();
        let at = |threshold: f64| {
            let opts = PickOptions {
                threshold,
                ..PickOptions::default()
            };
            let picks = pick_in_memory(&model, &vol, &opts, |_, _| {});
            (picks.len(), overall_f1(&score(&picks, &t).unwrap()))
        };
        let (n, f1) = at(cal.threshold);
        assert_eq!(n, cal.picks);
        assert!((f1 - cal.f1).abs() < 1e-12, "{f1} vs {}", cal.f1);
        assert!(cal.f1 >= at(0.5).1, "calibrated {} below 0.5's", cal.f1);
        assert!(cal.f1 > 0.3, "F1 {} on an easy tomogram", cal.f1);
    }
}
