//! `tomopick demo`: simulate a small tomogram, pick it with the default model, score the picks
//! against the simulation's truth, and write a report folder.

use crate::args::DemoArgs;
use crate::cmd_pick::{load_model, marks, print_counts};
use crate::cmd_simulate::{advance, commit_dir, progress, staging_dir};
use crate::detect::{model_pick_options, pick_in_memory, score, test_tomogram_config};
use anyhow::Result;
use std::io::Write;
use std::time::Instant;
use tomopick_io::atomic::write_atomic;
use tomopick_io::{
    ListContext, ListFormat, MrcWriteMode, Volume, VoxelSize, write_mrc, write_particles,
};
use tomopick_pick::preview::write_preview;
use tomopick_sim::tomogram::simulate_tomogram;

pub fn demo(a: DemoArgs) -> Result<()> {
    let start = Instant::now();
    let staging = staging_dir(&a.output)?;
    let dir = staging.path();
    let model = load_model(a.model.as_deref())?;
    let vs = VoxelSize::isotropic(model.config.voxel_size_a);
    let config = test_tomogram_config(
        [a.size, a.size, a.size / 2],
        a.particles,
        &model.config.classes,
        model.config.voxel_size_a,
    );
    let pb = progress(1, "simulating");
    let t = simulate_tomogram(&config, a.seed, &|stage| {
        pb.set_message(format!("simulating: {stage:?}"))
    })?;
    pb.finish_and_clear();
    let sim_s = start.elapsed().as_secs_f64();
    tracing::info!(
        "simulated {}×{}×{} voxels at {} Å with {} particles (seed {}) in {sim_s:.1} s",
        config.shape_xyz[0],
        config.shape_xyz[1],
        config.shape_xyz[2],
        vs.x,
        t.sample.particles.len(),
        a.seed
    );
    let vol = Volume::new(t.reconstruction.clone(), vs);
    let opts = model_pick_options(&model, None);
    let pb = progress(0, "picking");
    let t1 = Instant::now();
    let picks = pick_in_memory(&model, &vol, &opts, advance(&pb));
    pb.finish_and_clear();
    let pick_s = t1.elapsed().as_secs_f64();
    let report = score(&picks, &t)?;
    let ctx = ListContext {
        voxel_size: Some(vs),
        ..Default::default()
    };
    write_mrc(&dir.join("tomogram.mrc"), &vol, MrcWriteMode::Float32)?;
    write_particles(&dir.join("picks.csv"), ListFormat::Csv, &picks, &ctx)?;
    write_particles(&dir.join("picks.star"), ListFormat::Relion4, &picks, &ctx)?;
    write_particles(
        &dir.join("truth.csv"),
        ListFormat::Csv,
        &t.sample.particles,
        &ctx,
    )?;
    let md = format!(
        "{}\n\nSimulated with seed {} ({:.1} s); picked in {pick_s:.1} s with the model trained at {} Å.\n",
        report.to_markdown(),
        a.seed,
        sim_s,
        model.config.voxel_size_a
    );
    write_atomic(&dir.join("report.md"), |w| w.write_all(md.as_bytes()))?;
    write_atomic(&dir.join("report.json"), |w| {
        w.write_all(report.to_json().as_bytes())
    })?;
    write_preview(
        &dir.join("preview_picks.png"),
        &vol.data,
        &marks(&picks, &model, vs),
    )?;
    write_preview(
        &dir.join("preview_truth.png"),
        &vol.data,
        &marks(&t.sample.particles, &model, vs),
    )?;
    commit_dir(staging, &a.output)?;
    print_counts(&picks);
    if let Some(s) = &report.shrec {
        println!(
            "class-agnostic F1 {:.3} (precision {:.3}, recall {:.3}) against {} simulated particles",
            s.overall.f_beta,
            s.overall.precision,
            s.overall.recall,
            t.sample.particles.len()
        );
    }
    println!(
        "report in {}/ (report.md, picks.csv, picks.star, preview_*.png, tomogram.mrc); {:.1} s in all",
        a.output.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
