//! Typed errors of a training run.

/// Errors from `tomopick-train`.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Reading or writing a file.
    #[error(transparent)]
    Io(#[from] tomopick_io::IoError),
    /// The network, its config, a checkpoint or a model file.
    #[error(transparent)]
    Nn(#[from] tomopick_nn::NnError),
    /// Simulating the held-aside tomograms.
    #[error(transparent)]
    Sim(#[from] tomopick_sim::SimError),
    /// Picking or calibrating.
    #[error(transparent)]
    Pick(#[from] tomopick_pick::PickError),
    /// Drawing the curves.
    #[error(transparent)]
    Eval(#[from] tomopick_eval::EvalError),
    /// The run folder cannot be started or resumed as asked; the message says why.
    #[error("{0}")]
    Run(String),
    /// Stopped on request ([`crate::TrainRun::cancel`]); the last checkpoint resumes it.
    #[error("interrupted; the run resumes from its last checkpoint")]
    Cancelled,
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, TrainError>;
