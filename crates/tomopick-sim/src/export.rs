//! Simulations written as folders that appear only when complete: a tomogram with its ground
//! truth (SHREC layout), or a set of labelled subtomograms.

use crate::error::Result;
use crate::randomization::SubtomoConfig;
use crate::subtomo::{SubtomoGenerator, Subtomogram};
use crate::tomogram::{Stage, Tomogram, TomogramConfig, simulate_tomogram};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use tomopick_io::atomic::{commit_dir, staging_dir, write_atomic};
use tomopick_io::{
    ListContext, ListFormat, MrcWriteMode, PosAngstrom, Volume, VoxelSize, write_mrc,
    write_particles,
};

/// What a written tomogram folder holds, for the front end to report.
#[derive(Debug, Clone)]
pub struct TomogramSummary {
    /// Size in voxels.
    pub shape_xyz: [usize; 3],
    /// Particles placed.
    pub particles: usize,
    /// Particles asked for that did not fit.
    pub not_placed: usize,
    /// Element symbols read as carbon (no scattering factors), with counts.
    pub unknown_elements: BTreeMap<String, usize>,
}

/// Simulates a tomogram from `config` with `seed` and writes it to the new folder `output`:
/// `reconstruction.mrc`, `noise_free.mrc` (the sample's potential before imaging, as SHREC's
/// grand model), `class_mask.mrc`, `occupancy_mask.mrc`,
/// `particle_locations.txt` (SHREC), `particles.csv` (Å), `distractors.csv`, `classes.toml`
/// (radii) and the resolved `config.toml`. `on_stage` hears each stage as it starts.
pub fn simulate_tomogram_folder(
    config: &TomogramConfig,
    seed: u64,
    output: &Path,
    on_stage: &(dyn Fn(Stage) + Sync),
) -> Result<TomogramSummary> {
    config.validate()?;
    let staging = staging_dir(output)?;
    let t = simulate_tomogram(config, seed, on_stage)?;
    let summary = TomogramSummary {
        shape_xyz: t.config.shape_xyz,
        particles: t.sample.particles.len(),
        not_placed: t.sample.not_placed,
        unknown_elements: t.unknown_elements.clone(),
    };
    write_tomogram(t, seed, staging.path())?;
    commit_dir(staging, output)?;
    Ok(summary)
}

/// Writes a simulated tomogram's files into `dir` (see [`simulate_tomogram_folder`]).
fn write_tomogram(t: Tomogram, seed: u64, dir: &Path) -> Result<()> {
    let vs = VoxelSize::isotropic(t.config.voxel_size_a);
    let vol = |data: ndarray::Array3<f32>| Volume::new(data, vs);
    let mrc = |name: &str, data, mode| write_mrc(&dir.join(name), &vol(data), mode);
    mrc(
        "reconstruction.mrc",
        t.reconstruction,
        MrcWriteMode::Float32,
    )?;
    mrc("noise_free.mrc", t.sample.potential, MrcWriteMode::Float32)?;
    let classes = t.sample.class_mask.mapv(f32::from);
    mrc("class_mask.mrc", classes, MrcWriteMode::Int8)?;
    let occupancy = t.sample.occupancy.mapv(|v| v as f32);
    mrc("occupancy_mask.mrc", occupancy, MrcWriteMode::Float32)?;
    let ctx = ListContext {
        voxel_size: Some(vs),
        ..Default::default()
    };
    let list = |name: &str, format, particles: &[tomopick_io::Particle]| {
        write_particles(&dir.join(name), format, particles, &ctx)
    };
    list(
        "particle_locations.txt",
        ListFormat::Shrec,
        &t.sample.particles,
    )?;
    list("particles.csv", ListFormat::Csv, &t.sample.particles)?;
    list("distractors.csv", ListFormat::Csv, &t.sample.distractors)?;
    let mut radii = String::from(
        "# Particle radii in Å: the farthest voxel of each class mask from its centre.\n[radius_a]\n",
    );
    for (n, r) in &t.class_radii_a {
        radii.push_str(&format!("\"{n}\" = {r:.1}\n"));
    }
    write_text(&dir.join("classes.toml"), &radii)?;
    let resolved = format!(
        "# Made by: tomopick simulate tomogram --seed {seed} --config config.toml\n{}",
        toml_text(&t.config)?
    );
    write_text(&dir.join("config.toml"), &resolved)
}

