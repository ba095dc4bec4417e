//! Training runs over the whole pipeline: a run folder (`train.toml`, `checkpoint/`, `best.bpk`,
//! `model.bpk`, `curve.csv`, `curve.png`) that `resume` continues bit-exactly; the detector
//! validated and its pick thresholds calibrated on held-aside simulated tomograms through the
//! same pick as `tomopick pick`; the classifier validated on held-aside subtomograms.
//! [`adapt_detector`] fine-tunes a detector on the user's own tomograms with its own picks as
//! labels (self-training). [`train_detector`], [`train_classifier`] and [`adapt_detector`]
//! report through a [`TrainEvent`] callback and never print.

pub mod adapt;
pub mod adapt_labels;
pub mod classifier_run;
pub mod curves;
pub mod detector_run;
pub mod error;
pub mod run;

pub use adapt::{AdaptRequest, adapt_detector};
pub use classifier_run::{evaluate_subtomograms, train_classifier};
pub use detector_run::train_detector;
pub use error::{Result, TrainError};
pub use run::{TrainEvent, TrainRun};
