#![no_main]
//! Fuzz target: tomopick CSV, plain point tables and manifests read as particle lists.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.csv", data);
    let _ = tomopick_io::read_particles(&p, None, &common::ctx());
    let _ = tomopick_io::read_particles(&p, Some(tomopick_io::ListFormat::Points), &common::ctx());
});
