//! The particle classes tomopick ships: the 13 SHREC 2021 classes and apoferritin, embedded in
//! the binary so that simulation works on a machine without this repository.
//!
//! Atomic models become potentials with [`potential_map`]; the three density maps (4cr2, 4v94,
//! 5mrc, at 10 Å) are resampled to the voxel size and scaled so that the mean over the voxels
//! above 15 % of their maximum is the protein–ice contrast of [`MAP_CONTRAST_V`].

use crate::error::{Result, SimError};
use crate::potential::{PotentialOptions, potential_map};
use crate::resample::rescale;
use crate::structure::parse_structure_bytes;
use std::io::Read;
use std::path::Path;
use tomopick_io::{MrcReadOptions, Volume, read_mrc};

macro_rules! shipped {
    ($($name:literal => $file:literal),* $(,)?) => {
        /// `(class name, file name, gzipped bytes)` of every shipped structure.
        pub const SHIPPED: &[(&str, &str, &[u8])] = &[
            $(($name, $file, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/structures/", $file)))),*
        ];
    };
}

shipped! {
    "1bxn" => "pdb/1bxn.pdb.gz", "1qvr" => "pdb/1qvr.pdb.gz", "1s3x" => "pdb/1s3x.pdb.gz",
    "1u6g" => "pdb/1u6g.pdb.gz", "2cg9" => "pdb/2cg9.pdb.gz", "3cf3" => "pdb/3cf3.pdb.gz",
    "3d2f" => "pdb/3d2f.pdb.gz", "3gl1" => "pdb/3gl1.pdb.gz", "3h84" => "pdb/3h84.pdb.gz",
    "3qm1" => "pdb/3qm1.pdb.gz", "6z6u" => "pdb/6z6u.pdb.gz",
    "4cr2" => "maps_10A/4cr2.mrc.gz", "4v94" => "maps_10A/4v94.mrc.gz", "5mrc" => "maps_10A/5mrc.mrc.gz",
}

/// The 13 SHREC 2021 particle classes (vesicles and fiducials are distractors, not classes).
pub const SHREC2021_CLASSES: [&str; 13] = [
    "1bxn", "1qvr", "1s3x", "1u6g", "2cg9", "3cf3", "3d2f", "3gl1", "3h84", "3qm1", "4cr2", "4v94",
    "5mrc",
];

/// Protein–ice contrast in volts given to density maps (Peng: 7.9 − 4.53 V).
pub const MAP_CONTRAST_V: f64 = 3.4;

/// Bumped whenever the way potentials are computed changes, so cached maps are remade.
pub const MAP_VERSION: u32 = 1;

/// Where a class's structure comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassSource {
    /// One of the shipped structures.
    Shipped,
    /// A PDB / mmCIF file (plain or gzipped), with an optional assembly id, or an MRC density map.
    File {
        /// The file.
        path: std::path::PathBuf,
        /// Assembly id for atomic models (`None`: the first declared, else the asymmetric unit).
        assembly: Option<String>,
    },
}

/// A particle class: its name and source.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSpec {
    /// The class name used in particle lists.
    pub name: String,
    /// Where its structure comes from.
    pub source: ClassSource,
}

