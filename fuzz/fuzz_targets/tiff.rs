#![no_main]
//! Fuzz target: TIFF stacks.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.tif", data);
    let _ = tomopick_io::open_volume(&p, Some(tomopick_io::VoxelSize::isotropic(10.0)));
});
