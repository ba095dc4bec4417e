//! `tomopick pick` over a dataset: folders, manifests, RELION 5 tomograms.star, gzip MRC;
//! resume after a stop; one bad tomogram does not stop the rest; stable class numbers.

mod common;
use common::{fails, ok, s, simulate};
use std::path::Path;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_folder_is_picked_resumed_and_a_bad_tomogram_reported() {
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sims");
    std::fs::create_dir_all(&sims).unwrap();
    for (name, seed) in [("a", "1"), ("b", "2"), ("c", "3")] {
        simulate(&sims.join(name), "64,64,40", "10", seed, &[]);
    }
    // A fourth "tomogram" that is not an MRC file at all.
    std::fs::create_dir_all(sims.join("d")).unwrap();
    std::fs::write(sims.join("d/reconstruction.mrc"), vec![7u8; 2000]).unwrap();
    let out = dir.path().join("out");
    let e = fails(&["pick", s(&sims), "-o", s(&out)]);
    assert!(e.contains("1 of 4 tomograms failed"), "{e}");
    assert!(
        e.contains("d/reconstruction.mrc"),
        "the bad file is named: {e}"
    );
    for n in ["a", "b", "c"] {
        assert!(out.join(format!("{n}.star")).is_file(), "{n}.star");
    }
    assert!(
        !out.join("d.star").exists(),
        "no output for the failed tomogram"
    );
    let summary = read(&out.join("summary.csv"));
    assert!(
        summary.lines().any(|l| l.starts_with("d,failed,")),
        "{summary}"
    );
    assert_eq!(
        summary.lines().filter(|l| l.contains(",picked,")).count(),
        3
    );

    // The same picks as picking the file alone (only the tomogram's name differs).
    let single = dir.path().join("a_alone.star");
    ok(&[
        "pick",
        s(&sims.join("a/reconstruction.mrc")),
        "-o",
        s(&single),
    ]);
    assert_eq!(
        read(&single).replace("reconstruction", "a"),
        read(&out.join("a.star"))
    );

    // Every STAR numbers classes in the model's order, as classes.csv says, whatever it holds.
    let classes = read(&out.join("classes.csv"));
    let first = classes.lines().nth(1).unwrap().split_once(',').unwrap().1;
    for n in ["a", "b", "c"] {
        let star = read(&out.join(format!("{n}.star")));
        assert!(
            star.contains(&format!("# tomopick class 1 = {first}")),
            "{star}"
        );
        assert_eq!(
            star.matches("# tomopick class ").count(),
            classes.lines().count() - 1
        );
    }

    // Rerun after the bad file is removed and one output lost: only the missing one is picked.
    std::fs::remove_dir_all(sims.join("d")).unwrap();
    std::fs::remove_file(out.join("b.star")).unwrap();
    let a_before = std::fs::metadata(out.join("a.star"))
        .unwrap()
        .modified()
        .unwrap();
    let stdout = ok(&["pick", s(&sims), "-o", s(&out)]);
    assert!(stdout.contains("skipped"), "{stdout}");
    let summary = read(&out.join("summary.csv"));
    assert!(
        summary.lines().any(|l| l.starts_with("b,picked,")),
        "{summary}"
    );
    assert!(
        summary.lines().any(|l| l.starts_with("a,skipped,")),
        "{summary}"
    );
    let a_after = std::fs::metadata(out.join("a.star"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(a_before, a_after, "a complete output is not written again");
    assert!(out.join("b.star").is_file());
}

#[test]
fn manifests_relion5_tomograms_star_and_gzip_mrc() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("t1");
    simulate(&sim, "64,64,40", "10", "5", &[]);
    let tomo = sim.join("reconstruction.mrc");
    let reference = dir.path().join("reference.csv");
    ok(&["pick", s(&tomo), "-o", s(&reference)]);
    let reference = read(&reference);

    // gzip-compressed MRC (as EMDB ships maps) reads like the plain file.
    let gz = dir.path().join("reconstruction.mrc.gz");
    let bytes = std::fs::read(&tomo).unwrap();
    let status = std::process::Command::new("gzip")
        .args(["-c", s(&tomo)])
        .output()
        .unwrap();
    assert!(status.status.success() && status.stdout.len() < bytes.len());
    std::fs::write(&gz, &status.stdout).unwrap();
    let from_gz = dir.path().join("gz.csv");
    ok(&["pick", s(&gz), "-o", s(&from_gz)]);
    assert_eq!(read(&from_gz), reference);
    let info = ok(&["info", s(&gz)]);
    assert!(info.contains("64 × 64 × 40"), "{info}");
    let truncated = dir.path().join("cut.mrc.gz");
    std::fs::write(&truncated, &status.stdout[..status.stdout.len() / 2]).unwrap();
    let e = fails(&["pick", s(&truncated), "-o", s(&dir.path().join("x.csv"))]);
    assert!(e.contains("cut.mrc.gz") && e.contains("decompress"), "{e}");

    // A CSV manifest names the tomogram and sets its name and voxel size.
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        "tomogram,name,voxel_size\nt1/reconstruction.mrc,TS_01,10\n",
    )
    .unwrap();
    let out = dir.path().join("m");
    ok(&["pick", s(&manifest), "-o", s(&out), "--format", "csv"]);
    assert_eq!(
        read(&out.join("TS_01.csv")),
        reference.replace("reconstruction", "TS_01")
    );

    // A RELION 5 project: tomograms.star two folders below the project, paths relative to it,
    // pixel size 2.5 Å binned 4 = the tomogram's 10 Å.
    let job = dir.path().join("Tomograms/job006");
    std::fs::create_dir_all(&job).unwrap();
    std::fs::write(
        job.join("tomograms.star"),
        "\n# version 50001\n\ndata_global\n\nloop_\n_rlnTomoName #1\n_rlnTomoSizeX #2\n\
         _rlnTomoSizeY #3\n_rlnTomoSizeZ #4\n_rlnTomoTiltSeriesPixelSize #5\n\
         _rlnTomoTomogramBinning #6\n_rlnTomoReconstructedTomogram #7\n\
         TS_01 256 256 160 2.5 4.0 t1/reconstruction.mrc\n",
    )
    .unwrap();
    let out5 = dir.path().join("r5");
    ok(&[
        "pick",
        s(&job.join("tomograms.star")),
        "-o",
        s(&out5),
        "--format",
        "relion5",
    ]);
    let star = read(&out5.join("TS_01.star"));
    assert!(
        star.contains("rlnCenteredCoordinateXAngst") && star.contains("TS_01"),
        "{star}"
    );
    // Read back with the tomogram: the reference positions.
    let back = dir.path().join("back.csv");
    ok(&[
        "convert",
        s(&out5.join("TS_01.star")),
        s(&back),
        "--tomogram",
        s(&tomo),
    ]);
    let rows = |t: &str| t.lines().count();
    assert_eq!(rows(&read(&back)), rows(&reference));
    // What relion_tomo extraction takes: all picks in one particles.star, and an
    // optimisation_set.star naming it and the project's tomograms.star.
    let opt = read(&out5.join("optimisation_set.star"));
    assert!(
        opt.contains("particles.star") && opt.contains("Tomograms/job006/tomograms.star"),
        "{opt}"
    );
    assert_eq!(
        read(&out5.join("particles.star"))
            .lines()
            .filter(|l| l.starts_with("TS_01") || l.contains("\tTS_01\t"))
            .count(),
        rows(&reference) - 1
    );
    python(
        "starfile",
        r#"
import sys, starfile
o = starfile.read(sys.argv[1], always_dict=True)["optimisation_set"]
assert str(o["rlnTomoTomogramsFile"][0]).endswith("tomograms.star"), o
p = starfile.read(sys.argv[2], always_dict=True)
assert set(p["particles"]["rlnTomoName"]) == {"TS_01"}
assert {"rlnCenteredCoordinateXAngst", "rlnCenteredCoordinateYAngst", "rlnCenteredCoordinateZAngst"} <= set(p["particles"].columns)
assert abs(float(p["optics"]["rlnTomoTiltSeriesPixelSize"][0]) - 2.5) < 1e-6
"#,
        &[
            s(&out5.join("optimisation_set.star")),
            s(&out5.join("particles.star")),
        ],
    );

    // Names that would collide are refused before any work, naming both files.
    let e = fails(&["pick", s(&tomo), s(&gz), "-o", s(&dir.path().join("dup"))]);
    assert!(e.contains("same name 'reconstruction'"), "{e}");
    assert!(!dir.path().join("dup").exists());
}

