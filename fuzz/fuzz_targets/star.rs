#![no_main]
//! Fuzz target: STAR: RELION 3/4/5 particles, tomograms.star, a tilt series' STAR file.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.star", data);
    let _ = tomopick_io::read_particles(&p, None, &common::ctx());
    let _ = tomopick_io::read_particles(&p, None, &tomopick_io::ListContext::default());
    let _ = tomopick_io::lists::tomograms_star::read_tomograms_star(&p);
    let _ = tomopick_io::lists::tomograms_star::read_tilt_series_star(&p, "TS_01");
});
