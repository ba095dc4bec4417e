//! Errors of the simulator.

/// Errors from `tomopick-sim`.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] tomopick_io::IoError),
    /// A structure file is malformed; names the file and line.
    #[error("{path}:{line}: {message}")]
    Structure {
        /// The file.
        path: String,
        /// 1-based line, 0 when the whole file is meant.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A parameter is outside its physical range.
    #[error("{0}")]
    Parameter(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, SimError>;

pub(crate) fn structure_err(
    path: &std::path::Path,
    line: usize,
    message: impl Into<String>,
) -> SimError {
    SimError::Structure {
        path: path.display().to_string(),
        line,
        message: message.into(),
    }
}
