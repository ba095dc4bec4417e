//! Faults that must lose nothing (issue 18): `kill -9` at 20 moments during a pick, a
//! conversion and a simulation leaves the old output or the complete new one; killed at 20
//! moments (checkpoints included), a training run resumes to the very bits of one that never
//! stopped; a full disk
//! (`ulimit -f`) gives a clear error and no output; two processes writing one output leave one
//! complete file.

mod common;
use common::{ok, s, simulate};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tomopick"));
    c.current_dir(common::root())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs `args` `n` times, killing it (SIGKILL) after a delay spread over `span` (a fixed
/// pseudo-random sequence); after each, `check` sees whether the process had finished.
fn kill_at_moments(args: &[&str], n: usize, span: Duration, mut check: impl FnMut(usize)) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = span.mul_f64((x % 1000) as f64 / 1000.0);
        let mut child = bin().args(args).spawn().unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < delay {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
        check(i);
    }
}

/// How long one run of `args` takes (to spread the kills over it).
fn duration_of(args: &[&str]) -> Duration {
    let t0 = Instant::now();
    assert!(bin().args(args).status().unwrap().success(), "{args:?}");
    t0.elapsed()
}

fn bytes(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}

#[test]
fn kill_9_leaves_the_old_output_or_the_complete_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,48", "20", "3", &[]);
    let tomo = t.join("reconstruction.mrc");
    let old = b"old output\n".to_vec();

    // A pick.
    let reference = dir.path().join("ref.csv");
    let pick = |out: &Path| {
        vec![
            "pick".to_string(),
            s(&tomo).into(),
            "-o".into(),
            s(out).into(),
        ]
    };
    let ref_args = pick(&reference);
    let span = duration_of(&ref_args.iter().map(String::as_str).collect::<Vec<_>>());
    let want = bytes(&reference).unwrap();
    let out = dir.path().join("p.csv");
    std::fs::write(&out, &old).unwrap();
    let args = pick(&out);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    kill_at_moments(&argv, 20, span, |i| {
        let got = bytes(&out).unwrap();
        assert!(got == old || got == want, "pick, kill {i}: a partial file");
    });

    // A conversion (a volume, the largest single write).
    let reference = dir.path().join("ref.mrc");
    let conv = |out: &Path| vec!["convert".to_string(), s(&tomo).into(), s(out).into()];
    let ref_args = conv(&reference);
    let span = duration_of(&ref_args.iter().map(String::as_str).collect::<Vec<_>>());
    let want = bytes(&reference).unwrap();
    let out = dir.path().join("c.mrc");
    let args = conv(&out);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    kill_at_moments(&argv, 20, span, |i| {
        if let Some(got) = bytes(&out) {
            assert!(got == want, "convert, kill {i}: a partial file");
        }
    });

    // A simulation (a folder of files, committed by one rename).
    let reference = dir.path().join("ref_sim");
    let sim = |out: &Path| {
        [
            "simulate",
            "tomogram",
            "--shape",
            "64,64,32",
            "--particles",
            "10",
            "--seed",
            "9",
            "-o",
            s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let ref_args = sim(&reference);
    let span = duration_of(&ref_args.iter().map(String::as_str).collect::<Vec<_>>());
    let out = dir.path().join("sim");
    let args = sim(&out);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    kill_at_moments(&argv, 20, span, |i| {
        if out.exists() {
            for f in [
                "reconstruction.mrc",
                "particle_locations.txt",
                "occupancy_mask.mrc",
            ] {
                assert_eq!(
                    bytes(&out.join(f)),
                    bytes(&reference.join(f)),
                    "simulate, kill {i}: {f}"
                );
            }
            std::fs::remove_dir_all(&out).unwrap();
        }
    });
}

/// A detector training run small enough to kill 20 times: a checkpoint after every step.
const KILL_TRAIN: &str = r#"
architecture = "efficient"
classes = ["4v94", "1bxn"]
voxel_size_a = 10.0
cube_size = 32
batch = 2
steps = 4
learning_rate = 1e-3
anchors = 2
seed = 1
checkpoint_every = 1
validate_every = 0
particles_per_cube = { uniform = [2, 6] }
gold_per_cube = 0
"#;

#[test]
fn kill_9_during_training_then_resume_gives_the_bits_of_an_unbroken_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("train.toml");
    std::fs::write(&config, KILL_TRAIN).unwrap();
    let start = |run: &Path| {
        ["train", "detector", "--config", s(&config), "-o", s(run)]
            .map(String::from)
            .to_vec()
    };
    let reference = dir.path().join("reference");
    let ref_args = start(&reference);
    let span = duration_of(&ref_args.iter().map(String::as_str).collect::<Vec<_>>());
    // (checkpoint/optimizer.bpk holds the same state, but burn writes its entries in hash-map
    // order, so its bytes vary from run to run; the model files it leads to do not.)
    let files = ["curve.csv", "model.bpk", "checkpoint/model.bpk"];
    let want: Vec<Vec<u8>> = files
        .iter()
        .map(|f| bytes(&reference.join(f)).unwrap())
        .collect();
    // Two runs from one seed write the same files, bit for bit (parameter ids included).
    let twin = dir.path().join("twin");
    let twin_args = start(&twin);
    duration_of(&twin_args.iter().map(String::as_str).collect::<Vec<_>>());
    for (f, w) in files.iter().zip(&want) {
        assert!(
            bytes(&twin.join(f)).as_ref() == Some(w),
            "{f}: not reproducible"
        );
    }
    for i in 0..20 {
        let run = dir.path().join(format!("run{i}"));
        let args = start(&run);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        kill_at_moments(&argv, 1, span.mul_f64(1.0 + i as f64 / 20.0), |_| {});
        // Whatever the kill left, the documented way on: --resume where a run was started,
        // the original command where nothing was written yet.
        let again = if run.join("train.toml").is_file() {
            vec!["train", "detector", "-o", s(&run), "--resume"]
        } else {
            argv.clone()
        };
        assert!(
            bin().args(&again).status().unwrap().success(),
            "kill {i}: {again:?}"
        );
        for (f, w) in files.iter().zip(&want) {
            assert!(
                bytes(&run.join(f)).as_ref() == Some(w),
                "kill {i}: {f} differs"
            );
        }
    }
}

#[test]
fn a_full_disk_gives_a_clear_error_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,48", "20", "3", &[]);
    let out = dir.path().join("big.mrc");
    // At most 64 KiB per file (ulimit -f counts 1 KiB blocks; SIGXFSZ ignored, so the write fails).
    let script = format!(
        "trap '' XFSZ; ulimit -f 64; exec {} convert {} {}",
        env!("CARGO_BIN_EXE_tomopick"),
        s(&t.join("reconstruction.mrc")),
        s(&out)
    );
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("error: ") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        err.contains("big.mrc") && err.contains("too large"),
        "{err}"
    );
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

#[test]
fn two_processes_writing_one_output_leave_one_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    simulate(&t, "96,96,48", "20", "3", &[]);
    let tomo = t.join("reconstruction.mrc");
    let reference = dir.path().join("ref.mrc");
    ok(&["convert", s(&tomo), s(&reference)]);
    let want = bytes(&reference).unwrap();
    let out = dir.path().join("same.mrc");
    for _ in 0..5 {
        let a = bin().args(["convert", s(&tomo), s(&out)]).spawn().unwrap();
        let b = bin().args(["convert", s(&tomo), s(&out)]).spawn().unwrap();
        for mut c in [a, b] {
            assert!(c.wait().unwrap().success());
        }
        assert_eq!(bytes(&out).unwrap(), want);
    }
}