/// Runs a Python snippet with `args` when python3 has `module` (CI requires it); false when
/// skipped.
fn python(module: &str, script: &str, args: &[&str]) -> bool {
    let has = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        assert!(
            std::env::var("TOMOPICK_REQUIRE_PYTHON").is_err(),
            "TOMOPICK_REQUIRE_PYTHON is set but python3 cannot import {module}"
        );
        eprintln!("skipped: python3 with {module} not found");
        return false;
    }
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn a_killed_dataset_run_resumes_with_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sims");
    std::fs::create_dir_all(&sims).unwrap();
    for (name, seed) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
        simulate(&sims.join(name), "96,96,48", "20", seed, &[]);
    }
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tomopick"))
        .args(["-q", "pick", s(&sims), "-o", s(&out)])
        .spawn()
        .unwrap();
    // Kill -9 as soon as the first output is complete.
    let t0 = std::time::Instant::now();
    while !out.join("a.star").exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(out.join("a.star").exists());
    // Whatever else was written is complete: no temporary files left looking like outputs.
    let listed: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".star"))
        .collect();
    let done_before = listed.len();
    assert!(done_before < 4, "killed before the end: {listed:?}");
    ok(&["pick", s(&sims), "-o", s(&out)]);
    let summary = read(&out.join("summary.csv"));
    assert_eq!(
        summary.lines().filter(|l| l.contains(",skipped,")).count(),
        done_before,
        "{summary}"
    );
    assert_eq!(
        summary.lines().filter(|l| l.contains(",picked,")).count(),
        4 - done_before,
        "{summary}"
    );
    // The resumed outputs equal a run that never stopped.
    let fresh = dir.path().join("fresh");
    ok(&["pick", s(&sims), "-o", s(&fresh)]);
    for n in ["a", "b", "c", "d"] {
        let f = format!("{n}.star");
        assert_eq!(read(&out.join(&f)), read(&fresh.join(&f)), "{f}");
    }
    // starfile (the Python reader RELION users script with) reads them, names and classes intact.
    python(
        "starfile",
        r#"
import sys, starfile
d = starfile.read(sys.argv[1], always_dict=True)
p = d["particles"]
assert set(p["rlnTomoName"]) <= {"a"}, p["rlnTomoName"]
assert (p["rlnClassNumber"] >= 1).all() and (p["rlnClassNumber"] <= 13).all()
assert abs(float(d["optics"]["rlnImagePixelSize"][0]) - 10.0) < 1e-6
"#,
        &[s(&out.join("a.star"))],
    );
}

