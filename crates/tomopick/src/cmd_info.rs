//! `tomopick info` and `tomopick validate`.

use crate::args::InfoArgs;
use crate::cmd_convert::{is_volume_path, list_context, parse_format};
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use tomopick_io::{
    IoError, ListContext, MrcVolumeFile, VolumeFormat, VoxelSize, open_volume, read_header,
    read_particles,
};

pub fn info(a: InfoArgs) -> Result<()> {
    if is_volume_path(&a.file) {
        return volume_info(&a, false);
    }
    let ctx = list_context(&a.units, a.units.binning)?;
    let format = parse_format(a.format.as_deref())?;
    let (particles, unit) = match read_particles(&a.file, format, &ctx) {
        // A pixel-based list without a voxel size: shown in pixels, as far as it can be.
        Err(IoError::Units(why)) if ctx.voxel_size.is_none() => {
            let px = ListContext {
                voxel_size: Some(VoxelSize::isotropic(1.0)),
                binning: None,
                ..ctx.clone()
            };
            let Ok(p) = read_particles(&a.file, format, &px) else {
                bail!("{why}");
            };
            (p, "px (no voxel size known; pass --voxel-size for Å)")
        }
        other => (other?, "Å"),
    };
    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &particles {
        *per_class.entry(p.class.as_str()).or_default() += 1;
    }
    println!("{}: {} particles", a.file.display(), particles.len());
    for (c, n) in per_class {
        println!("  {c:<24} {n}");
    }
    let with_rot = particles.iter().filter(|p| p.rotation.is_some()).count();
    println!("  with orientation: {with_rot}");
    print_extent(&particles, unit);
    Ok(())
}

/// The range of positions, in `unit`.
fn print_extent(particles: &[tomopick_io::Particle], unit: &str) {
    if particles.is_empty() {
        return;
    }
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in particles {
        for (k, v) in p.pos_a.as_array().into_iter().enumerate() {
            lo[k] = lo[k].min(v);
            hi[k] = hi[k].max(v);
        }
    }
    println!(
        "  positions (x, y, z) from ({:.1}, {:.1}, {:.1}) to ({:.1}, {:.1}, {:.1}) {unit}",
        lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]
    );
}

pub fn validate(a: InfoArgs) -> Result<()> {
    if !is_volume_path(&a.file) {
        bail!(
            "{}: validate checks volumes (MRC, TIFF, OME-Zarr); use `tomopick info` for particle lists",
            a.file.display()
        );
    }
    volume_info(&a, true)
}

fn volume_info(a: &InfoArgs, check_values: bool) -> Result<()> {
    let override_vs = a.units.voxel_size.map(VoxelSize::isotropic);
    if VolumeFormat::from_path(&a.file) == VolumeFormat::Mrc {
        let h = read_header(&a.file)?;
        println!("{}", a.file.display());
        println!(
            "  size (x, y, z)   {} × {} × {} voxels",
            h.shape_xyz[0], h.shape_xyz[1], h.shape_xyz[2]
        );
        println!(
            "  mode             {} ({}{})",
            h.mode.code(),
            h.mode.name(),
            if h.unsigned_bytes {
                ", read as unsigned"
            } else {
                ""
            }
        );
        match h.voxel_size {
            Some(v) => println!("  voxel size       {v}"),
            None => println!(
                "  voxel size       MISSING (zero or negative in the header; pass --voxel-size)"
            ),
        }
        println!(
            "  origin           {:.2}, {:.2}, {:.2} Å",
            h.origin_a.x, h.origin_a.y, h.origin_a.z
        );
        println!("  axis order       mapc/mapr/maps = {:?}", h.axis_map);
        println!(
            "  header stats     min {} max {} mean {} rms {}",
            h.header_stats[0], h.header_stats[1], h.header_stats[2], h.header_stats[3]
        );
        if h.nsymbt > 0 {
            println!("  extended header  {} bytes ({})", h.nsymbt, h.exttyp);
        }
        if h.trailing_bytes > 0 {
            println!(
                "  trailing bytes   {} after the data (ignored)",
                h.trailing_bytes
            );
        }
        for l in &h.labels {
            println!("  label            {l}");
        }
        if check_values {
            let file = MrcVolumeFile::open(
                &a.file,
                tomopick_io::MrcReadOptions {
                    voxel_size: override_vs,
                },
            )?;
            let s = file.read_all()?.stats();
            println!(
                "  data stats       min {:.4} max {:.4} mean {:.4} sd {:.4}",
                s.min, s.max, s.mean, s.rms
            );
            report_nonfinite(&a.file, s.nan, s.inf)?;
            println!("OK");
        }
        return Ok(());
    }
    let vol = open_volume(&a.file, override_vs)?;
    let s = vol.stats();
    let [x, y, z] = vol.shape_xyz();
    println!(
        "{}\n  size (x, y, z)   {x} × {y} × {z} voxels\n  voxel size       {}",
        a.file.display(),
        vol.voxel_size
    );
    println!(
        "  data stats       min {:.4} max {:.4} mean {:.4} sd {:.4}",
        s.min, s.max, s.mean, s.rms
    );
    if check_values {
        report_nonfinite(&a.file, s.nan, s.inf)?;
        println!("OK");
    }
    Ok(())
}

fn report_nonfinite(path: &std::path::Path, nan: u64, inf: u64) -> Result<()> {
    if nan + inf > 0 {
        bail!(
            "{}: the data holds {nan} NaN and {inf} infinite values",
            path.display()
        );
    }
    Ok(())
}
