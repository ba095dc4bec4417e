//! Plain point tables from other tools: comma, tab, pipe or space separated, with or
//! without a header.
//!
//! - Columns `x, y, z` (case-insensitive) or, without a header, the first three numeric
//!   columns, are **pixels** and need the voxel size.
//! - TARDIS headers (`X [A]`, `Y [A]`, `Z [A]`) are in Å; an `IDs` column becomes the class
//!   `instance_<id>`.
//! - STOPGAP motive lists (STAR, `_orig_x` + `_x_shift`, pixels) keep `_class` as the class.
//!   Their Euler angles are not read (the convention is not checked against STOPGAP yet).

use super::ListContext;
use super::star::parse_star;
use crate::error::{IoError, Result};
use crate::particle::Particle;
use crate::units::{PosAngstrom, PosVoxel};
use std::path::Path;

/// Reads a plain point table.
pub fn read_points(path: &Path, ctx: &ListContext) -> Result<Vec<Particle>> {
    let text = super::read_text(path, "a table of x y z points")?;
    if text.lines().any(|l| l.trim_start().starts_with("data_")) {
        return read_stopgap(path, &text, ctx);
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delim = ['\t', '|', ','].into_iter().find(|d| first.contains(*d));
    let split = |l: &str| -> Vec<String> {
        match delim {
            Some(d) => l.split(d).map(|s| s.trim().to_string()).collect(),
            None => l.split_whitespace().map(String::from).collect(),
        }
    };
    let head = split(first);
    let has_header = head.iter().any(|h| h.parse::<f64>().is_err());
    let lower: Vec<String> = head.iter().map(|h| h.to_lowercase()).collect();
    let find = |names: &[&str]| lower.iter().position(|h| names.contains(&h.as_str()));
    let (cols, in_angstrom, id_col) = if has_header {
        if let (Some(x), Some(y), Some(z)) = (find(&["x [a]"]), find(&["y [a]"]), find(&["z [a]"]))
        {
            ([x, y, z], true, find(&["ids"]))
        } else if let (Some(x), Some(y), Some(z)) = (find(&["x"]), find(&["y"]), find(&["z"])) {
            ([x, y, z], false, None)
        } else {
            return Err(IoError::line(
                path,
                1,
                format!("header {head:?} has no x, y, z columns"),
            ));
        }
    } else {
        ([0, 1, 2], false, None)
    };
    let px = if in_angstrom {
        None
    } else {
        Some(ctx.require_pixel_size(path, "point coordinates")?)
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(usize::from(has_header)) {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let t = split(line);
        let f = |k: usize| -> Result<f64> {
            let s = t.get(k).map(String::as_str).unwrap_or("");
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    IoError::line(path, n, format!("column {}: '{s}' is not a number", k + 1))
                })
        };
        let (x, y, z) = (f(cols[0])?, f(cols[1])?, f(cols[2])?);
        let pos = match px {
            Some(vs) => PosVoxel::new(x, y, z).to_angstrom(vs),
            None => PosAngstrom::new(x, y, z),
        };
        let class = match id_col {
            Some(k) => format!("instance_{}", t.get(k).map(String::as_str).unwrap_or("")),
            None => "particle".to_string(),
        };
        out.push(Particle::new(class, pos));
    }
    Ok(out)
}

fn read_stopgap(path: &Path, text: &str, ctx: &ListContext) -> Result<Vec<Particle>> {
    let star = parse_star(path, text)?;
    let b = star
        .blocks
        .iter()
        .find(|b| b.has_all(&["orig_x", "orig_y", "orig_z"]))
        .ok_or_else(|| {
            IoError::field(
                path,
                "orig_x/orig_y/orig_z",
                "no block has STOPGAP coordinate columns",
            )
        })?;
    let px = ctx.require_pixel_size(path, "STOPGAP coordinates")?;
    let mut out = Vec::new();
    for r in 0..b.rows.len() {
        let g = |l: &str| b.number(path, r, l).map(|v| v.unwrap_or(0.0));
        let v = PosVoxel::new(
            g("orig_x")? + g("x_shift")?,
            g("orig_y")? + g("y_shift")?,
            g("orig_z")? + g("z_shift")?,
        );
        let mut p = Particle::new(b.text(r, "class").unwrap_or("particle"), v.to_angstrom(px));
        p.score = b.number(path, r, "score")?;
        p.tomogram = b.text(r, "tomo_num").map(|t| format!("tomo_{t}"));
        out.push(p);
    }
    Ok(out)
}
