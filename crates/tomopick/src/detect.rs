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
