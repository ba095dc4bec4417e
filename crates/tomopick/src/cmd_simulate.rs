//! `tomopick simulate subtomograms`.

use crate::args::{SubtomoArgs, TomogramArgs};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use tomopick_io::atomic::write_atomic;
use tomopick_io::{
    ListContext, ListFormat, MrcWriteMode, PosAngstrom, Volume, VoxelSize, write_mrc,
    write_particles,
};
use tomopick_sim::randomization::Dist;
use tomopick_sim::tomogram::{Route, Stage, TomogramConfig, simulate_tomogram};
use tomopick_sim::{SubtomoConfig, SubtomoGenerator, Subtomogram};

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(n: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(n);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:40} {pos}/{len} [{elapsed_precise} < {eta}] {per_sec}",
        )
        .expect("valid template"),
    );
    pb.set_message(what.to_string());
    pb
}

/// A `progress(done, total)` callback that moves `pb` (its length comes from the first call).
pub fn advance(pb: &ProgressBar) -> impl Fn(usize, usize) + Sync + '_ {
    move |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    }
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
    let staging = staging_dir(&a.output)?;
    let generator = SubtomoGenerator::new(config.clone())?;
    let names = generator.class_names().to_vec();
    tracing::info!(
        "{} classes at {} Å, box {}",
        names.len(),
        config.voxel_size_a,
        config.box_size
    );
    let vs = VoxelSize::isotropic(config.voxel_size_a);
    let pb = progress(a.n as u64, "subtomograms");
    let chunk = 64;
    let mut rows = Vec::with_capacity(a.n);
    for start in (0..a.n).step_by(chunk) {
        let k = chunk.min(a.n - start);
        let batch = generator.batch(a.seed, start as u64, k);
        batch
            .par_iter()
            .enumerate()
            .try_for_each(|(i, s)| write_one(staging.path(), start + i, s, vs))?;
        rows.extend(
            batch
                .iter()
                .enumerate()
                .map(|(i, s)| label_row(start + i, s, &names, config.voxel_size_a)),
        );
        pb.inc(k as u64);
    }
    pb.finish_and_clear();
    let header = "index,class,rot,tilt,psi,shift_x_a,shift_y_a,shift_z_a,scale,snr,tilt_max_deg,defocus_um,cs_mm,voltage_kv,amplitude_contrast,envelope_b_a2,inverted";
    let csv = std::iter::once(header.to_string())
        .chain(rows)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    write_atomic(&staging.path().join("labels.csv"), |w| {
        w.write_all(csv.as_bytes())
    })?;
    let resolved = format!(
        "# Made by: tomopick simulate subtomograms -n {} --seed {} --config config.toml\n{}",
        a.n,
        a.seed,
        toml::to_string(&config)?
    );
    write_atomic(&staging.path().join("config.toml"), |w| {
        w.write_all(resolved.as_bytes())
    })?;
    commit_dir(staging, &a.output)?;
    println!("wrote {} subtomograms to {}", a.n, a.output.display());
    Ok(())
}

