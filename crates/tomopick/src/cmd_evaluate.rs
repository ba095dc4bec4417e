//! `tomopick evaluate`.

use crate::args::EvaluateArgs;
use crate::cmd_convert::list_context;
use anyhow::{Context, Result, bail};
use tomopick_eval::{ClassTable, CziiOptions, Occupancy, evaluate as run_eval};
use tomopick_io::atomic::{check_writable, write_atomic};
use tomopick_io::{MrcReadOptions, read_mrc, read_particles};

pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    if !(a.beta.is_finite() && a.beta > 0.0 && a.threshold.is_finite() && a.threshold > 0.0) {
        bail!("--beta and --threshold must be positive");
    }
    let mut classes = match &a.classes {
        Some(p) => ClassTable::from_toml_file(p)?,
        None => ClassTable::default(),
    };
    classes.default_radius_a = a.radius;
    if a.classes.is_none() && a.radius.is_none() {
        bail!("no particle radii: pass --classes classes.toml (with [radius_a]) or --radius Å");
    }
    // Fail before the work if the report cannot be written; create the folder only at the end.
    if let Some(dir) = &a.output {
        if dir.is_dir() {
            check_writable(&dir.join("report.json"))?
        } else {
            check_writable(dir)?
        }
    }
    let mut ctx = list_context(&a.units, a.units.binning)?;
    let occupancy_vol = match &a.occupancy {
        Some(p) => {
            let v = read_mrc(
                p,
                MrcReadOptions {
                    voxel_size: ctx.voxel_size,
                },
            )?;
            ctx.voxel_size.get_or_insert(v.voxel_size);
            ctx.tomo_shape_xyz.get_or_insert(v.shape_xyz());
            Some(v)
        }
        None => None,
    };
    let picks = read_particles(&a.picks, None, &ctx)?;
    let truth = read_particles(&a.truth, None, &ctx)?;
    if truth.is_empty() {
        bail!("{}: the truth list is empty", a.truth.display());
    }
    let occupancy = match (&occupancy_vol, ctx.tomo_shape_xyz, ctx.voxel_size) {
        (Some(v), _, _) => Occupancy::Mask(v),
        (None, Some(shape_xyz), Some(voxel_size)) => Occupancy::Spheres {
            shape_xyz,
            voxel_size,
        },
        _ => {
            tracing::warn!("no --occupancy, --tomogram or --tomo-size: skipping the SHREC metric");
            Occupancy::None
        }
    };
    let names = (a.picks.display().to_string(), a.truth.display().to_string());
    let report = run_eval(
        &picks,
        &truth,
        &classes,
        occupancy,
        CziiOptions {
            threshold: a.threshold,
            beta: a.beta,
        },
        (&names.0, &names.1),
    )?;
    if report.picks_outside_volume > 0 {
        tracing::warn!(
            "{} picks lie outside the tomogram; they count as false positives",
            report.picks_outside_volume
        );
    }
    let md = report.to_markdown();
    println!("{md}");
    if let Some(dir) = &a.output {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = report.to_json();
        write_atomic(&dir.join("report.json"), |w| {
            std::io::Write::write_all(w, json.as_bytes())
        })?;
        write_atomic(&dir.join("report.md"), |w| {
            std::io::Write::write_all(w, md.as_bytes())
        })?;
        tracing::info!("wrote {} and report.md", dir.join("report.json").display());
    }
    Ok(())
}
