//! Picking particles in a tomogram: tiling into overlapping cubes with effective zones,
//! inference with the detector, and non-maximum suppression; then the second stage, which
//! classifies and segments a box around each pick.

pub mod classify;
pub mod nms;
pub mod picker;
pub mod preview;
pub mod rescale;
pub mod smooth;
pub mod tiling;

pub use classify::{Classification, ClassifyOptions, classify};
pub use nms::{Detection, nms_distance, nms_iou, sphere_iou};
pub use picker::{PickOptions, pick, to_particles};
pub use rescale::Rescaler;
pub use tiling::{Tile, overhead, tiles, tiles_shaped};
