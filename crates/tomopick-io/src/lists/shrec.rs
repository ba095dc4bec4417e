//! SHREC `particle_locations.txt`: `class x y z rotZ1 rotX rotZ2` per line, positions in
//! voxels of the tomogram, angles in degrees (see [`Rotation::from_shrec_zxz_deg`]).

use super::{ListContext, num};
use crate::atomic::write_atomic;
use crate::error::{IoError, Result};
use crate::particle::{Particle, Rotation};
use crate::units::PosVoxel;
use std::io::Write;
use std::path::Path;

/// Reads a SHREC list; the voxel size must be known. The lines are checked first, so a text
/// file that is not a SHREC list is refused as such, whatever the context.
pub fn read_shrec(path: &Path, ctx: &ListContext) -> Result<Vec<Particle>> {
    let text = super::read_text(path, "lines of 'class x y z rotZ1 rotX rotZ2'")?;
    let rows = parse_rows(path, &text)?;
    let vs = ctx.require_pixel_size(path, "SHREC positions")?;
    Ok(rows
        .into_iter()
        .map(|(class, xyz, rot)| {
            let mut p = Particle::new(class, PosVoxel::new(xyz[0], xyz[1], xyz[2]).to_angstrom(vs));
            p.rotation = rot.map(|[a, b, c]| Rotation::from_shrec_zxz_deg(a, b, c));
            p
        })
        .collect())
}

/// One SHREC line: class, voxel position, ZXZ angles in degrees.
type Row = (String, [f64; 3], Option<[f64; 3]>);

fn parse_rows(path: &Path, text: &str) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.is_empty() || t[0].starts_with('#') {
            continue;
        }
        if t.len() != 4 && t.len() != 7 {
            return Err(IoError::line(
                path,
                n,
                format!(
                    "expected 4 or 7 fields (class x y z [rotZ1 rotX rotZ2]), found {}; a .txt \
                     list is read as SHREC particle_locations.txt (pass --format for another)",
                    t.len()
                ),
            ));
        }
        let f = |k: usize, name: &str| -> Result<f64> {
            t[k].parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    IoError::line(path, n, format!("field {name}: '{}' is not a number", t[k]))
                })
        };
        let xyz = [f(1, "x")?, f(2, "y")?, f(3, "z")?];
        let rot = if t.len() == 7 {
            Some([f(4, "rotZ1")?, f(5, "rotX")?, f(6, "rotZ2")?])
        } else {
            None
        };
        out.push((t[0].to_string(), xyz, rot));
    }
    Ok(out)
}

/// Writes a SHREC list (positions in voxels; zero angles where no orientation is known).
pub fn write_shrec(path: &Path, particles: &[Particle], ctx: &ListContext) -> Result<()> {
    let vs = ctx.require_pixel_size(path, "SHREC positions")?;
    if let Some(p) = particles
        .iter()
        .find(|p| p.class.contains(char::is_whitespace))
    {
        return Err(IoError::Units(format!(
            "{}: class name '{}' contains a space, which SHREC's format cannot hold",
            path.display(),
            p.class
        )));
    }
    write_atomic(path, |w| {
        for p in particles {
            let v = p.pos_a.to_voxels(vs);
            let [a, b, c] = p.rotation.map(|r| r.to_shrec_zxz_deg()).unwrap_or([0.0; 3]);
            writeln!(
                w,
                "{} {} {} {} {} {} {}",
                p.class,
                num(v.x),
                num(v.y),
                num(v.z),
                num(a),
                num(b),
                num(c)
            )?;
        }
        Ok(())
    })
}
