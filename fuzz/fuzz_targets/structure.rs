#![no_main]
//! Fuzz target: Atomic models: PDB and mmCIF.

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_d, p) = common::as_file("x.pdb", data);
    let _ = tomopick_sim::read_structure(&p);
    let (_e, q) = common::as_file("x.cif", data);
    let _ = tomopick_sim::read_structure(&q);
});
