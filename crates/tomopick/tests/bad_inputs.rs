//! The catalogue of bad inputs (`tests/bad_inputs.toml`): every case must fail cleanly, name
//! the file and the field or line, and leave no output behind.

mod common;
use common::{root, tomopick};
use std::path::{Path, PathBuf};
use tomopick_io::{MrcWriteMode, Volume, VoxelSize, write_mrc};

/// Replaces the placeholders of one argument.
fn expand(arg: &str, tmp: &Path) -> String {
    arg.replace("{out}", &tmp.join("out").to_string_lossy())
        .replace("{tmp}", &tmp.to_string_lossy())
        .replace(
            "{fix}",
            &root().join("tests/fixtures/made").to_string_lossy(),
        )
}

/// Makes a derived input (see the table's header for the operations).
fn derive(spec: &toml::Table, tmp: &Path) {
    let to = tmp.join(spec["to"].as_str().unwrap());
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let op = spec["op"].as_str().unwrap();
    let from = || {
        let f = expand(spec["from"].as_str().unwrap(), tmp);
        let p = if Path::new(&f).is_absolute() {
            PathBuf::from(f)
        } else {
            root().join(f)
        };
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let (name, n) = op.split_once(':').unwrap_or((op, ""));
    let bytes = match name {
        "truncate" => from()[..n.parse::<usize>().unwrap()].to_vec(),
        "tail" => {
            let b = from();
            b[..b.len() - n.parse::<usize>().unwrap()].to_vec()
        }
        "flip" => {
            let mut b = from();
            b[n.parse::<usize>().unwrap()] ^= 0x10;
            b
        }
        "mrc" => {
            let d: Vec<usize> = n.split(',').map(|v| v.parse().unwrap()).collect();
            let data = ndarray::Array3::from_shape_fn((d[2], d[1], d[0]), |(z, y, x)| {
                ((x * 7 + y * 3 + z) as f32 * 0.37).sin()
            });
            write_mrc(
                &to,
                &Volume::new(data, VoxelSize::isotropic(10.0)),
                MrcWriteMode::Float32,
            )
            .unwrap();
            return;
        }
        "gzip-half" => {
            let src = tmp.join("plain.mrc");
            std::fs::write(&src, from()).unwrap();
            let o = std::process::Command::new("gzip")
                .arg("-c")
                .arg(&src)
                .output()
                .unwrap();
            assert!(o.status.success());
            o.stdout[..o.stdout.len() / 2].to_vec()
        }
        "gzip-junk" => b"this is plain text, not gzip data\n".to_vec(),
        other => panic!("unknown derive op {other}"),
    };
    std::fs::write(&to, bytes).unwrap();
}

/// Paths under `tmp` whose name starts with `out` (besides those the case made itself).
fn outputs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("out"))
        .collect()
}

#[test]
fn every_bad_input_in_the_catalogue_is_refused_cleanly() {
    let text = std::fs::read_to_string(root().join("tests/bad_inputs.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let cases = table["case"].as_array().unwrap();
    assert!(
        cases.len() >= 40,
        "the catalogue holds {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let case = case.as_table().unwrap();
        let name = case["name"].as_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        if let Some(d) = case.get("derive") {
            derive(d.as_table().unwrap(), tmp);
        }
        if let Some(files) = case.get("files") {
            for (f, content) in files.as_table().unwrap() {
                let p = tmp.join(f);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, content.as_str().unwrap()).unwrap();
            }
        }
        let before = outputs(tmp);
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| expand(a.as_str().unwrap(), tmp))
            .collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = tomopick(&argv);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        let mut problems = Vec::new();
        if o.status.success() {
            problems.push("exited 0".to_string());
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if !err.lines().any(|l| l.starts_with("error: ")) {
            problems.push("no `error:` line".into());
        }
        for e in case["expect"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            if !err.contains(e) {
                problems.push(format!("message lacks {e:?}"));
            }
        }
        let keep = case
            .get("keep_out")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let left: Vec<String> = outputs(tmp)
            .into_iter()
            .filter(|n| !before.contains(n))
            .collect();
        if !keep && !left.is_empty() {
            problems.push(format!("left output behind: {left:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n    {argv:?}\n    {}",
                problems.join("; "),
                err.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
