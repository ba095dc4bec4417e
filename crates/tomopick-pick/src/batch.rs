//! Picking a dataset: one output per tomogram in a folder, resumable (a tomogram whose output
//! exists is skipped; outputs appear only complete), one failure does not stop the rest, and a
//! summary table at the end.

use crate::dataset::DatasetItem;
use crate::error::{PickError, Result};
use crate::pipeline::{PickRequest, pick_tomogram};
use crate::stated::{UseStated, options_for};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tomopick_io::atomic::write_atomic;
use tomopick_io::lists::copick::write_picks_file;
use tomopick_io::lists::copick_project::CopickProject;
use tomopick_io::lists::relion::write_relion5;
use tomopick_io::lists::tomograms_star::{RelionTomogram, write_optimisation_set};
use tomopick_io::{ListContext, ListFormat, Particle, VoxelSize, read_particles, write_particles};

/// Where and how a dataset's picks are written.
pub struct BatchOptions {
    /// The output folder (made if missing).
    pub out_dir: PathBuf,
    /// The list format of each tomogram's output.
    pub format: ListFormat,
    /// Pick tomograms whose output exists again (default: skip them).
    pub overwrite: bool,
    /// The summary's file name in the folder (`summary.csv`; one per part for Slurm tasks).
    pub summary_name: String,
    /// The dataset came from this RELION 5 `tomograms.star`: centred coordinates are relative
    /// to each tomogram's centre as it says, and [`write_relion5_project`] can merge the picks.
    pub relion_tomograms: Option<(PathBuf, Vec<RelionTomogram>)>,
    /// The dataset is a copick project: each run's picks are also written into it, one picks
    /// file per class (the project's object for it) under this user and session.
    pub copick: Option<CopickOutput>,
    /// Which of what the dataset states about each tomogram's tilt series (defocus, tilt
    /// range) `--match-templates` takes.
    pub stated: UseStated,
}

/// Where picks go in a copick project.
#[derive(Debug, Clone)]
pub struct CopickOutput {
    /// The project.
    pub project: CopickProject,
    /// `user_id` of the picks files.
    pub user: String,
    /// `session_id` of the picks files.
    pub session: String,
}

impl CopickOutput {
    /// Writes the picks of run `run` into the project: one file per class of `classes` that is
    /// one of the project's objects (by name or PDB id; empty when none was picked, so an
    /// earlier run's picks are replaced). When the project defines none of them, every class
    /// is written under its own name, so that nothing is lost.
    fn write(&self, run: &str, classes: &[String], picks: &[Particle]) -> Result<()> {
        let known: Vec<(&String, String)> = classes
            .iter()
            .filter_map(|c| Some((c, self.project.object_named_for(c)?)))
            .collect();
        let chosen: Vec<(&String, String)> = if known.is_empty() {
            classes.iter().map(|c| (c, c.clone())).collect()
        } else {
            known
        };
        for (class, object) in chosen {
            let path = self
                .project
                .picks_path(run, &self.user, &self.session, &object);
            let dir = path.parent().expect("a picks file has a folder");
            std::fs::create_dir_all(dir).map_err(|e| tomopick_io::IoError::os(dir, e))?;
            let sel: Vec<Particle> = picks
                .iter()
                .filter(|p| &p.class == class)
                .cloned()
                .collect();
            write_picks_file(&path, &object, &self.user, &self.session, Some(run), &sel)?;
        }
        Ok(())
    }
}

impl BatchOptions {
    /// The list context of a tomogram's output (`voxel_size`, `shape_xyz`: the tomogram's).
    fn context(&self, classes: &[String], tomo: Option<(VoxelSize, [usize; 3])>) -> ListContext {
        ListContext {
            voxel_size: tomo.map(|t| t.0),
            tomo_shape_xyz: tomo.map(|t| t.1),
            classes: Some(classes.to_vec()),
            relion_tomograms: self.relion_tomograms.as_ref().map(|r| r.1.clone()),
            ..ListContext::default()
        }
    }
}

