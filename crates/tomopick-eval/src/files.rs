//! `evaluate` on files: a pick list and a truth list (any format tomopick reads), the occupancy
//! mask if there is one, and the report written as JSON and Markdown.

use crate::error::{EvalError, Result};
use crate::radii::ClassTable;
use crate::{CziiOptions, EvalReport, Occupancy, evaluate};
use std::path::{Path, PathBuf};
use tomopick_io::atomic::write_atomic;
use tomopick_io::{ListContext, MrcReadOptions, read_mrc, read_particles};

/// What to score.
pub struct EvalFiles {
    /// The picks.
    pub picks: PathBuf,
    /// The truth.
    pub truth: PathBuf,
    /// An occupancy mask (SHREC's `occupancy_mask.mrc`): its labels are 1-based indices into
    /// the truth list; it also gives the voxel size and shape when the context lacks them.
    pub occupancy: Option<PathBuf>,
    /// Units of pixel-based lists; with a tomogram shape and voxel size and no mask, the SHREC
    /// metric uses balls of the class radius.
    pub context: ListContext,
    /// Radii (and weights) per class.
    pub classes: ClassTable,
    /// The CZII metric's distance threshold and beta.
    pub options: CziiOptions,
}

/// Reads both lists and scores them; the SHREC metric is skipped (`report.shrec` is `None`)
/// when neither a mask nor the tomogram's shape and voxel size are known.
pub fn evaluate_files(f: &EvalFiles) -> Result<EvalReport> {
    let o = &f.options;
    if !(o.beta.is_finite() && o.beta > 0.0 && o.threshold.is_finite() && o.threshold > 0.0) {
        return Err(EvalError::Input(
            "--beta and --threshold must be positive".into(),
        ));
    }
    let mut ctx = f.context.clone();
    let mask = match &f.occupancy {
        Some(p) => {
            let options = MrcReadOptions {
                voxel_size: ctx.voxel_size,
            };
            let v = read_mrc(p, options)?;
            ctx.voxel_size.get_or_insert(v.voxel_size);
            ctx.tomo_shape_xyz.get_or_insert(v.shape_xyz());
            Some(v)
        }
        None => None,
    };
    let picks = read_particles(&f.picks, None, &ctx)?;
    let truth = read_particles(&f.truth, None, &ctx)?;
    if truth.is_empty() {
        return Err(EvalError::Input(format!(
            "{}: the truth list is empty",
            f.truth.display()
        )));
    }
    let occupancy = match (&mask, ctx.tomo_shape_xyz, ctx.voxel_size) {
        (Some(v), _, _) => Occupancy::Mask(v),
        (None, Some(shape_xyz), Some(voxel_size)) => Occupancy::Spheres {
            shape_xyz,
            voxel_size,
        },
        _ => Occupancy::None,
    };
    let names = (f.picks.display().to_string(), f.truth.display().to_string());
    evaluate(
        &picks,
        &truth,
        &f.classes,
        occupancy,
        *o,
        (&names.0, &names.1),
    )
}

impl EvalReport {
    /// Writes `report.json` and `report.md` into `dir` (made if missing), each whole.
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| tomopick_io::IoError::os(dir, e))?;
        let json = self.to_json();
        let md = self.to_markdown();
        for (name, text) in [("report.json", &json), ("report.md", &md)] {
            write_atomic(&dir.join(name), |w| {
                std::io::Write::write_all(w, text.as_bytes())
            })?;
        }
        Ok(())
    }
}
