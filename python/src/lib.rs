//! `tomopick._tomopick`: the Python module over the tomopick library crates. Each function
//! converts its arguments, calls one library function with the GIL released, and converts the
//! result; `tomopick/__init__.py` wraps the columns in pandas DataFrames.

mod adapt;
mod errors;
mod frames;
mod pick;
mod sim;
mod templates;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _tomopick(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TomopickError", py.get_type::<errors::TomopickError>())?;
    m.add("InputError", errors::input_error_type(py)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(pick::pick, m)?)?;
    m.add_function(wrap_pyfunction!(adapt::adapt, m)?)?;
    m.add_function(wrap_pyfunction!(pick::classify, m)?)?;
    m.add_function(wrap_pyfunction!(templates::match_templates, m)?)?;
    m.add_function(wrap_pyfunction!(sim::simulate_tomogram, m)?)?;
    m.add_function(wrap_pyfunction!(sim::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(frames::read_particles, m)?)?;
    m.add_function(wrap_pyfunction!(frames::write_particles, m)?)?;
    Ok(())
}