/// What happened to one tomogram.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Picked now.
    Picked,
    /// Its output existed (an earlier run): not picked again.
    Skipped,
    /// Failed; the message names the file and the problem.
    Failed(String),
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// The tomogram.
    pub item: DatasetItem,
    /// Its output file.
    pub output: PathBuf,
    /// What happened.
    pub outcome: Outcome,
    /// Particles per class (read back from the output for a skipped tomogram, when its format
    /// can be read without the tomogram).
    pub counts: Option<BTreeMap<String, usize>>,
    /// Seconds spent on it (0 when skipped).
    pub seconds: f64,
    /// What was done that the log should say: resampled to the model's voxel size, templates
    /// given the tomogram's stated CTF or tilt range.
    pub note: Option<String>,
}

/// The output file of `item`.
pub fn output_path(opts: &BatchOptions, item: &DatasetItem) -> PathBuf {
    opts.out_dir
        .join(format!("{}.{}", item.name, opts.format.extension()))
}

fn counts(picks: &[Particle]) -> BTreeMap<String, usize> {
    let mut c = BTreeMap::new();
    for p in picks {
        *c.entry(p.class.clone()).or_default() += 1;
    }
    c
}

/// Picks every tomogram of `items` into `opts.out_dir`. `on_tile(done, total)` after each tile
/// of the current tomogram, `on_row` after each tomogram. Returns the summary rows, failed ones
/// included; errors only when the output folder cannot be made. Also writes `classes.csv` (the
/// model's class numbers, as STAR outputs use them) and the summary into the folder.
pub fn pick_dataset(
    items: &[DatasetItem],
    req: &PickRequest<'_>,
    opts: &BatchOptions,
    on_tile: impl Fn(usize, usize) + Sync,
    mut on_row: impl FnMut(&BatchRow),
) -> Result<Vec<BatchRow>> {
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|e| tomopick_io::IoError::os(&opts.out_dir, e))?;
    let classes = &req.detector.config.classes;
    write_class_table(&opts.out_dir.join("classes.csv"), classes)?;
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let output = output_path(opts, item);
        let row = if output.exists() && !opts.overwrite {
            let back =
                read_particles(&output, Some(opts.format), &opts.context(classes, None)).ok();
            BatchRow {
                item: item.clone(),
                output,
                outcome: Outcome::Skipped,
                counts: back.map(|p| counts(&p)),
                seconds: 0.0,
                note: None,
            }
        } else {
            let t0 = Instant::now();
            let result = pick_one(item, req, opts, &output, classes, &on_tile);
            let seconds = t0.elapsed().as_secs_f64();
            match result {
                Ok((c, note)) => BatchRow {
                    item: item.clone(),
                    output,
                    outcome: Outcome::Picked,
                    counts: Some(c),
                    seconds,
                    note,
                },
                Err(e) => BatchRow {
                    item: item.clone(),
                    output,
                    outcome: Outcome::Failed(e.to_string()),
                    counts: None,
                    seconds,
                    note: None,
                },
            }
        };
        on_row(&row);
        rows.push(row);
    }
    write_summary(&opts.out_dir.join(&opts.summary_name), &rows, classes)?;
    Ok(rows)
}

type OneResult = (BTreeMap<String, usize>, Option<String>);

fn pick_one(
    item: &DatasetItem,
    req: &PickRequest<'_>,
    opts: &BatchOptions,
    output: &Path,
    classes: &[String],
    on_tile: &(impl Fn(usize, usize) + Sync),
) -> Result<OneResult> {
    let (templates, stated) = match &req.templates {
        Some(t) => {
            let (o, note) = options_for(t, &item.stated, &opts.stated)?;
            (Some(o), note)
        }
        None => (None, None),
    };
    // This tomogram's request: its own voxel size and template options, streamed.
    let req = PickRequest {
        voxel_size: item.voxel_size.or(req.voxel_size),
        options: req.options.clone(),
        keep_volume: false,
        templates,
        ..*req
    };
    let picked = pick_tomogram(&item.path, &req, on_tile)?;
    let hand = picked.hand_note();
    let mut picks = picked.picks;
    for p in &mut picks {
        p.tomogram = Some(item.name.clone());
    }
    // The project's picks first: the output, written last, says the tomogram is done.
    if let Some(c) = &opts.copick {
        c.write(&item.name, classes, &picks)?;
    }
    let ctx = opts.context(classes, Some((picked.voxel_size, picked.shape_xyz)));
    write_particles(output, opts.format, &picks, &ctx)?;
    let note = [picked.resampled, stated, hand]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
    Ok((counts(&picks), (!note.is_empty()).then_some(note)))
}

