//! Preview images: central slices of a tomogram (XY at the middle Z, XZ at the middle Y), each
//! the mean of 5 neighbouring slices, contrast-stretched between the 1st and 99th percentile,
//! with a circle for every pick that cuts the slice (colour per class).

use ndarray::Array3;
use std::path::Path;
use tomopick_io::{IoError, Result};

/// A pick to draw: centre in voxels `[x, y, z]`, radius in voxels, class index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// Centre, voxels `[x, y, z]`.
    pub centre_vox: [f64; 3],
    /// Radius, voxels.
    pub radius_vox: f64,
    /// Class index (picks the colour).
    pub class: usize,
}

impl Mark {
    /// Marks for `picks` drawn on a grid of `vs`: each pick of a class of `model` with that
    /// class's radius (picks of other classes are left out).
    pub fn for_picks(
        picks: &[tomopick_io::Particle],
        model: &tomopick_nn::DetectorModel,
        vs: tomopick_io::VoxelSize,
    ) -> Vec<Mark> {
        picks
            .iter()
            .filter_map(|p| {
                let class = model.config.classes.iter().position(|c| *c == p.class)?;
                Some(Mark {
                    centre_vox: p.pos_a.to_voxels(vs).as_array(),
                    radius_vox: model.config.class_diameters_vox[class] / 2.0,
                    class,
                })
            })
            .collect()
    }
}

const PALETTE: [[u8; 3]; 14] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [210, 245, 60],
    [250, 190, 212],
    [0, 128, 128],
    [220, 190, 255],
    [170, 110, 40],
    [255, 250, 200],
];

/// An RGB image.
struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = 3 * (y as usize * self.w + x as usize);
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }
    fn circle(&mut self, cx: f64, cy: f64, r: f64, c: [u8; 3]) {
        let steps = ((2.0 * std::f64::consts::PI * r) as usize).max(8) * 2;
        for i in 0..steps {
            let t = i as f64 / steps as f64 * 2.0 * std::f64::consts::PI;
            self.put(
                (cx + r * t.cos()).round() as i64,
                (cy + r * t.sin()).round() as i64,
                c,
            );
        }
    }
}

/// Grey levels of a slice (`w × h`, row-major), stretched between its 1st and 99th percentile.
fn stretch(values: &[f32]) -> Vec<u8> {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return vec![0; values.len()];
    }
    sorted.sort_by(f32::total_cmp);
    let lo = sorted[sorted.len() / 100];
    let hi = sorted[sorted.len() * 99 / 100];
    let span = if hi > lo { hi - lo } else { 1.0 };
    values
        .iter()
        .map(|&v| (((v - lo) / span).clamp(0.0, 1.0) * 255.0) as u8)
        .collect()
}

/// Writes the preview of `data` (`[z, y, x]`) with `marks` to `path` as PNG.
pub fn write_preview(path: &Path, data: &Array3<f32>, marks: &[Mark]) -> Result<()> {
    let (nz, ny, nx) = data.dim();
    let (zc, yc) = (nz / 2, ny / 2);
    let avg = |range: std::ops::Range<usize>, f: &dyn Fn(usize) -> f32| -> f32 {
        let n = range.len().max(1) as f32;
        range.map(f).sum::<f32>() / n
    };
    let zr = zc.saturating_sub(2)..(zc + 3).min(nz);
    let yr = yc.saturating_sub(2)..(yc + 3).min(ny);
    let xy: Vec<f32> = (0..ny * nx)
        .map(|i| avg(zr.clone(), &|z| data[[z, i / nx, i % nx]]))
        .collect();
    let xz: Vec<f32> = (0..nz * nx)
        .map(|i| avg(yr.clone(), &|y| data[[i / nx, y, i % nx]]))
        .collect();
    let gap = 4;
    let (w, h) = (nx, ny + gap + nz);
    let mut canvas = Canvas {
        w,
        h,
        rgb: vec![255; 3 * w * h],
    };
    for (i, g) in stretch(&xy).into_iter().enumerate() {
        canvas.put((i % nx) as i64, (i / nx) as i64, [g; 3]);
    }
    for (i, g) in stretch(&xz).into_iter().enumerate() {
        // Z grows downwards under the XY panel.
        canvas.put((i % nx) as i64, (ny + gap + i / nx) as i64, [g; 3]);
    }
    for m in marks {
        let c = PALETTE[m.class % PALETTE.len()];
        let [x, y, z] = m.centre_vox;
        let dz = z - zc as f64;
        if dz.abs() < m.radius_vox {
            canvas.circle(x, y, (m.radius_vox.powi(2) - dz * dz).sqrt(), c);
        }
        let dy = y - yc as f64;
        if dy.abs() < m.radius_vox {
            canvas.circle(
                x,
                (ny + gap) as f64 + z,
                (m.radius_vox.powi(2) - dy * dy).sqrt(),
                c,
            );
        }
    }
    tomopick_io::atomic::write_atomic(path, |f| {
        let mut enc = png::Encoder::new(f, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(std::io::Error::other)?;
        writer
            .write_image_data(&canvas.rgb)
            .map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)
    })
    .map_err(|e: IoError| e)
}