#[test]
fn relion5_particles_convert_with_the_projects_tomograms_star_alone() {
    let project = common::root().join("../shared/data/fixtures/relion5-project-cylindra");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    ok(&[
        "convert",
        s(&project.join("Picks/job_picks/particles.star")),
        s(&csv),
        "--tomograms",
        s(&project.join("Tomograms/job_tomo/tomograms.star")),
    ]);
    // TS_01: 84 × 136 × 44 pixels of 10.52 Å, binning 1: centre (441.84, 715.36, 231.44) Å.
    let text = read(&csv);
    let first = text.lines().nth(1).unwrap();
    let f: Vec<&str> = first.split(',').collect();
    let xyz: Vec<f64> = f[1..4].iter().map(|v| v.parse().unwrap()).collect();
    for (got, want) in xyz
        .iter()
        .zip([-176.94 + 441.84, 765.48005 + 715.36, 11.16 + 231.44])
    {
        assert!((got - want).abs() < 1e-3, "{first}");
    }
    assert!(first.contains("TS_01"), "{first}");
    // And back to RELION 5: the same centred coordinates.
    let back = dir.path().join("back.star");
    ok(&[
        "convert",
        s(&csv),
        s(&back),
        "--to",
        "relion5",
        "--tomograms",
        s(&project.join("Tomograms/job_tomo/tomograms.star")),
    ]);
    let b = read(&back);
    assert!(b.contains("-176.94") && b.contains("765.48"), "{b}");
    // A particle of a tomogram the file does not list is refused by name.
    let other = dir.path().join("other.star");
    std::fs::write(
        &other,
        "data_particles\nloop_\n_rlnTomoName\n_rlnCenteredCoordinateXAngst\n\
         _rlnCenteredCoordinateYAngst\n_rlnCenteredCoordinateZAngst\nTS_99 1 2 3\n",
    )
    .unwrap();
    let e = fails(&[
        "convert",
        s(&other),
        s(&dir.path().join("o.csv")),
        "--tomograms",
        s(&project.join("Tomograms/job_tomo/tomograms.star")),
    ]);
    assert!(e.contains("TS_99") && e.contains("other.star"), "{e}");
}

