//! `tomopick demo`: simulate a small tomogram, pick it with the default model, score the picks
//! against the simulation's truth, and write a report folder.

use crate::args::DemoArgs;
use crate::cmd_pick::print_counts;
use crate::progress::{advance, progress};
use anyhow::Result;
use std::time::Instant;
use tomopick_pick::{DemoRequest, run_demo};

pub fn demo(a: DemoArgs) -> Result<()> {
    let start = Instant::now();
    let req = DemoRequest {
        output: a.output,
        size: a.size,
        particles: a.particles,
        seed: a.seed,
        model: a.model,
    };
    let pb = progress(0, "simulating");
    let stage = |s| pb.set_message(format!("simulating: {s:?}"));
    let out = run_demo(&req, &stage, |done, total| {
        pb.set_message("picking");
        advance(&pb)(done, total)
    })?;
    pb.finish_and_clear();
    let [x, y, z] = out.shape_xyz;
    tracing::info!(
        "simulated {x}×{y}×{z} voxels at {} Å with {} particles (seed {}) in {:.1} s; picked in {:.1} s",
        out.voxel_size_a,
        out.truth,
        req.seed,
        out.seconds[0],
        out.seconds[1]
    );
    print_counts(&out.picks);
    if let Some(s) = &out.report.shrec {
        println!(
            "class-agnostic F1 {:.3} (precision {:.3}, recall {:.3}) against {} simulated particles",
            s.overall.f_beta, s.overall.precision, s.overall.recall, out.truth
        );
    }
    println!(
        "report in {}/ (report.md, picks.csv, picks.star, preview_*.png, tomogram.mrc); {:.1} s in all",
        req.output.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
