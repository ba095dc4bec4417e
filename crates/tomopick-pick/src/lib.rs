//! Picking particles in a tomogram: tiling into overlapping cubes with effective zones,
//! inference with the detector, and non-maximum suppression; then the second stage, which
//! classifies and segments a box around each pick. [`pick_tomogram`] does the whole pick of a
//! file ([`pick_source`] of a volume in memory), [`pick_dataset`] of many,
//! [`classify_tomogram()`] the second stage ([`match_tomogram`] by template matching instead); threshold calibration ([`calibrate`]), the
//! classifier's evaluation ([`evaluate_classifier`]) and the demo ([`run_demo`]) use the same
//! pick. The shipped models are embedded ([`load_detector`], [`load_classifier`]).

pub mod batch;
pub mod calibrate;
pub mod class_scores;
pub mod classifier_eval;
pub mod classify;
pub mod classify_tomogram;
pub mod dataset;
pub mod demo;
pub mod error;
pub mod models;
pub mod nms;
pub mod picker;
pub mod pipeline;
pub mod preview;
pub mod refine;
pub mod rescale;
pub mod slurm;
mod template_background;
pub mod template_ctf;
mod template_filter;
pub mod template_hand;
pub mod template_look;
pub mod template_match;
mod template_options;
pub mod template_tomogram;
pub use tomopick_sim::smooth;
pub mod source;
pub mod stated;
pub mod tiling;

pub use batch::{BatchOptions, BatchRow, Outcome, pick_dataset};
pub use calibrate::{ScoredPicks, calibrate_on, pick_in_memory, score_folder, score_simulated};
pub use class_scores::ClassScores;
pub use classifier_eval::{ClassifierEvalOptions, ClassifierEvaluation, evaluate_classifier};
pub use classify::{Classification, ClassifyOptions, classify};
pub use classify_tomogram::{Classified, classify_tomogram};
pub use dataset::{DatasetItem, dataset_items, is_dataset};
pub use demo::{DemoOutcome, DemoRequest, run_demo};
pub use error::PickError;
pub use models::{
    FAST_DETECTOR_NAME, describe_thresholds, load_classifier, load_detector, load_raw_detector,
    model_pick_options, sample_classes,
};
pub use nms::{Detection, nms_distance, nms_iou, sphere_iou};
pub use picker::{PickOptions, pick, to_particles};
pub use pipeline::{PickRequest, Picked, check_voxel_size, pick_source, pick_tomogram};
pub use refine::{Refinement, check_refines, classify_particles, refine_classes};
pub use rescale::Rescaler;
pub use source::TomoSource;
pub use template_ctf::TemplateCtf;
pub use template_match::{
    Template, TemplateMatchOptions, TemplateScores, match_templates, missing_wedge, template_reach,
};
pub use template_tomogram::{
    TemplateMatched, TemplateSource, least_reach, load_templates, match_tomogram,
};
pub use tiling::{Tile, overhead, tiles, tiles_shaped};
