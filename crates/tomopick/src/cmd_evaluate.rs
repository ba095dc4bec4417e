//! `tomopick evaluate`.

use crate::args::EvaluateArgs;
use crate::cmd_convert::list_context;
use anyhow::{Result, bail};
use tomopick_eval::{ClassTable, CziiOptions, EvalFiles, evaluate_files};
use tomopick_io::atomic::check_writable;

pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    let mut classes = match &a.classes {
        Some(p) => ClassTable::from_toml_file(p)?,
        None => ClassTable::default(),
    };
    classes.default_radius_a = a.radius;
    if a.classes.is_none() && a.radius.is_none() {
        bail!("no particle radii: pass --classes classes.toml (with [radius_a]) or --radius Å");
    }
    // Fail before the work if the report cannot be written; create the folder only at the end.
    if let Some(dir) = &a.output {
        match dir.is_dir() {
            true => check_writable(&dir.join("report.json"))?,
            false => check_writable(dir)?,
        }
    }
    let files = EvalFiles {
        picks: a.picks.clone(),
        truth: a.truth.clone(),
        occupancy: a.occupancy.clone(),
        context: list_context(&a.units, a.units.binning)?,
        classes,
        options: CziiOptions {
            threshold: a.threshold,
            beta: a.beta,
        },
    };
    let report = evaluate_files(&files)?;
    if report.shrec.is_none() {
        tracing::warn!("no --occupancy, --tomogram or --tomo-size: skipped the SHREC metric");
    }
    if report.picks_outside_volume > 0 {
        tracing::warn!(
            "{} picks lie outside the tomogram; they count as false positives",
            report.picks_outside_volume
        );
    }
    println!("{}", report.to_markdown());
    if let Some(dir) = &a.output {
        report.write_to(dir)?;
        tracing::info!("wrote {} and report.md", dir.join("report.json").display());
    }
    Ok(())
}
