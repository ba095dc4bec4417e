//! `tomopick pick --slurm` against a real Slurm (one node on this machine:
//! `scripts/slurm_localhost.sh`, which CI runs): a 3-task array over 6 tomograms, one task
//! cancelled, the script resubmitted, the merge step; the picks equal a single-machine run.

mod common;
use common::{ok, s, simulate};
use std::path::Path;
use std::process::Command;

fn slurm_up() -> bool {
    let up = Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !up {
        assert!(
            std::env::var("TOMOPICK_REQUIRE_SLURM").is_err(),
            "TOMOPICK_REQUIRE_SLURM is set but Slurm does not answer (scripts/slurm_localhost.sh)"
        );
        eprintln!("skipped: no Slurm here (scripts/slurm_localhost.sh starts one)");
    }
    up
}

fn run(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Waits until Slurm no longer lists job `id` (at most 5 minutes).
fn wait_gone(id: &str) {
    let t0 = std::time::Instant::now();
    while t0.elapsed().as_secs() < 300 {
        if run("squeue", &["-h", "-j", id]).is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    panic!("job {id} still queued after 5 minutes");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_slurm_array_with_a_cancelled_task_resubmitted_equals_one_machine() {
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sims");
    std::fs::create_dir_all(&sims).unwrap();
    let names = ["t1", "t2", "t3", "t4", "t5", "t6"];
    for (i, n) in names.iter().enumerate() {
        simulate(&sims.join(n), "64,64,40", "10", &(i + 1).to_string(), &[]);
    }
    let out = dir.path().join("out");
    let script = dir.path().join("pick.sbatch");
    let said = ok(&[
        "pick",
        s(&sims),
        "-o",
        s(&out),
        "--slurm",
        s(&script),
        "--slurm-tasks",
        "3",
        "--slurm-throttle",
        "2",
        "--slurm-cpus",
        "1",
        "--slurm-mem",
        "500M",
        "--slurm-time",
        "00:10:00",
    ]);
    assert!(said.contains("6 tomograms in 3 array tasks"), "{said}");
    let text = read(&script);
    assert!(text.contains("#SBATCH --array=0-2%2"), "{text}");
    assert!(
        !out.join("t1.star").exists(),
        "--slurm only writes the script"
    );

    // Submit held, cancel task 1 (tomograms t3, t4), release: tasks 0 and 2 run.
    let id = run("sbatch", &["--parsable", "--hold", s(&script)]);
    let id = id.split(';').next().unwrap().to_string();
    run("scancel", &[&format!("{id}_1")]);
    run("scontrol", &["release", &id]);
    wait_gone(&id);
    let have = |n: &str| out.join(format!("{n}.star")).exists();
    assert!(have("t1") && have("t2") && have("t5") && have("t6"));
    assert!(
        !have("t3") && !have("t4"),
        "the cancelled task picked nothing"
    );

    // Resubmit the same script: only the missing part is picked.
    let id2 = run("sbatch", &["--parsable", "--wait", s(&script)]);
    let _ = id2;
    for n in names {
        assert!(have(n), "{n}");
    }
    let part0 = read(&out.join("summary.part-0-of-3.csv"));
    assert!(
        part0.lines().skip(1).all(|l| l.contains(",skipped,")),
        "{part0}"
    );
    let part1 = read(&out.join("summary.part-1-of-3.csv"));
    assert_eq!(
        part1.lines().filter(|l| l.contains(",picked,")).count(),
        2,
        "{part1}"
    );

    // The merge step: the same command without --part writes the dataset's summary.
    ok(&["pick", s(&sims), "-o", s(&out)]);
    let summary = read(&out.join("summary.csv"));
    assert_eq!(
        summary.lines().filter(|l| l.contains(",skipped,")).count(),
        6
    );
    // Equal to one machine picking it all.
    let fresh = dir.path().join("fresh");
    ok(&["pick", s(&sims), "-o", s(&fresh)]);
    for n in names {
        let f = format!("{n}.star");
        assert_eq!(read(&out.join(&f)), read(&fresh.join(&f)), "{f}");
    }
    assert!(
        out.join("slurm-logs").read_dir().unwrap().count() >= 3,
        "a log per task"
    );
}
