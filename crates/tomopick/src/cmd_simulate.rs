//! `tomopick simulate subtomograms`.

use crate::args::SubtomoArgs;
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use tomopick_io::atomic::write_atomic;
use tomopick_io::{MrcWriteMode, PosAngstrom, Volume, VoxelSize, write_mrc};
use tomopick_sim::{SubtomoConfig, SubtomoGenerator, Subtomogram};

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(n: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(n);
    pb.set_style(ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} [{elapsed_precise} < {eta}] {per_sec}").expect("valid template"));
    pb.set_message(what.to_string());
    pb
}

pub fn subtomograms(a: SubtomoArgs) -> Result<()> {
    let mut config = match &a.config {
        Some(p) => SubtomoConfig::from_toml(p)?,
        None => SubtomoConfig::preset(&a.preset)?,
    };
    if let Some(c) = a.classes {
        config.classes = c;
    }
    if let Some(b) = a.box_size {
        config.box_size = b;
    }
    if let Some(v) = a.voxel_size {
        config.voxel_size_a = v;
    }
    config.validate()?;
    if a.output.exists() {
        bail!("{}: already exists; choose a new folder (nothing was written)", a.output.display());
    }
    let parent = a.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new().prefix(".tomopick-sim-").tempdir_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    let generator = SubtomoGenerator::new(config.clone())?;
    let names = generator.class_names().to_vec();
    tracing::info!("{} classes at {} Å, box {}", names.len(), config.voxel_size_a, config.box_size);
    let vs = VoxelSize::isotropic(config.voxel_size_a);
    let pb = progress(a.n as u64, "subtomograms");
    let chunk = 64;
    let mut rows = Vec::with_capacity(a.n);
    for start in (0..a.n).step_by(chunk) {
        let k = chunk.min(a.n - start);
        let batch = generator.batch(a.seed, start as u64, k);
        batch.par_iter().enumerate().try_for_each(|(i, s)| write_one(staging.path(), start + i, s, vs))?;
        rows.extend(batch.iter().enumerate().map(|(i, s)| label_row(start + i, s, &names, config.voxel_size_a)));
        pb.inc(k as u64);
    }
    pb.finish_and_clear();
    let header = "index,class,rot,tilt,psi,shift_x_a,shift_y_a,shift_z_a,scale,snr,tilt_max_deg,defocus_um,cs_mm,voltage_kv,amplitude_contrast,envelope_b_a2,inverted";
    let csv = std::iter::once(header.to_string()).chain(rows).collect::<Vec<_>>().join("\n") + "\n";
    write_atomic(&staging.path().join("labels.csv"), |w| w.write_all(csv.as_bytes()))?;
    let resolved = format!("# Made by: tomopick simulate subtomograms -n {} --seed {} --config config.toml\n{}", a.n, a.seed, toml::to_string(&config)?);
    write_atomic(&staging.path().join("config.toml"), |w| w.write_all(resolved.as_bytes()))?;
    let staged = staging.keep();
    std::fs::rename(&staged, &a.output).with_context(|| format!("moving results to {}", a.output.display()))?;
    println!("wrote {} subtomograms to {}", a.n, a.output.display());
    Ok(())
}

fn write_one(dir: &Path, index: usize, s: &Subtomogram, vs: VoxelSize) -> Result<()> {
    write_mrc(&dir.join(format!("subtomo_{index:06}.mrc")), &Volume::new(s.image.clone(), vs), MrcWriteMode::Float32)?;
    let mask = Volume { data: s.mask.mapv(f32::from), voxel_size: vs, origin_a: PosAngstrom::default() };
    write_mrc(&dir.join(format!("mask_{index:06}.mrc")), &mask, MrcWriteMode::Int8)?;
    Ok(())
}

fn label_row(index: usize, s: &Subtomogram, names: &[String], voxel_size_a: f64) -> String {
    let [rot, tilt, psi] = s.rotation.to_relion_zyz_deg();
    let c = &s.imaging.ctf;
    format!(
        "{index},{},{rot:.4},{tilt:.4},{psi:.4},{:.3},{:.3},{:.3},{:.4},{:.5},{:.3},{:.4},{:.4},{},{:.4},{:.2},{}",
        names[s.class_index],
        s.shift_vox[0] * voxel_size_a,
        s.shift_vox[1] * voxel_size_a,
        s.shift_vox[2] * voxel_size_a,
        s.scale,
        s.imaging.snr.unwrap_or(f64::INFINITY),
        s.imaging.tilt_max_deg,
        c.defocus_a / 1e4,
        c.cs_mm,
        c.voltage_kv,
        c.amplitude_contrast,
        c.b_factor_a2,
        s.inverted
    )
}