/// Simulates `n` labelled subtomograms from `config` with `seed` into the new folder `output`:
/// `subtomo_NNNNNN.mrc` and `mask_NNNNNN.mrc` each, `labels.csv` (class, orientation, shift,
/// imaging) and the resolved `config.toml`; `progress(done, n)` after each chunk.
pub fn simulate_subtomogram_folder(
    config: &SubtomoConfig,
    n: usize,
    seed: u64,
    output: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<()> {
    config.validate()?;
    let staging = staging_dir(output)?;
    let generator = SubtomoGenerator::new(config.clone())?;
    let names = generator.class_names().to_vec();
    let vs = VoxelSize::isotropic(config.voxel_size_a);
    let chunk = 64;
    let mut csv = String::from(
        "index,class,rot,tilt,psi,shift_x_a,shift_y_a,shift_z_a,scale,snr,tilt_max_deg,defocus_um,cs_mm,voltage_kv,amplitude_contrast,envelope_b_a2,inverted\n",
    );
    for start in (0..n).step_by(chunk) {
        let k = chunk.min(n - start);
        let batch = generator.batch(seed, start as u64, k);
        batch
            .par_iter()
            .enumerate()
            .try_for_each(|(i, s)| write_subtomogram(staging.path(), start + i, s, vs))?;
        for (i, s) in batch.iter().enumerate() {
            csv.push_str(&label_row(start + i, s, &names, config.voxel_size_a));
            csv.push('\n');
        }
        progress(start + k, n);
    }
    write_text(&staging.path().join("labels.csv"), &csv)?;
    let resolved = format!(
        "# Made by: tomopick simulate subtomograms -n {n} --seed {seed} --config config.toml\n{}",
        toml_text(config)?
    );
    write_text(&staging.path().join("config.toml"), &resolved)?;
    commit_dir(staging, output)?;
    Ok(())
}

fn toml_text(value: &impl serde::Serialize) -> Result<String> {
    toml::to_string(value).map_err(|e| crate::SimError::Parameter(format!("config: {e}")))
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    Ok(write_atomic(path, |w| w.write_all(text.as_bytes()))?)
}

fn write_subtomogram(dir: &Path, index: usize, s: &Subtomogram, vs: VoxelSize) -> Result<()> {
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

/// Writes the noise-free potential of each class (volts over ice, protein positive, the
/// structure's centre at the box centre) as `NAME.mrc` into the new folder `output`: templates
/// for template matching, here or in other programs. `box_size` pads or crops each cube to that
/// edge in voxels, about its centre. Returns each class's name and box edge.
pub fn write_class_templates(
    classes: &[String],
    opts: &crate::potential::PotentialOptions,
    box_size: Option<usize>,
    output: &Path,
) -> Result<Vec<(String, usize)>> {
    let specs = classes
        .iter()
        .map(|c| crate::library::ClassSpec::parse(c))
        .collect::<Result<Vec<_>>>()?;
    let staging = staging_dir(output)?;
    let made = specs
        .par_iter()
        .map(|spec| {
            let mut v = crate::library::class_potential(spec, opts)?.volume;
            if let Some(n) = box_size {
                v.data = recentre(&v.data, n);
            }
            let edge = v.data.dim().0;
            write_mrc(
                &staging.path().join(format!("{}.mrc", spec.name)),
                &v,
                MrcWriteMode::Float32,
            )?;
            Ok((spec.name.clone(), edge))
        })
        .collect::<Result<Vec<_>>>()?;
    commit_dir(staging, output)?;
    Ok(made)
}

/// `data` padded with zeros or cropped to an `n`³ cube about its centre voxel (`len / 2`).
fn recentre(data: &ndarray::Array3<f32>, n: usize) -> ndarray::Array3<f32> {
    let (dz, dy, dx) = data.dim();
    ndarray::Array3::from_shape_fn((n, n, n), |(z, y, x)| {
        let from = |i: usize, len: usize| (i + len / 2).checked_sub(n / 2).filter(|&j| j < len);
        match (from(z, dz), from(y, dy), from(x, dx)) {
            (Some(a), Some(b), Some(c)) => data[[a, b, c]],
            _ => 0.0,
        }
    })
}
