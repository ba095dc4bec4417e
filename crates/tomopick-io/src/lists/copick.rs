//! copick picks JSON: one file per object (class) and run, positions in Å, orientation as a
//! 4×4 `transformation_` whose rotation block is the object-to-tomogram rotation and whose
//! last column is an extra shift in Å.

use crate::atomic::write_atomic;
use crate::error::{IoError, Result};
use crate::particle::{Particle, Rotation, class_names, tomogram_names};
use crate::units::PosAngstrom;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct Location {
    x: f64,
    y: f64,
    z: f64,
}

#[derive(Serialize, Deserialize)]
struct Point {
    location: Location,
    #[serde(default)]
    transformation_: Option<[[f64; 4]; 4]>,
    #[serde(default)]
    instance_id: Option<i64>,
    #[serde(default)]
    score: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct PicksFile {
    pickable_object_name: String,
    user_id: Option<String>,
    session_id: Option<String>,
    run_name: Option<String>,
    voxel_spacing: Option<f64>,
    unit: Option<String>,
    points: Vec<Point>,
}

/// Reads one copick picks file, or every `*.json` picks file under a folder.
pub fn read_copick(path: &Path) -> Result<Vec<Particle>> {
    if path.is_dir() {
        let mut files = Vec::new();
        collect_json(path, &mut files).map_err(|e| IoError::os(path, e))?;
        files.sort();
        if files.is_empty() {
            return Err(IoError::file(
                path,
                "the folder holds no copick picks (*.json) files",
            ));
        }
        let mut out = Vec::new();
        for f in files {
            out.extend(read_file(&f)?);
        }
        return Ok(out);
    }
    read_file(path)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_json(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<Particle>> {
    let text = super::read_text(path, "a copick picks JSON file")?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| IoError::line(path, e.line(), format!("not valid JSON: {e}")))?;
    for field in ["pickable_object_name", "points"] {
        if value.get(field).is_none() {
            return Err(IoError::field(
                path,
                field,
                "missing: this JSON is not a copick picks file",
            ));
        }
    }
    let file: PicksFile = serde_json::from_value(value)
        .map_err(|e| IoError::file(path, format!("not a copick picks file: {e}")))?;
    if let Some(u) = &file.unit
        && u != "angstrom"
    {
        return Err(IoError::field(
            path,
            "unit",
            format!("'{u}' is not supported; copick picks are in angstrom"),
        ));
    }
    Ok(file
        .points
        .into_iter()
        .map(|pt| {
            let t = pt.transformation_;
            let shift = t.map(|m| [m[0][3], m[1][3], m[2][3]]).unwrap_or([0.0; 3]);
            let mut p = Particle::new(
                file.pickable_object_name.clone(),
                PosAngstrom::new(
                    pt.location.x + shift[0],
                    pt.location.y + shift[1],
                    pt.location.z + shift[2],
                ),
            );
            p.rotation = t.map(|m| {
                Rotation::from_rows([
                    [m[0][0], m[0][1], m[0][2]],
                    [m[1][0], m[1][1], m[1][2]],
                    [m[2][0], m[2][1], m[2][2]],
                ])
            });
            p.score = pt.score;
            p.tomogram = file.run_name.clone();
            p
        })
        .collect())
}

/// Writes copick picks. A `.json` path takes one class of one run; any other path is a
/// folder that receives `<run>/Picks/tomopick_0_<class>.json` for every run and class.
pub fn write_copick(path: &Path, particles: &[Particle]) -> Result<()> {
    let classes = class_names(particles);
    let runs = tomogram_names(particles);
    if path.extension().is_some_and(|e| e == "json") {
        if classes.len() > 1 || runs.len() > 1 {
            return Err(IoError::Units(format!(
                "{}: a copick picks file holds one object of one run, but these particles have {} classes and {} runs; give a folder instead of a .json path",
                path.display(),
                classes.len(),
                runs.len()
            )));
        }
        let run = runs.into_iter().next().flatten();
        let class = classes
            .into_iter()
            .next()
            .unwrap_or_else(|| "particle".into());
        return write_one(path, &class, run.as_deref(), particles);
    }
    for run in &runs {
        for class in &classes {
            let sel: Vec<Particle> = particles
                .iter()
                .filter(|p| &p.class == class && &p.tomogram == run)
                .cloned()
                .collect();
            if sel.is_empty() {
                continue;
            }
            let dir = path.join(run.as_deref().unwrap_or("run")).join("Picks");
            std::fs::create_dir_all(&dir).map_err(|e| IoError::os(&dir, e))?;
            write_one(
                &dir.join(format!("tomopick_0_{class}.json")),
                class,
                run.as_deref(),
                &sel,
            )?;
        }
    }
    Ok(())
}

fn write_one(path: &Path, class: &str, run: Option<&str>, particles: &[Particle]) -> Result<()> {
    write_picks_file(path, class, "tomopick", "0", run, particles)
}

/// Writes one copick picks file: `particles` as points of `object`, under `user` and `session`,
/// in `run` (positions in Å, orientations as `transformation_`).
pub fn write_picks_file(
    path: &Path,
    object: &str,
    user: &str,
    session: &str,
    run: Option<&str>,
    particles: &[Particle],
) -> Result<()> {
    let points = particles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let r = p.rotation.unwrap_or(Rotation::IDENTITY).to_rows();
            Point {
                location: Location {
                    x: p.pos_a.x,
                    y: p.pos_a.y,
                    z: p.pos_a.z,
                },
                transformation_: Some([
                    [r[0][0], r[0][1], r[0][2], 0.0],
                    [r[1][0], r[1][1], r[1][2], 0.0],
                    [r[2][0], r[2][1], r[2][2], 0.0],
                    [0.0, 0.0, 0.0, 1.0],
                ]),
                instance_id: Some(i as i64),
                score: Some(p.score.unwrap_or(1.0)),
            }
        })
        .collect();
    let file = PicksFile {
        pickable_object_name: object.to_string(),
        user_id: Some(user.into()),
        session_id: Some(session.into()),
        run_name: run.map(String::from),
        voxel_spacing: None,
        unit: Some("angstrom".into()),
        points,
    };
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| IoError::file(path, e.to_string()))?;
    write_atomic(path, |w| std::io::Write::write_all(w, text.as_bytes()))
}