/// Makes a copick project (filesystem, overlay only) whose runs hold the given MRC tomograms as
/// `wbp` OME-Zarr at 10 Å, written with ome-zarr as copick users write them.
const MAKE_COPICK: &str = r#"
import json, os, sys
import mrcfile, zarr
from ome_zarr.io import parse_url
from ome_zarr.writer import write_multiscale
proj = sys.argv[1]
os.makedirs(proj, exist_ok=True)
config = {
    "name": "test", "description": "tomopick test", "version": "1.0.0",
    "pickable_objects": [
        {"name": "thermosome", "is_particle": True, "pdb_id": "1BXN", "label": 1, "radius": 60.0},
        {"name": "ribosome", "is_particle": True, "pdb_id": "4V94", "label": 2, "radius": 150.0},
    ],
    "overlay_root": "local://" + os.path.join(proj, "overlay"),
    "overlay_fs_args": {"auto_mkdir": True},
    "config_type": "filesystem",
}
json.dump(config, open(os.path.join(proj, "config.json"), "w"), indent=2)
for arg in sys.argv[2:]:
    run, mrc = arg.split("=")
    with mrcfile.open(mrc) as m:
        data = m.data.copy()
    z = os.path.join(proj, "overlay", "ExperimentRuns", run, "VoxelSpacing10.000", "wbp.zarr")
    os.makedirs(os.path.dirname(z), exist_ok=True)
    write_multiscale([data], group=zarr.group(store=parse_url(z, mode="w").store),
        axes=[{"name": a, "type": "space", "unit": "angstrom"} for a in "zyx"],
        coordinate_transformations=[[{"type": "scale", "scale": [10.0, 10.0, 10.0]}]])
"#;

/// Reads the picks back with copick's own API: `run object count` per line.
const READ_COPICK: &str = r#"
import sys, copick
root = copick.from_file(sys.argv[1])
for run in sorted(root.runs, key=lambda r: r.name):
    for p in run.get_picks(user_id="tomopick", session_id="7"):
        print(run.name, p.pickable_object_name, len(p.points))
        for pt in p.points:
            assert pt.location.x >= 0 and pt.location.y >= 0
"#;