impl ClassSpec {
    /// Parses a class entry: a shipped name (`1bxn`), `name=path[:assembly]`, or a path whose
    /// file stem becomes the name (`my_complex.cif`, `map.mrc`).
    pub fn parse(entry: &str) -> Result<Self> {
        let (name, rest) = match entry.split_once('=') {
            Some((n, r)) => (Some(n.trim().to_string()), r.trim()),
            None => (None, entry.trim()),
        };
        if name.is_none() && SHIPPED.iter().any(|s| s.0 == rest) {
            return Ok(ClassSpec {
                name: rest.to_string(),
                source: ClassSource::Shipped,
            });
        }
        // `path:assembly`, unless the whole text is an existing path.
        let (path, assembly) = match rest.rsplit_once(':') {
            Some((p, a)) if !Path::new(rest).exists() && !a.contains('/') => {
                (p, Some(a.to_string()))
            }
            _ => (rest, None),
        };
        let path = std::path::PathBuf::from(path);
        if !path.exists() {
            return Err(SimError::Parameter(format!(
                "class '{entry}': not a shipped class ({}) and no file at {}",
                shipped_names().join(", "),
                path.display()
            )));
        }
        let stem = path
            .file_name()
            .map(|f| {
                f.to_string_lossy()
                    .split('.')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_default();
        Ok(ClassSpec {
            name: name.unwrap_or(stem),
            source: ClassSource::File { path, assembly },
        })
    }
}

/// A class potential and what was noticed while making it.
pub struct ClassPotential {
    /// The potential (centred cube, volts over ice).
    pub volume: Volume,
    /// Element symbols without scattering factors (read as carbon), with counts.
    pub unknown_elements: std::collections::BTreeMap<String, usize>,
}

/// The potential of a class at `opts.voxel_size_a`, from the cache when it was made before.
/// The cache key is a hash of the structure's bytes, the options and the assembly id.
pub fn class_potential(spec: &ClassSpec, opts: &PotentialOptions) -> Result<ClassPotential> {
    let (bytes, file_name, assembly): (std::borrow::Cow<[u8]>, String, Option<String>) = match &spec
        .source
    {
        ClassSource::Shipped => {
            let (_, file, bytes) = SHIPPED.iter().find(|s| s.0 == spec.name).ok_or_else(|| {
                SimError::Parameter(format!(
                    "unknown class '{}'; shipped classes: {}",
                    spec.name,
                    shipped_names().join(", ")
                ))
            })?;
            (std::borrow::Cow::Borrowed(*bytes), file.to_string(), None)
        }
        ClassSource::File { path, assembly } => {
            let b = std::fs::read(path).map_err(|e| tomopick_io::IoError::os(path, e))?;
            (
                std::borrow::Cow::Owned(b),
                path.to_string_lossy().into_owned(),
                assembly.clone(),
            )
        }
    };
    let key = format!(
        "v{}-{}-{:016x}-{:?}-{:?}",
        MAP_VERSION,
        env!("CARGO_PKG_VERSION"),
        fnv1a(&bytes),
        opts,
        assembly
    );
    let cache = cache_dir().map(|d| d.join(format!("{:016x}.mrc", fnv1a(key.as_bytes()))));
    let cached = cache
        .as_ref()
        .and_then(|c| read_mrc(c, MrcReadOptions::default()).ok())
        .filter(|v| (v.voxel_size.x - opts.voxel_size_a).abs() < 1e-9);
    let lower = file_name.to_lowercase();
    let is_map = lower.ends_with(".mrc") || lower.ends_with(".mrc.gz") || lower.ends_with(".map");
    // Atomic models are always parsed (cheap), so unknown elements are reported on cache hits too.
    let structure = if is_map {
        None
    } else {
        Some(parse_structure_bytes(Path::new(&file_name), &bytes)?)
    };
    let unknown_elements = structure
        .as_ref()
        .map(|s| s.unknown_elements.clone())
        .unwrap_or_default();
    if let Some(volume) = cached {
        return Ok(ClassPotential {
            volume,
            unknown_elements,
        });
    }
    let volume = match structure {
        Some(s) => potential_map(&s.assembly_atoms(assembly.as_deref())?, opts)?,
        None => {
            let raw = if lower.ends_with(".gz") {
                let mut raw = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut raw)
                    .map_err(|e| SimError::Parameter(format!("{file_name}: {e}")))?;
                raw
            } else {
                bytes.to_vec()
            };
            // The MRC reader maps files, so the map goes through a temporary file.
            let tmp = tempfile::Builder::new()
                .suffix(".mrc")
                .tempfile()
                .map_err(|e| tomopick_io::IoError::os(Path::new(&file_name), e))?;
            std::fs::write(tmp.path(), &raw)
                .map_err(|e| tomopick_io::IoError::os(tmp.path(), e))?;
            density_as_potential(
                &read_mrc(tmp.path(), MrcReadOptions::default())?,
                opts.voxel_size_a,
            )
        }
    };
    if let Some(c) = &cache {
        // A cache that cannot be written is only slower, never wrong.
        let _ = std::fs::create_dir_all(c.parent().unwrap_or(Path::new("."))).and_then(|_| {
            tomopick_io::write_mrc(c, &volume, tomopick_io::MrcWriteMode::Float32)
                .map_err(|e| std::io::Error::other(e.to_string()))
        });
    }
    Ok(ClassPotential {
        volume,
        unknown_elements,
    })
}

/// The map cache: `$TOMOPICK_CACHE`, else `$XDG_CACHE_HOME/tomopick/maps`, else
/// `~/.cache/tomopick/maps`; `TOMOPICK_CACHE=off` turns it off.
pub fn cache_dir() -> Option<std::path::PathBuf> {
    match std::env::var_os("TOMOPICK_CACHE") {
        Some(v) if v == "off" => None,
        Some(v) => Some(v.into()),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache"))
            })
            .map(|d| d.join("tomopick").join("maps")),
    }
}

/// FNV-1a, a stable 64-bit hash of bytes (for cache keys; not cryptographic).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Names of all shipped classes.
pub fn shipped_names() -> Vec<&'static str> {
    SHIPPED.iter().map(|s| s.0).collect()
}

/// The potential of a shipped class at `opts.voxel_size_a`.
pub fn shipped_potential(name: &str, opts: &PotentialOptions) -> Result<Volume> {
    class_potential(
        &ClassSpec {
            name: name.to_string(),
            source: ClassSource::Shipped,
        },
        opts,
    )
    .map(|c| c.volume)
}

/// Scales a density map (arbitrary units, positive = protein) to volts of contrast against ice
/// and resamples it to `voxel_size_a`.
pub fn density_as_potential(map: &Volume, voxel_size_a: f64) -> Volume {
    let max = map.data.iter().cloned().fold(f32::MIN, f32::max);
    let cut = 0.15 * max;
    let inside: Vec<f64> = map
        .data
        .iter()
        .filter(|&&v| v > cut)
        .map(|&v| v as f64)
        .collect();
    let mean = inside.iter().sum::<f64>() / inside.len().max(1) as f64;
    let scale = if mean > 0.0 {
        MAP_CONTRAST_V / mean
    } else {
        0.0
    };
    let scaled = Volume::new(
        map.data.mapv(|v| (v.max(0.0) as f64 * scale) as f32),
        map.voxel_size,
    );
    rescale(&scaled, voxel_size_a)
}
