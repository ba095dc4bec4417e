//! RELION particle STAR files.
//!
//! - 3.1/4: `rlnCoordinateX/Y/Z` in pixels. The pixel size comes from `--voxel-size`/`--binning`
//!   or from the file (`rlnMicrographOriginalPixelSize`, `rlnTomoTiltSeriesPixelSize`,
//!   `rlnPixelSize`, or `rlnDetectorPixelSize`/`rlnMagnification`); when both exist they must agree.
//! - 5: `rlnCenteredCoordinateX/Y/ZAngst`, Å from the tomogram centre at `size / 2` voxels.
//!
//! A pixel coordinate `c` is taken as a 0-based voxel index, so the position is `c × pixel`.
//! Origin shifts (`rlnOriginX/Y/ZAngst`, or `rlnOriginX/Y/Z` in pixels) are subtracted,
//! as RELION does. Angles are `rlnAngleRot/Tilt/Psi` (see [`Rotation::from_relion_zyz_deg`]).
//! Class names are written as `rlnClassNumber` with a `# tomopick class N = name` comment
//! that maps them back on reading.

use super::star::{StarBlock, StarFile, parse_star, write_loop};
use super::{ListContext, num};
use crate::atomic::write_atomic;
use crate::error::{IoError, Result};
use crate::particle::{Particle, Rotation, class_names};
use crate::units::{PosAngstrom, VoxelSize};
use std::collections::HashMap;
use std::path::Path;

const XYZ: [&str; 3] = ["rlnCoordinateX", "rlnCoordinateY", "rlnCoordinateZ"];
const CENTRED: [&str; 3] = [
    "rlnCenteredCoordinateXAngst",
    "rlnCenteredCoordinateYAngst",
    "rlnCenteredCoordinateZAngst",
];
const ANGLES: [&str; 3] = ["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"];
const SCORE: &str = "rlnAutopickFigureOfMerit";
const CLASS_COMMENT: &str = "tomopick class ";

/// Reads a RELION 3.1, 4 or 5 particle STAR file.
pub fn read_star(path: &Path, ctx: &ListContext) -> Result<Vec<Particle>> {
    let text = super::read_text(path, "a RELION particle STAR file")?;
    let star = parse_star(path, &text)?;
    let block = star
        .block("particles")
        .filter(|b| b.has_all(&XYZ) || b.has_all(&CENTRED))
        .or_else(|| star.blocks.iter().find(|b| b.has_all(&XYZ) || b.has_all(&CENTRED)))
        .ok_or_else(|| {
            IoError::field(path, "rlnCoordinateX/Y/Z", "no block has coordinate columns (rlnCoordinateX/Y/Z or rlnCenteredCoordinateX/Y/ZAngst)")
        })?;
    let class_map = class_map(&star);
    let centred = block.has_all(&CENTRED);
    let scale = if centred {
        VoxelSize::isotropic(1.0)
    } else {
        pixel_size(path, &star, block, ctx)?
    };
    let cols = if centred { CENTRED } else { XYZ };
    let mut out = Vec::with_capacity(block.rows.len());
    for r in 0..block.rows.len() {
        let get = |l: &str| block.number(path, r, l);
        let c = [
            get(cols[0])?.unwrap_or(0.0),
            get(cols[1])?.unwrap_or(0.0),
            get(cols[2])?.unwrap_or(0.0),
        ];
        let tomo = block
            .text(r, "rlnTomoName")
            .or_else(|| block.text(r, "rlnMicrographName"));
        let offset_a = if centred {
            tomogram_centre(path, ctx, tomo)?
        } else {
            [0.0; 3]
        };
        let mut pos = [
            c[0] * scale.x + offset_a[0],
            c[1] * scale.y + offset_a[1],
            c[2] * scale.z + offset_a[2],
        ];
        // Origin shifts: the particle sits at coordinate − origin.
        for (k, axis) in ["X", "Y", "Z"].iter().enumerate() {
            if let Some(o) = get(&format!("rlnOrigin{axis}Angst"))? {
                pos[k] -= o;
            } else if let Some(o) = get(&format!("rlnOrigin{axis}"))? {
                pos[k] -= o * [scale.x, scale.y, scale.z][k];
            }
        }
        let class = match block.text(r, "rlnClassNumber") {
            Some(n) => class_map.get(n).cloned().unwrap_or_else(|| n.to_string()),
            None => "particle".to_string(),
        };
        let mut p = Particle::new(class, PosAngstrom::new(pos[0], pos[1], pos[2]));
        if block.has_all(&ANGLES) {
            p.rotation = Some(Rotation::from_relion_zyz_deg(
                get(ANGLES[0])?.unwrap_or(0.0),
                get(ANGLES[1])?.unwrap_or(0.0),
                get(ANGLES[2])?.unwrap_or(0.0),
            ));
        }
        p.score = get(SCORE)?;
        p.tomogram = tomo.map(String::from);
        out.push(p);
    }
    Ok(out)
}

