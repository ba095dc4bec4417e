//! Labels the user gives `adapt` (`--labels`): picks from another program, by hand, or of a
//! previous run, read and checked against their tomogram and the model before any training.

use crate::error::{Result, TrainError};
use std::path::Path;
use tomopick_io::{ListContext, Particle, read_particles};
use tomopick_nn::user_data::class_index;
use tomopick_pick::TomoSource;
use tomopick_pick::refine::check_picks_inside;

/// Reads `path` (any list format tomopick reads; pixel coordinates in the tomogram's voxels)
/// as the labels of `tomo` (opened as `source`); refuses an empty list, classes the model does
/// not have (as training would), and positions outside the tomogram (a wrong voxel size,
/// binning or unit; as `classify` and `match-templates` do).
pub fn read_labels(
    path: &Path,
    tomo: &Path,
    source: &TomoSource,
    classes: &[String],
) -> Result<Vec<Particle>> {
    let vs = source.voxel_size();
    let shape = source.shape_xyz();
    let ctx = ListContext {
        voxel_size: Some(vs),
        tomo_shape_xyz: Some(shape),
        ..ListContext::default()
    };
    let particles = read_particles(path, None, &ctx)?;
    if particles.is_empty() {
        return Err(TrainError::Run(format!(
            "{}: no particles to adapt to",
            path.display()
        )));
    }
    for p in &particles {
        class_index(classes, &p.class, path)?;
    }
    check_picks_inside(&particles, shape, vs, path, tomo)?;
    Ok(particles)
}
