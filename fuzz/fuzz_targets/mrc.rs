#![no_main]
//! Fuzz target: MRC header and data decode (read_header, read_mrc with and without a voxel size).

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.mrc", data);
    let _ = tomopick_io::read_header(&p);
    let _ = tomopick_io::open_volume(&p, None);
    let _ = tomopick_io::open_volume(&p, Some(tomopick_io::VoxelSize::isotropic(10.0)));
});