fn need_tomo(path: &Path) -> IoError {
    IoError::Units(format!(
        "{}: RELION 5 centred coordinates (rlnCenteredCoordinateX/Y/ZAngst) are relative to the tomogram centre; pass the project's tomograms.star (--tomograms), the tomogram (--tomogram T.mrc) or --tomo-size X,Y,Z with --voxel-size",
        path.display()
    ))
}

/// The centre in Å of the tomogram `tomo` (its `rlnTomoName`): from the context's
/// `tomograms.star` when it lists the name, else from the context's size and voxel size.
fn tomogram_centre(path: &Path, ctx: &ListContext, tomo: Option<&str>) -> Result<[f64; 3]> {
    if let Some(list) = &ctx.relion_tomograms {
        let name = tomo.unwrap_or("");
        let t = list.iter().find(|t| t.name == name).ok_or_else(|| {
            IoError::Units(format!(
                "{}: tomogram '{name}' (rlnTomoName) is not in the tomograms.star given",
                path.display()
            ))
        })?;
        return match (t.size_unbinned_xyz, t.pixel_size_a) {
            (Some(s), Some(px)) => Ok(s.map(|n| n as f64 * px / 2.0)),
            _ => Err(IoError::Units(format!(
                "{}: tomograms.star has no rlnTomoSizeX/Y/Z and rlnTomoTiltSeriesPixelSize for '{name}', so its centre is unknown",
                path.display()
            ))),
        };
    }
    let vs = ctx.voxel_size.ok_or_else(|| need_tomo(path))?;
    let shape = ctx.tomo_shape_xyz.ok_or_else(|| need_tomo(path))?;
    Ok([
        shape[0] as f64 / 2.0 * vs.x,
        shape[1] as f64 / 2.0 * vs.y,
        shape[2] as f64 / 2.0 * vs.z,
    ])
}

fn class_map(star: &StarFile) -> HashMap<String, String> {
    star.comments
        .iter()
        .filter_map(|c| c.strip_prefix(CLASS_COMMENT))
        .filter_map(|c| c.split_once(" = "))
        .map(|(n, name)| (n.trim().to_string(), name.trim().to_string()))
        .collect()
}

/// The pixel size of the coordinates: from the flags, from the file, and both must agree.
fn pixel_size(
    path: &Path,
    star: &StarFile,
    block: &StarBlock,
    ctx: &ListContext,
) -> Result<VoxelSize> {
    let optics = star.block("optics");
    let first = |b: Option<&StarBlock>, l: &str| -> Result<Option<f64>> {
        match b {
            Some(b) if !b.rows.is_empty() => b.number(path, 0, l),
            _ => Ok(None),
        }
    };
    let mut from_file = None;
    for (b, label) in [
        (optics, "rlnMicrographOriginalPixelSize"),
        (optics, "rlnTomoTiltSeriesPixelSize"),
        (Some(block), "rlnTomoTiltSeriesPixelSize"),
        (Some(block), "rlnPixelSize"),
    ] {
        if let Some(v) = first(b, label)? {
            from_file = Some((v, label.to_string()));
            break;
        }
    }
    if from_file.is_none()
        && let (Some(d), Some(m)) = (
            first(Some(block), "rlnDetectorPixelSize")?,
            first(Some(block), "rlnMagnification")?,
        )
        && m > 0.0
    {
        from_file = Some((d * 1e4 / m, "rlnDetectorPixelSize/rlnMagnification".into()));
    }
    match (ctx.pixel_size(), from_file) {
        (Some(flag), Some((file, label))) => {
            if (flag.x - file).abs() > 1e-3 * file {
                return Err(IoError::field(
                    path,
                    label,
                    format!(
                        "the file says the coordinate pixel is {file} Å but --voxel-size/--binning give {:.4} Å; fix --binning (coordinates are in pixels of {file} Å), or drop the flags to use the file's",
                        flag.x
                    ),
                ));
            }
            Ok(flag)
        }
        (Some(flag), None) => Ok(flag),
        (None, Some((file, _))) if file > 0.0 => Ok(VoxelSize::isotropic(file)),
        _ => Err(IoError::Units(format!(
            "{}: rlnCoordinateX/Y/Z are in pixels and the file states no pixel size; pass --voxel-size (and --binning if the coordinates refer to unbinned data)",
            path.display()
        ))),
    }
}

/// Class numbers (1-based: the context's class order, else sorted names) and the comment
/// lines that map them back.
fn class_numbers(
    particles: &[Particle],
    order: Option<&[String]>,
) -> (HashMap<String, usize>, Vec<String>) {
    let present = class_names(particles);
    let names: Vec<String> = match order {
        Some(o) => o
            .iter()
            .cloned()
            .chain(present.into_iter().filter(|n| !o.contains(n)))
            .collect(),
        None => present,
    };
    let all_numeric = order.is_none() && names.iter().all(|n| n.parse::<usize>().is_ok());
    let mut map = HashMap::new();
    let mut comments = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let k = if all_numeric {
            n.parse().unwrap_or(i + 1)
        } else {
            i + 1
        };
        map.insert(n.clone(), k);
        if !all_numeric {
            comments.push(format!("# {CLASS_COMMENT}{k} = {n}"));
        }
    }
    (map, comments)
}

