//! tomopick's typed errors as Python exceptions, with the messages the CLI prints: a file the
//! system refuses raises the matching `OSError` subclass, anything else wrong with the input
//! `InputError` (a `TomopickError` and a `ValueError`), an interrupted pick `KeyboardInterrupt`.

use pyo3::exceptions::{
    PyException, PyFileExistsError, PyFileNotFoundError, PyKeyboardInterrupt, PyOSError,
    PyPermissionError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::{PyErr, create_exception};
use std::io::ErrorKind;
use tomopick_io::IoError;
use tomopick_pick::PickError;

create_exception!(
    _tomopick,
    TomopickError,
    PyException,
    "Base class of tomopick's errors."
);
/// `InputError(TomopickError, ValueError)`: a file, list or option tomopick cannot use as it
/// is. Made once with Python's `type()`, as `create_exception!` takes one base only.
static INPUT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The `InputError` class.
pub fn input_error_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    INPUT_ERROR
        .get_or_try_init(py, || {
            let bases = (py.get_type::<TomopickError>(), py.get_type::<PyValueError>());
            let namespace = PyDict::new(py);
            namespace.set_item("__module__", "tomopick")?;
            namespace.set_item(
                "__doc__",
                "A file, list or option tomopick cannot use as it is; the message names the file and the line or field.",
            )?;
            let builtins = py.import("builtins")?;
            let class = builtins.getattr("type")?.call1(("InputError", bases, namespace))?;
            class.extract::<Py<PyType>>().map_err(Into::into)
        })
        .map(|t| t.bind(py))
}

/// An error of the library crates as a Python exception.
pub trait ToPyErr {
    /// The exception, with the same message as the CLI's.
    fn to_py(self) -> PyErr;
}

fn os_error(kind: ErrorKind, message: String) -> PyErr {
    match kind {
        ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        ErrorKind::AlreadyExists => PyFileExistsError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// An input error: a `TomopickError` that is also a `ValueError`.
pub fn input_error(message: String) -> PyErr {
    Python::attach(|py| match input_error_type(py) {
        Ok(t) => PyErr::from_type(t.clone(), message),
        Err(e) => e,
    })
}

impl ToPyErr for IoError {
    fn to_py(self) -> PyErr {
        match &self {
            IoError::Os { error, .. } => os_error(error.kind(), self.to_string()),
            _ => input_error(self.to_string()),
        }
    }
}

impl ToPyErr for PickError {
    fn to_py(self) -> PyErr {
        match self {
            PickError::Io(e) => e.to_py(),
            PickError::Sim(tomopick_sim::SimError::Io(e)) => e.to_py(),
            PickError::Nn(tomopick_nn::NnError::Io(e)) => e.to_py(),
            PickError::Cancelled => PyKeyboardInterrupt::new_err("tomopick: interrupted"),
            e => input_error(e.to_string()),
        }
    }
}

impl ToPyErr for tomopick_sim::SimError {
    fn to_py(self) -> PyErr {
        match self {
            tomopick_sim::SimError::Io(e) => e.to_py(),
            e => input_error(e.to_string()),
        }
    }
}

impl ToPyErr for tomopick_eval::EvalError {
    fn to_py(self) -> PyErr {
        match self {
            tomopick_eval::EvalError::Io(e) => e.to_py(),
            e => input_error(e.to_string()),
        }
    }
}

/// An argument out of range or of the wrong kind (as clap refuses it on the command line): an
/// `InputError`, so also a `ValueError`.
pub fn bad_argument(message: impl Into<String>) -> PyErr {
    input_error(message.into())
}

/// Refuses a `voxel_size=` that is not a positive number of Å.
pub fn check_voxel_size(voxel_size: Option<f64>) -> PyResult<()> {
    match voxel_size {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(bad_argument(format!(
            "voxel_size {v}: must be a positive number of Å"
        ))),
        _ => Ok(()),
    }
}
