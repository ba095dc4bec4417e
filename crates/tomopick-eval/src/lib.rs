//! Picking metrics for tomopick: the SHREC occupancy-mask metric and the CZII distance
//! metric, class-agnostic and per class, with confusion matrices and reports.

pub mod classification;
pub mod confusion;
pub mod counts;
pub mod czii;
pub mod error;
pub mod files;
pub mod plot;
pub mod radii;
pub mod report;
pub mod shrec;

pub use classification::{ClassificationEval, ClassificationReport};
pub use counts::{Scores, f_beta};
pub use czii::{CziiOptions, evaluate_czii};
pub use error::{EvalError, Result};
pub use files::{EvalFiles, evaluate_files};
pub use radii::ClassTable;
pub use report::{EvalReport, MetricReport};
pub use shrec::{dilate_labels, evaluate_shrec, occupancy_labels, shrec_hits, spheres_as_labels};

use tomopick_io::{Particle, Volume, VoxelSize};

/// Where the SHREC metric's instance labels come from.
pub enum Occupancy<'a> {
    /// An occupancy mask whose labels are 1-based indices into the truth list.
    Mask(&'a Volume),
    /// No mask: balls of the class radius in a volume of this shape and voxel size.
    Spheres {
        shape_xyz: [usize; 3],
        voxel_size: VoxelSize,
    },
    /// No volume is known: skip the SHREC metric.
    None,
}

/// Runs both metrics.
pub fn evaluate(
    picks: &[Particle],
    truth: &[Particle],
    classes: &ClassTable,
    occupancy: Occupancy<'_>,
    opts: CziiOptions,
    names: (&str, &str),
) -> Result<EvalReport> {
    let czii = evaluate_czii(picks, truth, classes, opts)?;
    let (shrec, outside, source) = match occupancy {
        Occupancy::Mask(vol) => {
            let labels = dilate_labels(&occupancy_labels(vol, truth.len())?);
            let (r, out) = evaluate_shrec(picks, truth, &labels, vol.voxel_size, opts.beta);
            (
                Some(r),
                out,
                Some("occupancy mask, dilated by one voxel (6-connected)".to_string()),
            )
        }
        Occupancy::Spheres {
            shape_xyz,
            voxel_size,
        } => {
            let radii: Vec<f64> = truth
                .iter()
                .map(|t| classes.radius(&t.class))
                .collect::<Result<_>>()?;
            let labels = dilate_labels(&spheres_as_labels(truth, &radii, shape_xyz, voxel_size));
            let (r, out) = evaluate_shrec(picks, truth, &labels, voxel_size, opts.beta);
            (
                Some(r),
                out,
                Some(
                    "balls of the class radius around each true particle, dilated by one voxel"
                        .to_string(),
                ),
            )
        }
        Occupancy::None => (None, 0, None),
    };
    Ok(EvalReport {
        picks: names.0.to_string(),
        truth: names.1.to_string(),
        beta: opts.beta,
        threshold: opts.threshold,
        picks_outside_volume: outside,
        occupancy_source: source,
        shrec,
        czii,
    })
}