/// Writes `number,class` for each class (1-based, the model's order): the numbers STAR outputs
/// use in `rlnClassNumber`.
pub fn write_class_table(path: &Path, classes: &[String]) -> Result<()> {
    write_atomic(path, |w| {
        writeln!(w, "number,class")?;
        for (i, c) in classes.iter().enumerate() {
            writeln!(w, "{},{}", i + 1, c)?;
        }
        Ok(())
    })
    .map_err(PickError::from)
}

/// Quotes a CSV field when it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"").replace('\n', " "))
    } else {
        s.to_string()
    }
}

/// `summary.csv`: per tomogram its status, particle count, count per class, seconds, error.
fn write_summary(path: &Path, rows: &[BatchRow], classes: &[String]) -> Result<()> {
    write_atomic(path, |w| {
        let mut head = vec!["tomogram".to_string(), "status".into(), "particles".into()];
        head.extend(classes.iter().cloned());
        head.extend(["seconds".to_string(), "file".into(), "error".into()]);
        writeln!(
            w,
            "{}",
            head.iter().map(|h| field(h)).collect::<Vec<_>>().join(",")
        )?;
        for r in rows {
            let (status, error) = match &r.outcome {
                Outcome::Picked => ("picked", ""),
                Outcome::Skipped => ("skipped", ""),
                Outcome::Failed(m) => ("failed", m.as_str()),
            };
            let mut f = vec![field(&r.item.name), status.into()];
            match &r.counts {
                Some(c) => {
                    f.push(c.values().sum::<usize>().to_string());
                    f.extend(
                        classes
                            .iter()
                            .map(|k| c.get(k).copied().unwrap_or(0).to_string()),
                    );
                }
                None => f.extend(std::iter::repeat_n(String::new(), classes.len() + 1)),
            }
            f.push(format!("{:.1}", r.seconds));
            f.push(field(&r.item.path.to_string_lossy()));
            f.push(field(error));
            writeln!(w, "{}", f.join(","))?;
        }
        Ok(())
    })
    .map_err(PickError::from)
}

/// For a dataset from a RELION 5 `tomograms.star`, once every tomogram is done: `particles.star`
/// (all picks, `rlnTomoName`, centred Å, an optics table) and `optimisation_set.star` naming it
/// and the project's `tomograms.star`, for `relion_tomo` extraction. Returns the particle count;
/// `None` when the dataset did not come from a `tomograms.star` or some tomogram has no output.
pub fn write_relion5_project(
    rows: &[BatchRow],
    opts: &BatchOptions,
    classes: &[String],
) -> Result<Option<usize>> {
    let Some((star, _)) = &opts.relion_tomograms else {
        return Ok(None);
    };
    if rows.iter().any(|r| matches!(r.outcome, Outcome::Failed(_))) {
        return Ok(None);
    }
    let ctx = opts.context(classes, None);
    let mut all = Vec::new();
    for r in rows {
        let mut p = read_particles(&r.output, Some(opts.format), &ctx)?;
        for q in &mut p {
            q.tomogram = Some(r.item.name.clone());
        }
        all.extend(p);
    }
    let particles = opts.out_dir.join("particles.star");
    write_relion5(&particles, &all, &ctx)?;
    write_optimisation_set(
        &opts.out_dir.join("optimisation_set.star"),
        &particles,
        star,
    )?;
    Ok(Some(all.len()))
}

/// The project's tomograms when the dataset is one RELION 5 `tomograms.star` (its path and
/// rows), so that the outputs can be a RELION 5 project too.
pub fn relion_project(inputs: &[PathBuf]) -> Result<Option<(PathBuf, Vec<RelionTomogram>)>> {
    Ok(match inputs {
        [one]
            if one
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("star")) =>
        {
            let rows = tomopick_io::lists::tomograms_star::read_tomograms_star(one)?;
            Some((one.clone(), rows))
        }
        _ => None,
    })
}

/// Where picks go when the dataset is one copick project config: its overlay, as `user`'s
/// `session`.
pub fn copick_output(
    inputs: &[PathBuf],
    user: &str,
    session: &str,
) -> Result<Option<CopickOutput>> {
    Ok(match inputs {
        [one] if tomopick_io::lists::copick_project::is_copick_config(one) => Some(CopickOutput {
            project: CopickProject::open(one)?,
            user: user.to_string(),
            session: session.to_string(),
        }),
        _ => None,
    })
}
