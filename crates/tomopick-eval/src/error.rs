//! Errors of the evaluator.

/// Errors from `tomopick-eval`.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Reading an input failed.
    #[error(transparent)]
    Io(#[from] tomopick_io::IoError),
    /// An input is inconsistent or incomplete.
    #[error("{0}")]
    Input(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, EvalError>;