fn common_columns(p: &Particle, classes: &HashMap<String, usize>) -> Vec<String> {
    let [a, b, c] = p
        .rotation
        .map(|r| r.to_relion_zyz_deg())
        .unwrap_or([0.0; 3]);
    vec![
        p.tomogram.clone().unwrap_or_else(|| "tomogram".into()),
        num(a),
        num(b),
        num(c),
        classes[&p.class].to_string(),
        "1".into(),
        num(p.score.unwrap_or(0.0)),
    ]
}

const COMMON: [&str; 7] = [
    "rlnTomoName",
    "rlnAngleRot",
    "rlnAngleTilt",
    "rlnAnglePsi",
    "rlnClassNumber",
    "rlnOpticsGroup",
    SCORE,
];

/// What differs between the RELION 4 and 5 writers.
struct StarLayout<'a> {
    header: Vec<String>,
    optics_labels: &'a [&'a str],
    optics_row: Vec<String>,
    coord_labels: [&'a str; 3],
}

/// Writes the optics block and the particle table, with `coords` giving the three
/// coordinate values of each particle in the file's unit.
fn write_star(
    path: &Path,
    particles: &[Particle],
    ctx: &ListContext,
    layout: StarLayout<'_>,
    coords: impl Fn(usize, &Particle) -> [f64; 3],
) -> Result<()> {
    let (classes, comments) = class_numbers(particles, ctx.classes.as_deref());
    let rows: Vec<Vec<String>> = particles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut r: Vec<String> = coords(i, p).into_iter().map(num).collect();
            r.extend(common_columns(p, &classes));
            r
        })
        .collect();
    let mut labels: Vec<&str> = layout.coord_labels.to_vec();
    labels.extend(COMMON);
    write_atomic(path, |w| {
        use std::io::Write;
        for line in layout.header.iter().chain(&comments) {
            writeln!(w, "{line}")?;
        }
        write_loop(
            w,
            "optics",
            layout.optics_labels,
            std::slice::from_ref(&layout.optics_row),
        )?;
        write_loop(w, "particles", &labels, &rows)
    })
}

/// Writes RELION 3.1/4 style: an optics block with the coordinate pixel size and pixel coordinates.
pub fn write_relion4(path: &Path, particles: &[Particle], ctx: &ListContext) -> Result<()> {
    let px = ctx.require_pixel_size(path, "RELION 4 coordinates")?;
    if !px.is_isotropic() {
        return Err(IoError::Units(format!(
            "{}: RELION holds one pixel size, but the voxel size {px} is anisotropic",
            path.display()
        )));
    }
    let layout = StarLayout {
        header: vec!["# version 30001 (RELION 4 tomography particles, written by tomopick)".into()],
        optics_labels: &[
            "rlnOpticsGroup",
            "rlnOpticsGroupName",
            "rlnMicrographOriginalPixelSize",
            "rlnImagePixelSize",
        ],
        optics_row: vec!["1".into(), "opticsGroup1".into(), num(px.x), num(px.x)],
        coord_labels: XYZ,
    };
    write_star(path, particles, ctx, layout, |_, p| {
        p.pos_a.to_voxels(px).as_array()
    })
}

/// Writes RELION 5 style: centred Å coordinates (needs the tomogram size and voxel size).
pub fn write_relion5(path: &Path, particles: &[Particle], ctx: &ListContext) -> Result<()> {
    // The tilt series' pixel size, as RELION means it, when the project says it.
    let pixel = ctx
        .relion_tomograms
        .as_ref()
        .and_then(|l| l.first())
        .and_then(|t| t.pixel_size_a)
        .or(ctx.voxel_size.map(|v| v.x))
        .ok_or_else(|| need_tomo(path))?;
    let centres = particles
        .iter()
        .map(|p| tomogram_centre(path, ctx, p.tomogram.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    let mut header =
        vec!["# version 50001 (RELION 5 tomography particles, written by tomopick)".to_string()];
    if let (Some(shape), Some(vs)) = (ctx.tomo_shape_xyz, ctx.voxel_size) {
        header.push(format!(
            "# tomogram size {} {} {} voxels at {} Å",
            shape[0],
            shape[1],
            shape[2],
            num(vs.x)
        ));
    }
    let layout = StarLayout {
        header,
        optics_labels: &[
            "rlnOpticsGroup",
            "rlnOpticsGroupName",
            "rlnTomoTiltSeriesPixelSize",
        ],
        optics_row: vec!["1".into(), "opticsGroup1".into(), num(pixel)],
        coord_labels: CENTRED,
    };
    write_star(path, particles, ctx, layout, |i, p| {
        let c = centres[i];
        [p.pos_a.x - c[0], p.pos_a.y - c[1], p.pos_a.z - c[2]]
    })
}
