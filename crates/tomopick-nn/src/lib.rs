//! Networks for tomopick, on burn: the one-stage 3D detector and the subtomogram
//! classifier/segmenter, their losses and training. The only crate that depends on burn.
//!
//! Models run on a [`burn::prelude::Device`] chosen at run time: the `flex` CPU backend by
//! default, CUDA with the `cuda` feature.

pub mod blocks;
mod checkpoint;
pub mod classifier;
pub mod classifier_config;
pub mod classifier_model;
pub mod classifier_train;
pub mod detector;
pub mod encoding;
pub mod error;
pub mod fastconv;
pub mod loss;
pub mod model_file;
pub mod ops3d;
mod pack;
mod param_ids;
mod prefetch;
pub mod targets;
pub mod train;
pub mod train_config;
pub mod user_data;

pub use classifier_config::TrainClassifierConfig;
pub use classifier_model::{BoxPrediction, ClassifierConfig, ClassifierModel};
pub use classifier_train::ClassifierTrainer;
pub use detector::{Architecture, Detector};
pub use encoding::{Encoding, Prediction, kmeans_anchors};
pub use error::{NnError, Result};
pub use model_file::{DetectorConfig, DetectorModel, inference_device};
pub use train::DetectorTrainer;
pub use train_config::TrainDetectorConfig;
