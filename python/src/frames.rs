//! Particle lists as columns for pandas (`class`, `x`, `y`, `z` in Å, `score`, `rot`, `tilt`,
//! `psi` in degrees, `tomogram`; NaN / None where unknown), and `read_particles` /
//! `write_particles` over every list format tomopick reads and writes.

use crate::errors::{ToPyErr, bad_argument, check_voxel_size};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use tomopick_io::particle::Rotation;
use tomopick_io::{ListContext, ListFormat, Particle, PosAngstrom, VoxelSize};

/// Particles as a dict of columns.
pub fn to_columns<'py>(py: Python<'py>, particles: &[Particle]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let col = |f: &dyn Fn(&Particle) -> f64| -> Vec<f64> { particles.iter().map(f).collect() };
    let classes: Vec<&str> = particles.iter().map(|p| p.class.as_str()).collect();
    d.set_item("class", classes)?;
    for (k, axis) in ["x", "y", "z"].iter().enumerate() {
        let v = col(&|p| p.pos_a.as_array()[k]);
        d.set_item(*axis, PyArray1::from_vec(py, v))?;
    }
    let score = col(&|p| p.score.unwrap_or(f64::NAN));
    d.set_item("score", PyArray1::from_vec(py, score))?;
    if particles.iter().any(|p| p.rotation.is_some()) {
        for (k, name) in ["rot", "tilt", "psi"].iter().enumerate() {
            let v = col(&|p| p.rotation.map_or(f64::NAN, |r| r.to_relion_zyz_deg()[k]));
            d.set_item(*name, PyArray1::from_vec(py, v))?;
        }
    }
    if particles.iter().any(|p| p.tomogram.is_some()) {
        let t: Vec<Option<&str>> = particles.iter().map(|p| p.tomogram.as_deref()).collect();
        d.set_item("tomogram", t)?;
    }
    Ok(d)
}

/// A float column of `cols`, if present.
fn floats(cols: &Bound<'_, PyDict>, name: &str) -> PyResult<Option<Vec<f64>>> {
    match cols.get_item(name)? {
        Some(v) if !v.is_none() => {
            let a: PyReadonlyArray1<f64> = v.extract()?;
            Ok(Some(a.as_array().to_vec()))
        }
        _ => Ok(None),
    }
}

/// Particles from a dict of columns (`class`, `x`, `y`, `z` required).
pub fn from_columns(cols: &Bound<'_, PyDict>) -> PyResult<Vec<Particle>> {
    let need = |name: &str| {
        floats(cols, name)?.ok_or_else(|| bad_argument(format!("particles: no column '{name}'")))
    };
    let (x, y, z) = (need("x")?, need("y")?, need("z")?);
    let class: Vec<String> = match cols.get_item("class")? {
        Some(v) => v.extract()?,
        None => return Err(bad_argument("particles: no column 'class'")),
    };
    let n = x.len();
    if [y.len(), z.len(), class.len()].iter().any(|&m| m != n) {
        return Err(bad_argument("particles: columns of different lengths"));
    }
    let score = floats(cols, "score")?;
    let angles = [
        floats(cols, "rot")?,
        floats(cols, "tilt")?,
        floats(cols, "psi")?,
    ];
    let tomogram: Option<Vec<Option<String>>> = match cols.get_item("tomogram")? {
        Some(v) if !v.is_none() => Some(v.extract()?),
        _ => None,
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if !(x[i].is_finite() && y[i].is_finite() && z[i].is_finite()) {
            return Err(bad_argument(format!(
                "particles: row {i} has a position that is not a finite number"
            )));
        }
        let mut p = Particle::new(class[i].clone(), PosAngstrom::new(x[i], y[i], z[i]));
        p.score = score.as_ref().map(|s| s[i]).filter(|s| s.is_finite());
        if let [Some(r), Some(t), Some(s)] = &angles
            && r[i].is_finite()
            && t[i].is_finite()
            && s[i].is_finite()
        {
            p.rotation = Some(Rotation::from_relion_zyz_deg(r[i], t[i], s[i]));
        }
        p.tomogram = tomogram.as_ref().and_then(|t| t[i].clone());
        out.push(p);
    }
    Ok(out)
}

/// The list context from the keyword arguments.
pub fn context(
    voxel_size: Option<f64>,
    binning: Option<f64>,
    shape: Option<[usize; 3]>,
    classes: Option<Vec<String>>,
) -> PyResult<ListContext> {
    check_voxel_size(voxel_size)?;
    Ok(ListContext {
        voxel_size: voxel_size.map(VoxelSize::isotropic),
        binning,
        tomo_shape_xyz: shape,
        classes,
        ..ListContext::default()
    })
}

/// A list format by name (`csv`, `relion4`, `relion5`, `copick`, `shrec`, `imod`, `points`).
pub fn format_named(name: Option<&str>) -> PyResult<Option<ListFormat>> {
    name.map(|n| {
        ListFormat::from_name(n).ok_or_else(|| {
            bad_argument(format!(
                "unknown list format '{n}' (csv, relion4, relion5, copick, shrec, imod, points)"
            ))
        })
    })
    .transpose()
}

/// Reads a particle list (any format tomopick reads; `format` to override the extension).
/// Pixel-based formats need `voxel_size` (Å; `binning` when the list counts finer pixels).
#[pyfunction]
#[pyo3(signature = (path, voxel_size=None, binning=None, shape=None, format=None))]
pub fn read_particles<'py>(
    py: Python<'py>,
    path: PathBuf,
    voxel_size: Option<f64>,
    binning: Option<f64>,
    shape: Option<[usize; 3]>,
    format: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let ctx = context(voxel_size, binning, shape, None)?;
    let format = format_named(format)?;
    let particles = py
        .detach(|| tomopick_io::read_particles(&path, format, &ctx))
        .map_err(ToPyErr::to_py)?;
    to_columns(py, &particles)
}

/// Writes a particle list (format from the extension, or `format`); the file appears whole.
#[pyfunction]
#[pyo3(signature = (columns, path, format=None, voxel_size=None, binning=None, shape=None, classes=None))]
#[allow(clippy::too_many_arguments)]
pub fn write_particles(
    py: Python<'_>,
    columns: &Bound<'_, PyDict>,
    path: PathBuf,
    format: Option<&str>,
    voxel_size: Option<f64>,
    binning: Option<f64>,
    shape: Option<[usize; 3]>,
    classes: Option<Vec<String>>,
) -> PyResult<()> {
    let particles = from_columns(columns)?;
    let ctx = context(voxel_size, binning, shape, classes)?;
    let format = match format_named(format)? {
        Some(f) => f,
        None => ListFormat::from_path(&path).ok_or_else(|| {
            bad_argument(format!(
                "{}: cannot tell the list format from the extension (.csv, .star, .json, .txt); pass format=",
                path.display()
            ))
        })?,
    };
    py.detach(|| tomopick_io::write_particles(&path, format, &particles, &ctx))
        .map_err(ToPyErr::to_py)
}
