//! copick projects on a filesystem: the config (`pickable_objects`, `overlay_root`,
//! `static_root`), the runs, where a run's tomogram of a type and voxel spacing lies
//! (`ExperimentRuns/<run>/VoxelSpacing<x.yyy>/<type>.zarr`) and where picks go
//! (`ExperimentRuns/<run>/Picks/<user>_<session>_<object>.json` in the overlay).

use crate::error::{IoError, Result};
use std::path::{Path, PathBuf};

/// One pickable object of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct PickableObject {
    /// Its name (picks files are named after it).
    pub name: String,
    /// Its PDB id, if the config gives one (`pdb_id`).
    pub pdb_id: Option<String>,
}

/// A copick project on a local filesystem.
#[derive(Debug, Clone, PartialEq)]
pub struct CopickProject {
    /// Where new data (picks) is written.
    pub overlay_root: PathBuf,
    /// Read-only data, when the project has one.
    pub static_root: Option<PathBuf>,
    /// The pickable objects.
    pub objects: Vec<PickableObject>,
}

/// Whether the JSON file at `path` is a copick project config (not a picks file).
pub fn is_copick_config(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| o.contains_key("overlay_root") || o.contains_key("config_type"))
        })
        .unwrap_or(false)
}

/// A root as copick writes it: `local:///abs/path`, `/abs/path`, or relative to the config.
fn local_root(config: &Path, field: &str, v: &serde_json::Value) -> Result<PathBuf> {
    let s = v
        .as_str()
        .ok_or_else(|| IoError::field(config, field, "must be a string"))?;
    let p = s.strip_prefix("local://").unwrap_or(s);
    if p.contains("://") {
        return Err(IoError::field(
            config,
            field,
            format!("'{s}': only local filesystem projects are read (local:// or a path)"),
        ));
    }
    let p = PathBuf::from(p);
    Ok(if p.is_absolute() {
        p
    } else {
        config.parent().unwrap_or(Path::new(".")).join(p)
    })
}

impl CopickProject {
    /// Reads a copick config.
    pub fn open(config: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(config).map_err(|e| IoError::os(config, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| IoError::file(config, format!("not valid JSON: {e}")))?;
        if let Some(t) = v.get("config_type").and_then(|t| t.as_str())
            && t != "filesystem"
        {
            return Err(IoError::field(
                config,
                "config_type",
                format!("'{t}': only filesystem projects are read"),
            ));
        }
        let overlay = v
            .get("overlay_root")
            .ok_or_else(|| IoError::field(config, "overlay_root", "missing"))?;
        let overlay_root = local_root(config, "overlay_root", overlay)?;
        let static_root = match v.get("static_root") {
            Some(s) if !s.is_null() => Some(local_root(config, "static_root", s)?),
            _ => None,
        };
        let objects = v
            .get("pickable_objects")
            .and_then(|o| o.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|o| {
                        Some(PickableObject {
                            name: o.get("name")?.as_str()?.to_string(),
                            pdb_id: o.get("pdb_id").and_then(|p| p.as_str()).map(String::from),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(CopickProject {
            overlay_root,
            static_root,
            objects,
        })
    }

    fn roots(&self) -> impl Iterator<Item = &PathBuf> {
        std::iter::once(&self.overlay_root).chain(self.static_root.iter())
    }

    /// The runs: folders under `ExperimentRuns` of either root, sorted, each once.
    pub fn runs(&self) -> Vec<String> {
        let mut runs: Vec<String> = self
            .roots()
            .filter_map(|r| std::fs::read_dir(r.join("ExperimentRuns")).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        runs.sort();
        runs.dedup();
        runs
    }

    /// The tomogram of `run` of `tomo_type` at `voxel_spacing_a` (overlay first, then static);
    /// the overlay's path, which does not exist, when neither has it.
    pub fn tomogram(&self, run: &str, voxel_spacing_a: f64, tomo_type: &str) -> PathBuf {
        let rel = Path::new("ExperimentRuns")
            .join(run)
            .join(format!("VoxelSpacing{voxel_spacing_a:.3}"))
            .join(format!("{tomo_type}.zarr"));
        self.roots()
            .map(|r| r.join(&rel))
            .find(|p| p.exists())
            .unwrap_or_else(|| self.overlay_root.join(rel))
    }

    /// Where the picks of `object` in `run` by `user`/`session` go (in the overlay).
    pub fn picks_path(&self, run: &str, user: &str, session: &str, object: &str) -> PathBuf {
        self.overlay_root
            .join("ExperimentRuns")
            .join(run)
            .join("Picks")
            .join(format!("{user}_{session}_{object}.json"))
    }

    /// The project's object for a model class: the one named so, else the one whose PDB id is
    /// the class (case aside); `None` when the project has none.
    pub fn object_named_for(&self, class: &str) -> Option<String> {
        self.objects
            .iter()
            .find(|o| o.name == class)
            .or_else(|| {
                self.objects.iter().find(|o| {
                    o.pdb_id
                        .as_deref()
                        .is_some_and(|p| p.eq_ignore_ascii_case(class))
                })
            })
            .map(|o| o.name.clone())
    }
}
