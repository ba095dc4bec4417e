//! Typed errors of the picking pipeline.

use std::path::{Path, PathBuf};
use tomopick_io::IoError;
use tomopick_nn::NnError;

/// Errors from `tomopick-pick`.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    /// Reading or writing a file.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Loading or running a model.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// Scoring picks against a truth.
    #[error(transparent)]
    Eval(#[from] tomopick_eval::EvalError),
    /// Simulating a tomogram (calibration, the demo).
    #[error(transparent)]
    Sim(#[from] tomopick_sim::SimError),
    /// An input that cannot be picked as it is (wrong voxel size, too small, NaN voxels…).
    #[error("{}: {message}", path.display())]
    Input {
        /// The file (or folder) at fault.
        path: PathBuf,
        /// What is wrong and what to do, in one or two sentences.
        message: String,
    },
    /// An option out of its range; the message names the option and the value.
    #[error("{0}")]
    Option(String),
    /// Stopped by the caller before the end ([`crate::PickRequest::cancel`]).
    #[error("interrupted")]
    Cancelled,
}

impl PickError {
    /// An [`PickError::Input`] naming `path`.
    pub fn input(path: &Path, message: impl Into<String>) -> Self {
        PickError::Input {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PickError>;
