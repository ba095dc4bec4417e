//! Slurm job arrays over a dataset: the `sbatch` script, and which tomograms a task picks.
//!
//! Each array task runs the same `tomopick pick` command with `--part I/N` and picks one
//! contiguous chunk of the dataset; outputs already there are skipped, so resubmitting the
//! script after a task died picks only what is missing, and rerunning the command without
//! `--part` (the merge step) writes the whole dataset's `summary.csv`.

use crate::error::{PickError, Result};

/// One Slurm job array.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmJob {
    /// The job name.
    pub name: String,
    /// Array tasks.
    pub tasks: usize,
    /// At most this many running at once.
    pub throttle: usize,
    /// CPUs per task.
    pub cpus: usize,
    /// Memory per task, sbatch syntax (`8G`).
    pub mem: String,
    /// Time limit per task, sbatch syntax (`04:00:00`).
    pub time: String,
    /// Partition, if not the cluster's default.
    pub partition: Option<String>,
    /// The folder the tasks run in (relative paths of the command are relative to it).
    pub workdir: String,
    /// Folder for the tasks' logs (`%A_%a.log`).
    pub log_dir: String,
    /// The command each task runs, as words; `--part $SLURM_ARRAY_TASK_ID/N` is appended.
    pub command: Vec<String>,
}

/// Quotes a word for bash (single quotes, unless it is plainly safe).
pub fn shell_word(w: &str) -> String {
    let safe = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c));
    if safe {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// The `sbatch` script of `job`.
pub fn sbatch_script(job: &SlurmJob) -> Result<String> {
    if job.tasks == 0 || job.throttle == 0 || job.cpus == 0 {
        return Err(PickError::Option(format!(
            "--slurm-tasks {}, --slurm-throttle {}, --slurm-cpus {}: each must be at least 1",
            job.tasks, job.throttle, job.cpus
        )));
    }
    let mut s = String::from("#!/bin/bash\n");
    let mut sb = |k: &str, v: &str| s.push_str(&format!("#SBATCH --{k}={v}\n"));
    sb("job-name", &job.name);
    sb("array", &format!("0-{}%{}", job.tasks - 1, job.throttle));
    sb("cpus-per-task", &job.cpus.to_string());
    sb("mem", &job.mem);
    sb("time", &job.time);
    sb("chdir", &shell_word(&job.workdir));
    sb("output", &shell_word(&format!("{}/%A_%a.log", job.log_dir)));
    if let Some(p) = &job.partition {
        sb("partition", p);
    }
    s.push_str(&format!(
        "# Written by tomopick. Submit: sbatch <this file>. A task that died: submit again (outputs\n\
         # already there are skipped). When all are done, run the command below without --part\n\
         # once: it picks anything still missing and writes summary.csv for the whole dataset.\n\
         set -euo pipefail\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{}}}\"\n",
        job.cpus
    ));
    let words: Vec<String> = job.command.iter().map(|w| shell_word(w)).collect();
    s.push_str(&format!(
        "{} --part \"${{SLURM_ARRAY_TASK_ID}}/{}\"\n",
        words.join(" "),
        job.tasks
    ));
    Ok(s)
}

/// Parses `--part I/N` (0 ≤ I < N).
pub fn parse_part(text: &str) -> Result<(usize, usize)> {
    let bad = || {
        PickError::Option(format!(
            "--part {text}: expected I/N with 0 <= I < N (e.g. 0/10)"
        ))
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The index range of part `i` of `n` over `len` items: contiguous, sizes differing by at most 1.
pub fn part_range(len: usize, i: usize, n: usize) -> std::ops::Range<usize> {
    (i * len / n)..((i + 1) * len / n)
}

/// Writes the job's sbatch script to `path` (whole, executable) and makes its log folder.
pub fn write_sbatch(job: &SlurmJob, path: &std::path::Path) -> Result<()> {
    let text = sbatch_script(job)?;
    let log_dir = std::path::Path::new(&job.log_dir);
    std::fs::create_dir_all(log_dir).map_err(|e| tomopick_io::IoError::os(log_dir, e))?;
    tomopick_io::atomic::write_atomic(path, |w| std::io::Write::write_all(w, text.as_bytes()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| tomopick_io::IoError::os(path, e))?;
    }
    Ok(())
}
