//! `tomopick simulate subtomograms`, `tomopick simulate tomogram` and `tomopick simulate template`.

use crate::args::{SubtomoArgs, TemplateArgs, TomogramArgs};
use crate::progress::{advance, progress};
use anyhow::Result;
use tomopick_sim::export::{
    simulate_subtomogram_folder, simulate_tomogram_folder, write_class_templates,
};
use tomopick_sim::randomization::Dist;
use tomopick_sim::tomogram::{Stage, TomogramConfig};
use tomopick_sim::{SubtomoConfig, SubtomoGenerator};

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
    let names = SubtomoGenerator::new(config.clone())?.class_names().len();
    tracing::info!(
        "{names} classes at {} Å, box {}",
        config.voxel_size_a,
        config.box_size
    );
    let pb = progress(a.n as u64, "subtomograms");
    simulate_subtomogram_folder(&config, a.n, a.seed, &a.output, &advance(&pb))?;
    pb.finish_and_clear();
    println!("wrote {} subtomograms to {}", a.n, a.output.display());
    Ok(())
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
        config.set_shape(crate::cmd_convert::three(&s, "--shape")?);
    }
    if let Some(n) = a.particles {
        config.particles = Dist::Fixed(n as f64);
    }
    if let Some(v) = a.voxel_size {
        config.voxel_size_a = v;
    }
    if let Some(r) = &a.route {
        config.set_route(r).map_err(|e| anyhow::anyhow!("--{e}"))?;
    }
    config.validate()?;
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
    let t = simulate_tomogram_folder(&config, a.seed, &a.output, &stage)?;
    pb.finish_and_clear();
    let c = clock.lock().expect("not poisoned");
    tracing::info!(
        "Reconstruction and writing: {:.2} s",
        c.0.elapsed().as_secs_f64()
    );
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
    if t.not_placed > 0 {
        tracing::warn!(
            "only {} of {} particles fit; the sample is full",
            t.particles,
            t.particles + t.not_placed
        );
    }
    let [x, y, z] = t.shape_xyz;
    println!(
        "wrote a {x}×{y}×{z} tomogram with {} particles to {}",
        t.particles,
        a.output.display()
    );
    Ok(())
}

pub fn template(a: TemplateArgs) -> Result<()> {
    let classes = a.classes.unwrap_or_else(|| {
        tomopick_sim::library::SHREC2021_CLASSES
            .iter()
            .map(|c| c.to_string())
            .collect()
    });
    if a.box_size == Some(0) {
        anyhow::bail!("--box 0: a template needs at least one voxel");
    }
    let opts = tomopick_sim::potential::PotentialOptions {
        voxel_size_a: a.voxel_size,
        b_factor: a.b_factor,
        ..Default::default()
    };
    let made = write_class_templates(&classes, &opts, a.box_size, &a.output)?;
    for (name, edge) in &made {
        println!("{name}: {edge}³ voxels at {} Å", a.voxel_size);
    }
    println!("wrote {} templates to {}", made.len(), a.output.display());
    Ok(())
}
