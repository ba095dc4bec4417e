//! Running the `tomopick` binary from tests, as a user would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (commands run there, so relative paths are the README's).
pub fn root() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../..")
}

/// Runs `tomopick` with `args`.
pub fn tomopick(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tomopick"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that must succeed; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = tomopick(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a command that must fail cleanly (an `error:` line, no panic); returns stderr.
pub fn fails(args: &[&str]) -> String {
    let o = tomopick(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(
        err.lines().any(|l| l.starts_with("error: ")),
        "{args:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    err
}

/// A path as `&str` for argument lists.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `tomopick simulate tomogram` into `out` (extra arguments after the common ones).
pub fn simulate(out: &std::path::Path, shape: &str, particles: &str, seed: &str, extra: &[&str]) {
    let mut args = vec![
        "simulate",
        "tomogram",
        "--shape",
        shape,
        "--particles",
        particles,
        "--seed",
        seed,
        "-o",
        s(out),
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

/// `tomopick evaluate` of `picks` against the truth of the simulation folder `sim` (its
/// particle list, occupancy mask and class table; F1 with beta 1), the report written to
/// `report`: the class-agnostic SHREC F1.
pub fn shrec_f1(picks: &Path, sim: &Path, report: &Path) -> f64 {
    ok(&[
        "evaluate",
        "--picks",
        s(picks),
        "--truth",
        s(&sim.join("particle_locations.txt")),
        "--occupancy",
        s(&sim.join("occupancy_mask.mrc")),
        "--classes",
        s(&sim.join("classes.toml")),
        "--beta",
        "1",
        "-o",
        s(report),
    ]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    r["shrec"]["overall"]["f1"].as_f64().unwrap()
}
