#![no_main]
//! Fuzz target: Simulation configs (TOML): subtomogram randomisation and tomograms.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.toml", data);
    let _ = tomopick_sim::SubtomoConfig::from_toml(&p);
    let _ = tomopick_sim::tomogram::TomogramConfig::from_toml(&p);
});
