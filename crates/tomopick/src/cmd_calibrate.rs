//! `tomopick calibrate`: per-class pick thresholds fitted on annotated tomograms.

use crate::args::CalibrateArgs;
use anyhow::{Result, bail};
use tomopick_io::atomic::check_writable;
use tomopick_pick::calibrate::{ScoredPicks, calibrate_on, score_folder};
use tomopick_pick::{load_detector, load_raw_detector};

/// Picks each annotated folder once, fits one threshold per class (or one for all with
/// `--single`) to the mean class-agnostic SHREC F1, and writes the model with them.
pub fn calibrate_cmd(a: CalibrateArgs) -> Result<()> {
    if a.folders.is_empty() {
        bail!("no annotated folders given");
    }
    check_writable(&a.output)?;
    let model = load_detector(a.model.as_deref())?;
    let n = model.config.classes.len();
    let before = model
        .config
        .class_thresholds()
        .unwrap_or_else(|| vec![model.config.pick_threshold; n]);
    let mut scored: Vec<ScoredPicks> = Vec::with_capacity(a.folders.len());
    for (i, dir) in a.folders.iter().enumerate() {
        // A folder named again counts again (a weight) but is picked once.
        if let Some(j) = a.folders[..i].iter().position(|d| d == dir) {
            let again = scored[j].clone();
            scored.push(again);
            continue;
        }
        let s = score_folder(&model, dir, &a.tomogram_name)?;
        println!(
            "{}: {} particles, F1 {:.3} with the model's thresholds",
            dir.display(),
            s.n_truth(),
            s.f1(&before).0
        );
        scored.push(s);
    }
    let cal = calibrate_on(scored, n);
    let mut out = load_raw_detector(a.model.as_deref())?;
    out.config.pick_threshold = cal.single.threshold;
    out.config.class_thresholds = if a.single {
        Vec::new()
    } else {
        cal.thresholds.clone()
    };
    out.save(&a.output)?;
    let f1 = if a.single { cal.single.f1 } else { cal.f1 };
    println!(
        "mean F1 over {} tomograms: {f1:.3} (single threshold {:.2}: {:.3})",
        a.folders.len(),
        cal.single.threshold,
        cal.single.f1
    );
    if !a.single {
        for (c, t) in model.config.classes.iter().zip(&cal.thresholds) {
            println!("  {c:6} {t:.2}");
        }
    }
    tracing::info!("wrote {}", a.output.display());
    Ok(())
}
