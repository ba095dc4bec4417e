#![no_main]
//! Fuzz target: SHREC particle_locations.txt.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.txt", data);
    let _ = tomopick_io::read_particles(&p, None, &common::ctx());
    let _ = tomopick_io::read_particles(&p, None, &tomopick_io::ListContext::default());
});
