//! Labels the user gives `adapt` (`--labels`): picks from another program, by hand, or of a
//! previous run, read and checked against their tomogram and the model before any training.

use crate::error::{Result, TrainError};
use std::path::Path;
use tomopick_io::{ListContext, Particle, read_particles};
use tomopick_pick::TomoSource;

/// Reads `path` (any list format tomopick reads; pixel coordinates in the tomogram's voxels)
/// as the labels of `tomo` (opened as `source`); refuses an empty list, classes the model does
/// not have, and positions outside the tomogram (a wrong voxel size, binning or unit).
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
    if let Some(p) = particles.iter().find(|p| !classes.contains(&p.class)) {
        return Err(TrainError::Run(format!(
            "{}: class '{}' is not one of the model's classes [{}]; rename it or leave those \
             particles out",
            path.display(),
            p.class,
            classes.join(", ")
        )));
    }
    // Voxel centres run from 0 to n - 1; half a voxel beyond is still inside.
    let extent = [
        (shape[0] as f64 - 0.5) * vs.x,
        (shape[1] as f64 - 0.5) * vs.y,
        (shape[2] as f64 - 0.5) * vs.z,
    ];
    let low = [-0.5 * vs.x, -0.5 * vs.y, -0.5 * vs.z];
    let outside = particles
        .iter()
        .filter(|p| {
            let q = [p.pos_a.x, p.pos_a.y, p.pos_a.z];
            (0..3).any(|k| !(low[k]..=extent[k]).contains(&q[k]))
        })
        .count();
    if outside > 0 {
        return Err(TrainError::Run(format!(
            "{}: {outside} of {} positions lie outside {} ({:.0} × {:.0} × {:.0} Å at {:.3} Å \
             per voxel): check the voxel size (--voxel-size), the binning and the units",
            path.display(),
            particles.len(),
            tomo.display(),
            shape[0] as f64 * vs.x,
            shape[1] as f64 * vs.y,
            shape[2] as f64 * vs.z,
            vs.x
        )));
    }
    Ok(particles)
}
