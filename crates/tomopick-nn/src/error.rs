//! Errors of the networks crate.

/// Errors from `tomopick-nn`.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] tomopick_io::IoError),
    /// The simulator failed while making training data.
    #[error(transparent)]
    Sim(#[from] tomopick_sim::SimError),
    /// A model file is not one of ours, or does not fit what it is used for.
    #[error("{path}: {message}")]
    Model {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A training configuration value is wrong; names the file and field.
    #[error("{0}")]
    Config(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, NnError>;

pub(crate) fn model_err(path: &std::path::Path, message: impl Into<String>) -> NnError {
    NnError::Model {
        path: path.display().to_string(),
        message: message.into(),
    }
}