#[test]
fn a_copick_project_is_picked_and_its_picks_written_back_for_copick() {
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sims");
    std::fs::create_dir_all(&sims).unwrap();
    simulate(
        &sims.join("a"),
        "64,64,40",
        "12",
        "21",
        &["--classes", "1bxn,4v94"],
    );
    simulate(
        &sims.join("b"),
        "64,64,40",
        "12",
        "22",
        &["--classes", "1bxn,4v94"],
    );
    let proj = dir.path().join("proj");
    let runs = [
        format!("TS_1={}", s(&sims.join("a/reconstruction.mrc"))),
        format!("TS_2={}", s(&sims.join("b/reconstruction.mrc"))),
    ];
    let mut args = vec![s(&proj)];
    args.extend(runs.iter().map(String::as_str));
    if !python("copick, ome_zarr, mrcfile", MAKE_COPICK, &args) {
        return;
    }
    let out = dir.path().join("out");
    let config = proj.join("config.json");
    ok(&[
        "pick",
        s(&config),
        "-o",
        s(&out),
        "--format",
        "csv",
        "--copick-session",
        "7",
    ]);
    // The same picks as the MRC tomograms picked alone.
    for (run, sim) in [("TS_1", "a"), ("TS_2", "b")] {
        let alone = dir.path().join(format!("{run}.csv"));
        ok(&[
            "pick",
            s(&sims.join(sim).join("reconstruction.mrc")),
            "-o",
            s(&alone),
        ]);
        assert_eq!(
            read(&alone).replace("reconstruction", run),
            read(&out.join(format!("{run}.csv")))
        );
    }
    // Written where copick looks, named after the project's objects (by PDB id).
    let thermo = proj.join("overlay/ExperimentRuns/TS_1/Picks/tomopick_7_thermosome.json");
    assert!(thermo.is_file(), "{}", thermo.display());
    // copick's own reader finds every file; the counts are ours.
    let o = std::process::Command::new("python3")
        .args(["-c", READ_COPICK, s(&config)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    let ours = read(&out.join("TS_1.csv"));
    let n_thermo = ours.lines().filter(|l| l.starts_with("1bxn,")).count();
    assert!(
        listed.contains(&format!("TS_1 thermosome {n_thermo}")),
        "{listed}\n{ours}"
    );
    // Only the project's objects (thermosome = 1bxn, ribosome = 4v94) get picks files.
    assert_eq!(listed.lines().count(), 2 * 2, "{listed}");
    assert!(listed.contains("TS_2 ribosome"), "{listed}");
}

/// `pick --match-templates` over a RELION 5 project or a manifest gives each tomogram's
/// templates its own CTF (the tilt series' mean defocus, the project's microscope) and missing
/// wedge (its largest tilt), exactly as the same values given on the command line would; values
/// given on the command line win; a missing tilt-series file fails that tomogram by name.
#[test]
fn template_matching_takes_each_tomograms_ctf_and_tilts_from_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    simulate(&dir.path().join("t1"), "64,64,40", "8", "6", &[]);
    let tomo = dir.path().join("t1/reconstruction.mrc");
    let tm = [
        "--match-templates",
        "--template-rotations",
        "30",
        "--classes",
        "4v94,1bxn,3cf3",
    ];
    let pick = |inputs: &[&Path], out: &Path, extra: &[&str]| {
        let mut args = vec!["pick"];
        args.extend(inputs.iter().map(|p| s(p)));
        args.extend(["-o", s(out), "--format", "csv"]);
        args.extend(tm);
        args.extend(extra);
        let o = common::tomopick(&args);
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // What the project below states, on the command line: 30,750 Å mean defocus, 200 kV,
    // amplitude contrast 0.1, largest tilt 57°.
    let reference = dir.path().join("reference.csv");
    let flags = [
        "--defocus",
        "3.075",
        "--voltage",
        "200",
        "--amplitude-contrast",
        "0.1",
        "--tilt-max",
        "57",
    ];
    assert!(pick(&[&tomo], &reference, &flags).0);
    let reference = read(&reference).replace("reconstruction", "TS_01");
    assert!(reference.lines().count() > 2, "{reference}");

    let job = dir.path().join("Tomograms/job006");
    let ts = dir.path().join("CtfFind/job003/tilt_series");
    std::fs::create_dir_all(&job).unwrap();
    std::fs::create_dir_all(&ts).unwrap();
    std::fs::write(
        job.join("tomograms.star"),
        "data_global\nloop_\n_rlnTomoName\n_rlnVoltage\n_rlnSphericalAberration\n\
         _rlnAmplitudeContrast\n_rlnTomoTiltSeriesPixelSize\n_rlnTomoTiltSeriesStarFile\n\
         _rlnTomoTomogramBinning\n_rlnTomoReconstructedTomogram\n\
         TS_01 200 2.7 0.1 2.5 CtfFind/job003/tilt_series/TS_01.star 4 t1/reconstruction.mrc\n\
         TS_02 200 2.7 0.1 2.5 CtfFind/job003/tilt_series/TS_02.star 4 t1/reconstruction.mrc\n",
    )
    .unwrap();
    let mut tilts = String::from(
        "data_TS_01\nloop_\n_rlnMicrographMovieName\n_rlnTomoNominalStageTiltAngle\n\
         _rlnDefocusU\n_rlnDefocusV\n",
    );
    for (t, u, v) in [
        (0, 31_000, 29_000),
        (-3, 32_000, 30_000),
        (57, 33_000, 31_000),
        (3, 30_500, 29_500),
    ] {
        tilts += &format!("f_{t}.eer {t} {u} {v}\n");
    }
    std::fs::write(ts.join("TS_01.star"), tilts).unwrap();
    let star = job.join("tomograms.star");
    let out = dir.path().join("relion");
    let (good, log) = pick(&[&star], &out, &[]);
    assert!(!good, "TS_02's tilt series is missing: {log}");
    assert!(
        log.contains("TS_02.star") && log.contains("1 of 2 tomograms failed"),
        "{log}"
    );
    assert!(
        log.contains(
            "templates with the CTF at 3.08 µm defocus, 200 kV and the missing wedge of ±57.0°"
        ),
        "{log}"
    );
    assert_eq!(read(&out.join("TS_01.csv")), reference);

    // A CSV manifest's defocus and tilt_max columns do the same (the microscope from the
    // command line here).
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        "tomogram,name,defocus,tilt_max\nt1/reconstruction.mrc,TS_01,3.075,57\n",
    )
    .unwrap();
    let out = dir.path().join("manifest");
    let (good, log) = pick(&[&manifest], &out, &[]);
    assert!(good, "{log}");
    assert!(log.contains("CTF at 3.08 µm defocus, 300 kV and"), "{log}");
    // Its phase_flipped column says how each row's CTF was corrected.
    std::fs::write(
        &manifest,
        "tomogram,name,defocus,tilt_max,phase_flipped\nt1/reconstruction.mrc,TS_01,3.075,57,yes\n",
    )
    .unwrap();
    let out = dir.path().join("flipped");
    let (good, log) = pick(&[&manifest], &out, &[]);
    assert!(good, "{log}");
    assert!(
        log.contains("CTF at 3.08 µm defocus, 300 kV, phase-flipped"),
        "{log}"
    );
    // Values on the command line win over the manifest's.
    let out = dir.path().join("flags");
    std::fs::write(
        &manifest,
        "tomogram,name,defocus,tilt_max\nt1/reconstruction.mrc,TS_01,9,30\n",
    )
    .unwrap();
    let (good, log) = pick(&[&manifest], &out, &flags);
    assert!(good && !log.contains("templates with"), "{log}");
    assert_eq!(read(&out.join("TS_01.csv")), reference);
}
