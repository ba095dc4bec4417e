//! `simulate_tomogram` (a volume with exact ground truth, in memory) and `evaluate` (SHREC and
//! CZII metrics of picks against a truth).

use crate::errors::{ToPyErr, bad_argument, check_voxel_size};
use crate::frames::{from_columns, to_columns};
use numpy::{IntoPyArray, PyArray3};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::HashMap;
use std::path::PathBuf;
use tomopick_eval::{ClassTable, CziiOptions, Occupancy};
use tomopick_io::VoxelSize;
use tomopick_sim::randomization::Dist;
use tomopick_sim::tomogram::{TomogramConfig, simulate_tomogram as simulate};

/// A simulation for Python: the volume, the truth's columns, the attributes.
type Simulated<'py> = (
    Bound<'py, PyArray3<f32>>,
    Bound<'py, PyDict>,
    Bound<'py, PyDict>,
);

/// Simulates a tomogram like SHREC's (or from a `config` TOML): returns the reconstruction
/// `[z, y, x]` float32, the true particles as columns (Å), and attributes (voxel size, shape,
/// class radii in Å). The same seed gives the same bits.
#[pyfunction]
#[pyo3(signature = (seed=0, shape=None, particles=None, classes=None, voxel_size=None, route=None, config=None))]
#[allow(clippy::too_many_arguments)]
pub fn simulate_tomogram<'py>(
    py: Python<'py>,
    seed: u64,
    shape: Option<[usize; 3]>,
    particles: Option<usize>,
    classes: Option<Vec<String>>,
    voxel_size: Option<f64>,
    route: Option<&str>,
    config: Option<PathBuf>,
) -> PyResult<Simulated<'py>> {
    check_voxel_size(voxel_size)?;
    let mut c = match &config {
        Some(p) => TomogramConfig::from_toml(p).map_err(ToPyErr::to_py)?,
        None => TomogramConfig::shrec_like(),
    };
    if let Some(v) = voxel_size {
        c.voxel_size_a = v;
    }
    if let Some(s) = shape {
        c.set_shape(s);
    }
    if let Some(n) = particles {
        c.particles = Dist::Fixed(n as f64);
    }
    if let Some(k) = classes {
        c.classes = k;
    }
    if let Some(r) = route {
        c.set_route(r).map_err(ToPyErr::to_py)?;
    }
    c.validate().map_err(ToPyErr::to_py)?;
    let t = py
        .detach(|| simulate(&c, seed, &|_| {}))
        .map_err(ToPyErr::to_py)?;
    let attrs = PyDict::new(py);
    attrs.set_item("voxel_size", t.config.voxel_size_a)?;
    attrs.set_item("shape", t.config.shape_xyz)?;
    let radii: HashMap<String, f64> = t.class_radii_a.iter().cloned().collect();
    attrs.set_item("radius", radii)?;
    attrs.set_item("classes", t.config.classes.clone())?;
    let truth = to_columns(py, &t.sample.particles)?;
    Ok((t.reconstruction.into_pyarray(py), truth, attrs))
}

/// Scores picks against a truth (columns, Å): CZII (radius-based) and, when the tomogram's
/// `shape` and `voxel_size` are known, SHREC (spheres of the class radius). Radii per class in
/// `radius` (a dict) or one for all (a number). Returns the report as JSON text.
#[pyfunction]
#[pyo3(signature = (picks, truth, radius, voxel_size=None, shape=None, threshold=0.5, beta=4.0, weights=None))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    py: Python<'_>,
    picks: &Bound<'_, PyDict>,
    truth: &Bound<'_, PyDict>,
    radius: &Bound<'_, PyAny>,
    voxel_size: Option<f64>,
    shape: Option<[usize; 3]>,
    threshold: f64,
    beta: f64,
    weights: Option<HashMap<String, f64>>,
) -> PyResult<String> {
    check_voxel_size(voxel_size)?;
    if !(beta.is_finite() && beta > 0.0 && threshold.is_finite() && threshold > 0.0) {
        return Err(bad_argument("beta and threshold must be positive"));
    }
    let mut classes = ClassTable::default();
    if let Ok(r) = radius.extract::<f64>() {
        classes.default_radius_a = Some(r);
    } else {
        let radii: HashMap<String, f64> = radius
            .extract()
            .map_err(|_| bad_argument("radius: a number of Å, or a dict of Å per class"))?;
        classes.radius_a = radii.into_iter().collect();
    }
    if let Some(w) = weights {
        classes.weight = w.into_iter().collect();
    }
    let (picks, truth) = (from_columns(picks)?, from_columns(truth)?);
    if truth.is_empty() {
        return Err(bad_argument("truth: the list is empty"));
    }
    let occupancy = match (shape, voxel_size) {
        (Some(shape_xyz), Some(v)) => Occupancy::Spheres {
            shape_xyz,
            voxel_size: VoxelSize::isotropic(v),
        },
        _ => Occupancy::None,
    };
    let opts = CziiOptions { threshold, beta };
    let report = py
        .detach(|| {
            tomopick_eval::evaluate(
                &picks,
                &truth,
                &classes,
                occupancy,
                opts,
                ("picks", "truth"),
            )
        })
        .map_err(ToPyErr::to_py)?;
    Ok(report.to_json())
}
