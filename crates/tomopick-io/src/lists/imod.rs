//! IMOD point models (`.mod`, read only): every point of every contour, class `object_N`
//! (1-based object number) or the object's name, coordinates in pixels.

use super::ListContext;
use crate::error::{IoError, Result};
use crate::particle::Particle;
use crate::units::PosVoxel;
use std::path::Path;

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.at + n > self.b.len() {
            return Err(IoError::file(
                self.path,
                format!(
                    "truncated IMOD model: needed {n} bytes at offset {}",
                    self.at
                ),
            ));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn i32(&mut self) -> Result<i32> {
        let s = self.take(4)?;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Result<f32> {
        let s = self.take(4)?;
        Ok(f32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// Size of the model header after `IMODV1.2`, and of an object record after `OBJT`.
const MODEL_BYTES: usize = 232;
const OBJECT_BYTES: usize = 176;

/// Reads the points of an IMOD model; the voxel size must be known.
pub fn read_mod(path: &Path, ctx: &ListContext) -> Result<Vec<Particle>> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    if bytes.is_empty() {
        return Err(IoError::file(
            path,
            "the file is empty; expected an IMOD model",
        ));
    }
    if !bytes.starts_with(b"IMOD") {
        return Err(IoError::file(
            path,
            "does not start with 'IMOD': not an IMOD model file",
        ));
    }
    let vs = ctx.require_pixel_size(path, "IMOD model points")?;
    let mut c = Cursor {
        b: &bytes,
        at: 8,
        path,
    };
    c.take(MODEL_BYTES)?;
    let mut out = Vec::new();
    let mut object = 0usize;
    let mut object_name = String::new();
    loop {
        let tag = c.take(4)?.to_vec();
        match &tag[..] {
            b"IEOF" => break,
            b"OBJT" => {
                object += 1;
                let rec = c.take(OBJECT_BYTES)?;
                object_name = String::from_utf8_lossy(&rec[..64])
                    .trim_matches(char::from(0))
                    .trim()
                    .to_string();
            }
            b"CONT" => {
                let n = c.i32()?;
                if n < 0 {
                    return Err(IoError::file(
                        path,
                        format!("contour at offset {} has a negative point count", c.at),
                    ));
                }
                c.take(12)?; // flags, time, surf
                for _ in 0..n {
                    let (x, y, z) = (c.f32()? as f64, c.f32()? as f64, c.f32()? as f64);
                    let class = if object_name.is_empty() {
                        format!("object_{object}")
                    } else {
                        object_name.clone()
                    };
                    out.push(Particle::new(class, PosVoxel::new(x, y, z).to_angstrom(vs)));
                }
            }
            b"MESH" => {
                // vsize, lsize, flag, time, surf; then vsize 3-float vertices and lsize ints.
                let (nv, nl) = (c.i32()?, c.i32()?);
                if nv < 0 || nl < 0 {
                    return Err(IoError::file(
                        path,
                        format!("mesh at offset {} has negative sizes", c.at),
                    ));
                }
                c.take(8)?;
                c.take(nv as usize * 12 + nl as usize * 4)?;
            }
            _ => {
                // Any other chunk (MESH, IMAT, VIEW, MINX, SIZE, …) carries its byte length.
                let len = c.i32()?;
                if len < 0 {
                    return Err(IoError::file(
                        path,
                        format!(
                            "chunk {:?} has a negative length",
                            String::from_utf8_lossy(&tag)
                        ),
                    ));
                }
                c.take(len as usize)?;
            }
        }
    }
    Ok(out)
}
