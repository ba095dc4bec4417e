//! The demo: simulate a small tomogram, pick it with a model, score the picks against the
//! simulation's truth, and write a report folder.

use crate::calibrate::{pick_in_memory, score_simulated};
use crate::error::Result;
use crate::models::{load_detector, model_pick_options};
use crate::preview::{Mark, write_preview};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use tomopick_eval::EvalReport;
use tomopick_io::atomic::{commit_dir, staging_dir, write_atomic};
use tomopick_io::{
    ListContext, ListFormat, MrcWriteMode, Particle, Volume, VoxelSize, write_mrc, write_particles,
};
use tomopick_sim::tomogram::{Stage, TomogramConfig, simulate_tomogram};

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoRequest {
    /// The report folder (must not exist).
    pub output: PathBuf,
    /// Edge of the tomogram in voxels (its depth is half).
    pub size: usize,
    /// Particles to place.
    pub particles: usize,
    /// Seed of the simulation.
    pub seed: u64,
    /// A detector file; `None`: the embedded default.
    pub model: Option<PathBuf>,
}

/// What the demo found.
pub struct DemoOutcome {
    /// The picks (Å).
    pub picks: Vec<Particle>,
    /// Both metrics against the simulation's truth.
    pub report: EvalReport,
    /// Particles simulated.
    pub truth: usize,
    /// The tomogram's shape `[x, y, z]` and voxel size.
    pub shape_xyz: [usize; 3],
    /// Voxel size, Å.
    pub voxel_size_a: f64,
    /// Seconds simulating and picking.
    pub seconds: [f64; 2],
}

/// Runs the demo into `req.output` (written whole: tomogram.mrc, picks.csv, picks.star,
/// truth.csv, report.md/json, preview_picks.png, preview_truth.png). `on_stage` hears the
/// simulation's stages, `progress(done, total)` the pick's tiles.
pub fn run_demo(
    req: &DemoRequest,
    on_stage: &(dyn Fn(Stage) + Sync),
    progress: impl Fn(usize, usize) + Sync,
) -> Result<DemoOutcome> {
    let start = Instant::now();
    let staging = staging_dir(&req.output)?;
    let dir = staging.path();
    let model = load_detector(req.model.as_deref())?;
    let vs = VoxelSize::isotropic(model.config.voxel_size_a);
    let shape_xyz = [req.size, req.size, req.size / 2];
    let config = TomogramConfig::test_like(
        shape_xyz,
        req.particles,
        &model.config.classes,
        model.config.voxel_size_a,
    );
    let t = simulate_tomogram(&config, req.seed, on_stage)?;
    let sim_s = start.elapsed().as_secs_f64();
    let vol = Volume::new(t.reconstruction.clone(), vs);
    let opts = model_pick_options(&model, None);
    let t1 = Instant::now();
    let picks = pick_in_memory(&model, &vol, &opts, progress);
    let pick_s = t1.elapsed().as_secs_f64();
    let report = score_simulated(&picks, &t)?;
    let ctx = ListContext {
        voxel_size: Some(vs),
        ..Default::default()
    };
    write_mrc(&dir.join("tomogram.mrc"), &vol, MrcWriteMode::Float32)?;
    let truth = &t.sample.particles;
    write_particles(&dir.join("picks.csv"), ListFormat::Csv, &picks, &ctx)?;
    write_particles(&dir.join("picks.star"), ListFormat::Relion4, &picks, &ctx)?;
    write_particles(&dir.join("truth.csv"), ListFormat::Csv, truth, &ctx)?;
    let md = format!(
        "{}\n\nSimulated with seed {} ({sim_s:.1} s); picked in {pick_s:.1} s with the model trained at {} Å.\n",
        report.to_markdown(),
        req.seed,
        model.config.voxel_size_a
    );
    write_atomic(&dir.join("report.md"), |w| w.write_all(md.as_bytes()))?;
    write_atomic(&dir.join("report.json"), |w| {
        w.write_all(report.to_json().as_bytes())
    })?;
    let marks = Mark::for_picks(&picks, &model, vs);
    write_preview(&dir.join("preview_picks.png"), &vol.data, &marks)?;
    let marks = Mark::for_picks(truth, &model, vs);
    write_preview(&dir.join("preview_truth.png"), &vol.data, &marks)?;
    commit_dir(staging, &req.output)?;
    Ok(DemoOutcome {
        picks,
        report,
        truth: truth.len(),
        shape_xyz,
        voxel_size_a: vs.x,
        seconds: [sim_s, pick_s],
    })
}
