//! tomopick's CSV: header `class,x,y,z,score` with positions in Å from the centre of voxel 0.
//! Optional extra columns: `rot,tilt,psi` (RELION ZYZ, degrees) and `tomogram`.

use super::num;
use crate::atomic::write_atomic;
use crate::error::{IoError, Result};
use crate::particle::{Particle, Rotation};
use crate::units::PosAngstrom;
use std::io::Write;
use std::path::Path;

/// Reads our CSV. Errors name the line and column of a bad cell.
pub fn read_csv(path: &Path) -> Result<Vec<Particle>> {
    let text = super::read_text(path, "a CSV with the header class,x,y,z,score")?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| IoError::line(path, 1, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ci), Some(xi), Some(yi), Some(zi)) = (col("class"), col("x"), col("y"), col("z"))
    else {
        return Err(IoError::line(
            path,
            1,
            format!(
                "header {headers:?} lacks one of class, x, y, z (expected class,x,y,z,score, in Å)"
            ),
        ));
    };
    let (si, ti) = (col("score"), col("tomogram"));
    let angles = match (col("rot"), col("tilt"), col("psi")) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| IoError::line(path, line, format!("{e}")))?;
        let number = |idx: usize, name: &str| -> Result<f64> {
            let s = rec.get(idx).unwrap_or("");
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    IoError::line(path, line, format!("column {name}: '{s}' is not a number"))
                })
        };
        let optional = |idx: Option<usize>, name: &str| -> Result<Option<f64>> {
            match idx.and_then(|k| rec.get(k)) {
                None | Some("") => Ok(None),
                Some(_) => number(idx.unwrap_or(0), name).map(Some),
            }
        };
        let mut p = Particle::new(
            rec.get(ci).unwrap_or("").to_string(),
            PosAngstrom::new(number(xi, "x")?, number(yi, "y")?, number(zi, "z")?),
        );
        if p.class.is_empty() {
            return Err(IoError::line(path, line, "column class is empty"));
        }
        p.score = optional(si, "score")?;
        if let Some([a, b, c]) = angles
            && let (Some(r), Some(t), Some(s)) = (
                optional(Some(a), "rot")?,
                optional(Some(b), "tilt")?,
                optional(Some(c), "psi")?,
            )
        {
            p.rotation = Some(Rotation::from_relion_zyz_deg(r, t, s));
        }
        p.tomogram = ti
            .and_then(|k| rec.get(k))
            .filter(|s| !s.is_empty())
            .map(String::from);
        out.push(p);
    }
    Ok(out)
}

/// Writes our CSV; adds `rot,tilt,psi` when any particle has an orientation and `tomogram`
/// when any has a tomogram name.
pub fn write_csv(path: &Path, particles: &[Particle]) -> Result<()> {
    let with_rot = particles.iter().any(|p| p.rotation.is_some());
    let with_tomo = particles.iter().any(|p| p.tomogram.is_some());
    write_atomic(path, |w| {
        write!(w, "class,x,y,z,score")?;
        if with_rot {
            write!(w, ",rot,tilt,psi")?;
        }
        if with_tomo {
            write!(w, ",tomogram")?;
        }
        writeln!(w)?;
        for p in particles {
            let class = if p.class.contains([',', '"']) {
                format!("\"{}\"", p.class.replace('"', "\"\""))
            } else {
                p.class.clone()
            };
            write!(
                w,
                "{class},{},{},{},{}",
                num(p.pos_a.x),
                num(p.pos_a.y),
                num(p.pos_a.z),
                p.score.map(num).unwrap_or_default()
            )?;
            if with_rot {
                match p.rotation {
                    Some(r) => {
                        let [a, b, c] = r.to_relion_zyz_deg();
                        write!(w, ",{},{},{}", num(a), num(b), num(c))?;
                    }
                    None => write!(w, ",,,")?,
                }
            }
            if with_tomo {
                write!(w, ",{}", p.tomogram.as_deref().unwrap_or(""))?;
            }
            writeln!(w)?;
        }
        Ok(())
    })
}
