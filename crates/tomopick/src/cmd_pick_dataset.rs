//! `tomopick pick` over a dataset: many tomograms, one output folder.

use crate::args::PickArgs;
use crate::args_match::template_look;
use crate::cmd_pick::{load_refiner, request};
use crate::progress::progress;
use anyhow::{Result, bail};
use indicatif::MultiProgress;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use tomopick_io::ListFormat;
use tomopick_pick::batch::{copick_output, relion_project, write_relion5_project};
use tomopick_pick::dataset::CopickSelect;
use tomopick_pick::slurm::{SlurmJob, parse_part, part_range, write_sbatch};
use tomopick_pick::{BatchOptions, BatchRow, Outcome, dataset_items, pick_dataset};

pub fn pick_dataset_cmd(a: PickArgs) -> Result<()> {
    if a.preview.is_some() {
        bail!("--preview: one tomogram at a time; pick that tomogram alone to get a preview");
    }
    if a.class_scores.is_some() {
        bail!("--class-scores: one tomogram at a time; pick that tomogram alone to get its scores");
    }
    if a.output.is_file() {
        bail!(
            "{}: a dataset needs an output folder (one list per tomogram), but this is a file",
            a.output.display()
        );
    }
    let format = match &a.format {
        Some(f) => crate::cmd_convert::parse_format(Some(f))?.expect("a named format"),
        None => ListFormat::Relion4,
    };
    let model = tomopick_pick::load_detector(a.model.as_deref())?;
    let select = CopickSelect {
        tomo_type: a.copick_tomo_type.clone(),
        voxel_spacing_a: a.copick_voxel_spacing.unwrap_or(model.config.voxel_size_a),
    };
    let mut items = dataset_items(&a.inputs, &select)?;
    if let Some(script) = &a.slurm {
        return write_slurm_script(&a, script, items.len());
    }
    let mut summary_name = "summary.csv".to_string();
    if let Some(p) = &a.part {
        let (i, n) = parse_part(p)?;
        items = items[part_range(items.len(), i, n)].to_vec();
        summary_name = format!("summary.part-{i}-of-{n}.csv");
    }
    let classifier = load_refiner(&a)?;
    let req = request(&a, &model, classifier.as_ref())?;
    let opts = BatchOptions {
        out_dir: a.output.clone(),
        format,
        overwrite: a.overwrite,
        summary_name,
        relion_tomograms: relion_project(&a.inputs)?,
        copick: copick_output(&a.inputs, &a.copick_user, &a.copick_session)?,
        stated: template_look(&a.ctf, &a.hand).use_stated(a.tilt_max.is_some()),
    };
    let bars = MultiProgress::new();
    let outer = bars.add(progress(items.len() as u64, "tomograms"));
    let inner = bars.add(progress(0, "tiles"));
    let rows = pick_dataset(
        &items,
        &req,
        &opts,
        |done, total| {
            inner.set_length(total as u64);
            inner.set_position(done as u64);
        },
        |row| {
            inner.set_position(0);
            outer.inc(1);
            if let Outcome::Failed(m) = &row.outcome {
                bars.suspend(|| tracing::error!("{m}"));
            } else if let Some(n) = &row.note {
                bars.suspend(|| tracing::info!("{}: {n}", row.item.path.display()));
            }
        },
    )?;
    inner.finish_and_clear();
    outer.finish_and_clear();
    print_summary(&rows);
    if a.part.is_none()
        && let Some(n) = write_relion5_project(&rows, &opts, &model.config.classes)?
    {
        tracing::info!(
            "wrote {n} particles to {} and {} (for relion_tomo)",
            a.output.join("particles.star").display(),
            a.output.join("optimisation_set.star").display()
        );
    }
    let failed = rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .count();
    if failed > 0 {
        bail!(
            "{failed} of {} tomograms failed (listed above and in {}); fix them and rerun the same \
             command: the others are skipped",
            rows.len(),
            a.output.join(&opts.summary_name).display()
        );
    }
    Ok(())
}

/// One line per tomogram: status, particles, seconds. (A closed pipe is not an error.)
fn print_summary(rows: &[BatchRow]) {
    let mut out = std::io::stdout().lock();
    let width = rows
        .iter()
        .map(|r| r.item.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "{:<width$}  {:>8}  {:>9}  {:>7}",
        "tomogram", "status", "particles", "seconds"
    );
    let (mut total, mut secs) = (0usize, 0.0);
    for r in rows {
        let status = match r.outcome {
            Outcome::Picked => "picked",
            Outcome::Skipped => "skipped",
            Outcome::Failed(_) => "FAILED",
        };
        let n = r.counts.as_ref().map(|c| c.values().sum::<usize>());
        total += n.unwrap_or(0);
        secs += r.seconds;
        let n = n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<width$}  {status:>8}  {n:>9}  {:>7.1}",
            r.item.name, r.seconds
        );
    }
    let _ = writeln!(
        out,
        "{:<width$}  {:>8}  {total:>9}  {secs:>7.1}",
        "total", ""
    );
}

/// Flags of the Slurm front end that a task's own command must not repeat (each takes a value).
const SLURM_FLAGS: [&str; 8] = [
    "--slurm",
    "--slurm-tasks",
    "--slurm-throttle",
    "--slurm-cpus",
    "--slurm-mem",
    "--slurm-time",
    "--slurm-partition",
    "--part",
];

/// This process's command line without the Slurm flags, the program as an absolute path.
fn task_command() -> Result<Vec<String>> {
    let exe = std::env::current_exe()?;
    let mut words = vec![exe.to_string_lossy().to_string()];
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut skip_next = false;
    for a in args {
        let w = a.to_string_lossy().to_string();
        if skip_next {
            skip_next = false;
            continue;
        }
        let name = w.split('=').next().unwrap_or("");
        if SLURM_FLAGS.contains(&name) {
            skip_next = !w.contains('=');
            continue;
        }
        words.push(w);
    }
    Ok(words)
}

/// `--slurm SCRIPT`: writes the job-array script and says how to submit and merge.
fn write_slurm_script(a: &PickArgs, script: &Path, tomograms: usize) -> Result<()> {
    let tasks = a.slurm_tasks.min(tomograms).max(1);
    let cwd = std::env::current_dir()?;
    let log_dir = cwd.join(&a.output).join("slurm-logs");
    let command = task_command()?;
    let job = SlurmJob {
        name: "tomopick-pick".into(),
        tasks,
        throttle: a.slurm_throttle,
        cpus: a.slurm_cpus,
        mem: a.slurm_mem.clone(),
        time: a.slurm_time.clone(),
        partition: a.slurm_partition.clone(),
        workdir: cwd.to_string_lossy().to_string(),
        log_dir: log_dir.to_string_lossy().to_string(),
        command: command.clone(),
    };
    write_sbatch(&job, script)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "wrote {}: {tomograms} tomograms in {tasks} array tasks, at most {} at once
         submit:  sbatch {}
         after:   {}   # picks anything missing, writes summary.csv",
        script.display(),
        a.slurm_throttle,
        script.display(),
        command.join(" ")
    );
    Ok(())
}