/// A staging folder beside `output` (which must not exist; missing parents are made): results
/// appear only when complete.
pub fn staging_dir(output: &Path) -> Result<tempfile::TempDir> {
    if output.exists() {
        bail!(
            "{}: already exists; choose a new folder (nothing was written)",
            output.display()
        );
    }
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Missing parent folders are made, as `train` and `pick` make their output folders.
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(".tomopick-sim-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))
}

pub fn commit_dir(staging: tempfile::TempDir, output: &Path) -> Result<()> {
    let staged = staging.keep();
    std::fs::rename(&staged, output)
        .with_context(|| format!("moving results to {}", output.display()))
}

pub fn tomogram(a: TomogramArgs) -> Result<()> {
    let mut config = match &a.config {
        Some(p) => TomogramConfig::from_toml(p)?,
        None => TomogramConfig::shrec_like(),
    };
    if let Some(c) = a.classes {
        config.classes = c;
    }
    if let Some(s) = a.shape {
        let s = crate::cmd_convert::three(&s, "--shape")?;
        config.shape_xyz = s;
        // Keep the ice inside a thinner volume.
        let depth = s[2] as f64 * config.voxel_size_a;
        if config.ice_thickness_a.range().1 > depth {
            config.ice_thickness_a = Dist::Fixed(0.9 * depth);
        }
    }
    if let Some(n) = a.particles {
        config.particles = Dist::Fixed(n as f64);
    }
    if let Some(v) = a.voxel_size {
        config.voxel_size_a = v;
    }
    if let Some(r) = &a.route {
        config.imaging.route = match r.as_str() {
            "tilt" => Route::Tilt,
            "fast" => {
                if config.imaging.snr.is_none() {
                    config.imaging.snr = Some(Dist::Fixed(0.1));
                }
                config.imaging.dose_e_per_a2 = None;
                Route::Fast
            }
            other => bail!("--route {other}: choose tilt or fast"),
        };
    }
    config.validate()?;
    let staging = staging_dir(&a.output)?;
    let pb = progress(5, "tomogram");
    let clock = std::sync::Mutex::new((std::time::Instant::now(), None::<Stage>));
    let stage = |s: Stage| {
        let mut c = clock.lock().expect("not poisoned");
        if let Some(prev) = c.1 {
            tracing::info!("{prev:?}: {:.2} s", c.0.elapsed().as_secs_f64());
        }
        *c = (std::time::Instant::now(), Some(s));
        pb.set_message(format!("{s:?}").to_lowercase());
        pb.inc(1);
    };
    let t = simulate_tomogram(&config, a.seed, &stage)?;
    stage(Stage::Reconstruction);
    pb.set_message("writing");
    let written = std::time::Instant::now();
    let vs = VoxelSize::isotropic(t.config.voxel_size_a);
    let dir = staging.path();
    let vol = |data: ndarray::Array3<f32>| Volume::new(data, vs);
    write_mrc(
        &dir.join("reconstruction.mrc"),
        &vol(t.reconstruction),
        MrcWriteMode::Float32,
    )?;
    write_mrc(
        &dir.join("noise_free.mrc"),
        &vol(t.sample.potential),
        MrcWriteMode::Float32,
    )?;
    write_mrc(
        &dir.join("class_mask.mrc"),
        &vol(t.sample.class_mask.mapv(f32::from)),
        MrcWriteMode::Int8,
    )?;
    write_mrc(
        &dir.join("occupancy_mask.mrc"),
        &vol(t.sample.occupancy.mapv(|v| v as f32)),
        MrcWriteMode::Float32,
    )?;
    let ctx = ListContext {
        voxel_size: Some(vs),
        ..Default::default()
    };
    write_particles(
        &dir.join("particle_locations.txt"),
        ListFormat::Shrec,
        &t.sample.particles,
        &ctx,
    )?;
    write_particles(
        &dir.join("particles.csv"),
        ListFormat::Csv,
        &t.sample.particles,
        &ctx,
    )?;
    write_particles(
        &dir.join("distractors.csv"),
        ListFormat::Csv,
        &t.sample.distractors,
        &ctx,
    )?;
    let mut classes = String::from(
        "# Particle radii in Å: the farthest voxel of each class mask from its centre.\n[radius_a]\n",
    );
    for (n, r) in &t.class_radii_a {
        classes.push_str(&format!("\"{n}\" = {r:.1}\n"));
    }
    write_atomic(&dir.join("classes.toml"), |w| {
        w.write_all(classes.as_bytes())
    })?;
    let resolved = format!(
        "# Made by: tomopick simulate tomogram --seed {} --config config.toml\n{}",
        a.seed,
        toml::to_string(&t.config)?
    );
    write_atomic(&dir.join("config.toml"), |w| {
        w.write_all(resolved.as_bytes())
    })?;
    pb.finish_and_clear();
    commit_dir(staging, &a.output)?;
    tracing::info!("Writing: {:.2} s", written.elapsed().as_secs_f64());
    if !t.unknown_elements.is_empty() {
        let list: Vec<String> = t
            .unknown_elements
            .iter()
            .map(|(e, n)| format!("{e} ×{n}"))
            .collect();
        tracing::warn!(
            "elements without scattering factors were read as carbon: {}",
            list.join(", ")
        );
    }
    if t.sample.not_placed > 0 {
        tracing::warn!(
            "only {} of {} particles fit; the sample is full",
            t.sample.particles.len(),
            t.sample.particles.len() + t.sample.not_placed
        );
    }
    println!(
        "wrote a {}×{}×{} tomogram with {} particles to {}",
        t.config.shape_xyz[0],
        t.config.shape_xyz[1],
        t.config.shape_xyz[2],
        t.sample.particles.len(),
        a.output.display()
    );
    Ok(())
}

fn write_one(dir: &Path, index: usize, s: &Subtomogram, vs: VoxelSize) -> Result<()> {
    write_mrc(
        &dir.join(format!("subtomo_{index:06}.mrc")),
        &Volume::new(s.image.clone(), vs),
        MrcWriteMode::Float32,
    )?;
    let mask = Volume {
        data: s.mask.mapv(f32::from),
        voxel_size: vs,
        origin_a: PosAngstrom::default(),
    };
    write_mrc(
        &dir.join(format!("mask_{index:06}.mrc")),
        &mask,
        MrcWriteMode::Int8,
    )?;
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
