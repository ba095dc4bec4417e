#![no_main]
//! Fuzz target: IMOD point models (.mod).

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.mod", data);
    let _ = tomopick_io::read_particles(&p, None, &common::ctx());
});
