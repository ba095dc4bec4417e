#![no_main]
//! Fuzz target: OME-Zarr metadata (.zattrs of a group holding a tiny level 0 array).

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    let z = dir.path().join("x.zarr");
    std::fs::create_dir_all(z.join("0")).expect("writable");
    std::fs::write(z.join(".zgroup"), br#"{"zarr_format": 2}"#).expect("writable");
    std::fs::write(z.join(".zattrs"), data).expect("writable");
    std::fs::write(z.join("0/.zarray"), br#"{"zarr_format":2,"shape":[2,2,2],"chunks":[2,2,2],"dtype":"<f4","compressor":null,"fill_value":0,"order":"C","filters":null}"#).expect("writable");
    let _ = tomopick_io::open_volume(&z, None);
});
