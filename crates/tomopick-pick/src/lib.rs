//! Picking particles in a tomogram: tiling into overlapping cubes with effective zones,
//! inference with the detector, and non-maximum suppression.

pub mod nms;
pub mod picker;
pub mod preview;
pub mod tiling;

pub use nms::{Detection, nms_distance, nms_iou, sphere_iou};
pub use picker::{PickOptions, pick, to_particles};
pub use tiling::{Tile, overhead, tiles, tiles_shaped};
