#![no_main]
//! Fuzz target: copick picks JSON and copick project configs.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.json", data);
    let _ = tomopick_io::read_particles(&p, None, &common::ctx());
    let _ = tomopick_io::lists::copick_project::CopickProject::open(&p);
});
