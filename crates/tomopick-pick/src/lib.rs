//! Picking particles in a tomogram: tiling into overlapping cubes with effective zones,
//! inference with the detector, and non-maximum suppression; then the second stage, which
//! classifies and segments a box around each pick. [`pick_tomogram`] does the whole pick of a
//! file, [`pick_dataset`] of many.

pub mod batch;
pub mod classify;
pub mod dataset;
pub mod error;
pub mod nms;
pub mod picker;
pub mod pipeline;
pub mod preview;
pub mod refine;
pub mod rescale;
pub mod slurm;
pub mod smooth;
pub mod source;
pub mod tiling;

pub use batch::{BatchOptions, BatchRow, Outcome, pick_dataset};
pub use classify::{Classification, ClassifyOptions, classify};
pub use dataset::{DatasetItem, dataset_items, is_dataset};
pub use error::PickError;
pub use nms::{Detection, nms_distance, nms_iou, sphere_iou};
pub use picker::{PickOptions, pick, to_particles};
pub use pipeline::{PickRequest, Picked, check_voxel_size, pick_tomogram};
pub use refine::{Refinement, check_refines, classify_particles, refine_classes};
pub use rescale::Rescaler;
pub use source::TomoSource;
pub use tiling::{Tile, overhead, tiles, tiles_shaped};
