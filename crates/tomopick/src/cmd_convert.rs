//! `tomopick convert`: particle lists between formats, volumes to MRC.

use crate::args::{ConvertArgs, UnitArgs};
use anyhow::{Context, Result, anyhow, bail};

use tomopick_io::lists::tomograms_star::read_tomograms_star;
use tomopick_io::{
    ListContext, ListFormat, MrcWriteMode, VoxelSize, open_volume, read_header, read_particles,
    write_mrc, write_particles,
};

pub use tomopick_io::is_volume_path;

/// Parses an optional `--format` name.
pub fn parse_format(name: Option<&str>) -> Result<Option<ListFormat>> {
    name.map(|n| {
        ListFormat::from_name(n).ok_or_else(|| {
            anyhow!(
                "unknown list format '{n}' (csv, relion4, relion5, copick, shrec, imod, points)"
            )
        })
    })
    .transpose()
}

/// The unit context from the flags; `--tomogram` supplies voxel size and shape from its header.
pub fn list_context(u: &UnitArgs, binning: Option<f64>) -> Result<ListContext> {
    let mut ctx = ListContext {
        voxel_size: u.voxel_size.map(VoxelSize::isotropic),
        binning,
        ..ListContext::default()
    };
    if let Some(t) = &u.tomograms {
        ctx.relion_tomograms = Some(read_tomograms_star(t)?);
    }
    if let Some(v) = u.voxel_size
        && !(v.is_finite() && v > 0.0)
    {
        bail!("--voxel-size {v}: a voxel size must be positive");
    }
    if let Some(b) = binning
        && !(b.is_finite() && b > 0.0)
    {
        bail!("binning {b}: must be positive");
    }
    if let Some(t) = &u.tomogram {
        let h = read_header(t)?;
        ctx.tomo_shape_xyz = Some(h.shape_xyz);
        if ctx.voxel_size.is_none() {
            ctx.voxel_size = Some(h.require_voxel_size()?);
        }
    }
    if let Some(s) = &u.tomo_size {
        ctx.tomo_shape_xyz = Some(three(s, "--tomo-size")?);
    }
    Ok(ctx)
}

/// Three positive sizes from a comma-separated flag.
pub fn three(v: &[usize], flag: &str) -> Result<[usize; 3]> {
    match v {
        [x, y, z] if *x > 0 && *y > 0 && *z > 0 => Ok([*x, *y, *z]),
        _ => bail!("{flag} takes three positive sizes X,Y,Z; got {v:?}"),
    }
}

pub fn convert(a: ConvertArgs) -> Result<()> {
    if a.input == a.output {
        bail!(
            "input and output are the same file ({}); refusing to overwrite the input",
            a.input.display()
        );
    }
    if is_volume_path(&a.input) {
        return convert_volume(&a);
    }
    let from = parse_format(a.from.as_deref())?;
    let to = match parse_format(a.to.as_deref())? {
        Some(f) => f,
        None => ListFormat::from_path(&a.output)
            .or_else(|| a.output.extension().is_none().then_some(ListFormat::Copick))
            .ok_or_else(|| {
                anyhow!(
                    "{}: cannot tell the output format from the name; pass --to",
                    a.output.display()
                )
            })?,
    };
    let in_ctx = list_context(&a.units, a.units.binning)?;
    let out_ctx = ListContext {
        binning: a.out_binning,
        ..in_ctx.clone()
    };
    let particles = read_particles(&a.input, from, &in_ctx)?;
    write_particles(&a.output, to, &particles, &out_ctx)?;
    tracing::info!(
        "wrote {} particles to {} ({})",
        particles.len(),
        a.output.display(),
        to.name()
    );
    Ok(())
}

fn convert_volume(a: &ConvertArgs) -> Result<()> {
    let mode = match a.mode.as_str() {
        "float32" => MrcWriteMode::Float32,
        "int8" => MrcWriteMode::Int8,
        "float16" => MrcWriteMode::Float16,
        m => bail!("--mode {m}: choose float32, int8 or float16"),
    };
    let out_ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    if !matches!(out_ext.as_str(), "mrc" | "rec" | "map") {
        bail!(
            "{}: volumes are written as MRC (.mrc, .rec, .map)",
            a.output.display()
        );
    }
    let vol = open_volume(&a.input, a.units.voxel_size.map(VoxelSize::isotropic))?;
    let s = vol.stats();
    if s.nan + s.inf > 0 {
        bail!(
            "{}: the data holds {} NaN and {} infinite values; refusing to convert",
            a.input.display(),
            s.nan,
            s.inf
        );
    }
    write_mrc(&a.output, &vol, mode).with_context(|| format!("writing {}", a.output.display()))?;
    tracing::info!(
        "wrote {} ({:?}, voxel size {})",
        a.output.display(),
        mode,
        vol.voxel_size
    );
    Ok(())
}
