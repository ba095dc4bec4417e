//! The tomograms of a dataset, from what a user names on the command line: files, folders,
//! a manifest (one path per line, or a CSV with a `tomogram` column), or a RELION 5
//! `tomograms.star`.

use crate::error::{PickError, Result};
use crate::stated::StatedTiltSeries;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tomopick_io::VoxelSize;
use tomopick_io::is_volume_path;
use tomopick_io::lists::copick_project::{CopickProject, is_copick_config};
use tomopick_io::lists::tomograms_star::read_tomograms_star;

/// One tomogram of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetItem {
    /// Its name: outputs are named after it, STAR files carry it as `rlnTomoName`.
    pub name: String,
    /// The volume file.
    pub path: PathBuf,
    /// A voxel size stated by the dataset (a manifest column, `tomograms.star`); overrides the
    /// header's.
    pub voxel_size: Option<VoxelSize>,
    /// What the dataset states about its tilt series (defocus, tilt range, microscope), for
    /// `--match-templates`.
    pub stated: StatedTiltSeries,
}

/// Which tomogram of each run of a copick project to pick.
#[derive(Debug, Clone, PartialEq)]
pub struct CopickSelect {
    /// The tomogram type (`wbp`, `denoised`, …).
    pub tomo_type: String,
    /// The voxel spacing, Å.
    pub voxel_spacing_a: f64,
}

/// Whether the inputs name a dataset rather than one tomogram file.
pub fn is_dataset(inputs: &[PathBuf]) -> bool {
    inputs.len() != 1 || !is_volume_path(&inputs[0])
}

/// The tomograms named by `inputs`, in order: a volume file is itself; a folder gives its
/// volume files (sorted), or, when it has none, each subfolder's `reconstruction.mrc` (the
/// SHREC and `tomopick simulate tomogram` layout) named after the subfolder; `.star` is a
/// RELION 5 `tomograms.star`; `.txt`, `.lst` and `.csv` are manifests. Two tomograms with the
/// same name are refused (their outputs would collide). A `.json` copick project config gives
/// each run's tomogram chosen by `copick` (named after the run).
pub fn dataset_items(inputs: &[PathBuf], copick: &CopickSelect) -> Result<Vec<DatasetItem>> {
    let mut items = Vec::new();
    for input in inputs {
        let ext = lower_ext(input);
        if is_volume_path(input) {
            items.push(file_item(input, None));
        } else if input.is_dir() {
            items.extend(folder_items(input)?);
        } else if ext == "star" {
            items.extend(star_items(input)?);
        } else if matches!(ext.as_str(), "txt" | "lst" | "csv") {
            items.extend(manifest_items(input)?);
        } else if ext == "json" && is_copick_config(input) {
            items.extend(copick_items(input, copick)?);
        } else if !input.exists() {
            return Err(PickError::input(input, "no such file or folder"));
        } else {
            return Err(PickError::input(
                input,
                "not a tomogram (.mrc .rec .map .st .ccp4 and .gz of them, .tif, .zarr), a \
                 folder, a manifest (.txt .lst .csv), a RELION 5 tomograms.star or a copick \
                 project config (.json)",
            ));
        }
    }
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for it in &items {
        if let Some(first) = seen.insert(&it.name, &it.path) {
            return Err(PickError::input(
                &it.path,
                format!(
                    "has the same name '{}' as {}; outputs are named after tomograms, so rename one",
                    it.name,
                    first.display()
                ),
            ));
        }
    }
    Ok(items)
}

fn lower_ext(p: &Path) -> String {
    p.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase()
}

/// A tomogram's name: its file name without the extension(s) (`TS_01.mrc.gz` → `TS_01`).
pub fn tomogram_name(path: &Path) -> String {
    file_item(path, None).name
}

/// A tomogram file named after its file name without the extension(s).
fn file_item(path: &Path, voxel_size: Option<VoxelSize>) -> DatasetItem {
    let mut stem = PathBuf::from(path.file_name().unwrap_or_default());
    if lower_ext(&stem) == "gz" {
        stem = PathBuf::from(stem.file_stem().unwrap_or_default());
    }
    let name = stem
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    DatasetItem {
        name,
        path: path.to_path_buf(),
        voxel_size,
        stated: StatedTiltSeries::default(),
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| tomopick_io::IoError::os(dir, e))?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

fn folder_items(dir: &Path) -> Result<Vec<DatasetItem>> {
    let entries = sorted_entries(dir)?;
    let files: Vec<DatasetItem> = entries
        .iter()
        .filter(|p| is_volume_path(p))
        .map(|p| file_item(p, None))
        .collect();
    if !files.is_empty() {
        return Ok(files);
    }
    let nested: Vec<DatasetItem> = entries
        .iter()
        .filter(|p| p.is_dir() && p.join("reconstruction.mrc").is_file())
        .map(|p| DatasetItem {
            name: p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string(),
            path: p.join("reconstruction.mrc"),
            voxel_size: None,
            stated: StatedTiltSeries::default(),
        })
        .collect();
    if nested.is_empty() {
        return Err(PickError::input(
            dir,
            "holds no tomograms (.mrc .rec .map .st .ccp4, .gz of them, .tif, .zarr) and no \
             subfolders with a reconstruction.mrc",
        ));
    }
    Ok(nested)
}

fn star_items(path: &Path) -> Result<Vec<DatasetItem>> {
    read_tomograms_star(path)?
        .into_iter()
        .map(|t| {
            let Some(file) = t.reconstruction.clone() else {
                return Err(PickError::input(
                    path,
                    "field rlnTomoReconstructedTomogram: missing, so the file names no \
                     reconstructed tomograms (reconstruct them in RELION first, or name the files)",
                ));
            };
            Ok(DatasetItem {
                name: t.name.clone(),
                path: file,
                voxel_size: t.voxel_size(),
                stated: StatedTiltSeries {
                    voltage_kv: t.voltage_kv,
                    cs_mm: t.cs_mm,
                    amplitude_contrast: t.amplitude_contrast,
                    relion_star: t.tilt_series_star.clone().map(|p| (p, t.name.clone())),
                    source: Some(path.to_path_buf()),
                    ..Default::default()
                },
            })
        })
        .collect()
}

/// A manifest: one tomogram path per line (`#` comments and blank lines skipped), or a CSV
/// whose header has a `tomogram` column and optionally `name`, `voxel_size` (Å), `defocus`
/// (the tilt series' mean, µm, underfocus positive), `tilt_max` (its largest |tilt|, °) and
/// `phase_flipped` (yes/no, true/false or 1/0: the projections were CTF-corrected by phase
/// flipping before reconstruction; it shapes the CTF of the row's `defocus`).
/// Relative paths are relative to the manifest's folder.
fn manifest_items(path: &Path) -> Result<Vec<DatasetItem>> {
    let text = std::fs::read_to_string(path).map_err(|e| tomopick_io::IoError::os(path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let bad = |line: usize, m: String| PickError::input(path, format!("line {line}: {m}"));
    let split =
        |l: &str| -> Vec<String> { l.split([',', '\t']).map(|f| f.trim().to_string()).collect() };
    let header = lines.first().map(|(_, l)| split(l)).unwrap_or_default();
    let col = |n: &str| header.iter().position(|h| h.eq_ignore_ascii_case(n));
    let mut out = Vec::new();
    if let Some(tc) = col("tomogram") {
        let (nc, vc) = (col("name"), col("voxel_size"));
        let (dc, tc_max, fc) = (col("defocus"), col("tilt_max"), col("phase_flipped"));
        for &(line, l) in &lines[1..] {
            let f = split(l);
            let get = |c: usize| f.get(c).map(String::as_str).unwrap_or("");
            let file = get(tc);
            if file.is_empty() {
                return Err(bad(line, "column tomogram: empty".into()));
            }
            // An empty or missing cell states nothing; a present one must be in (0, max].
            let number = |c: Option<usize>, what: &str, max: f64| -> Result<Option<f64>> {
                match c.map(get).filter(|v| !v.is_empty()) {
                    Some(v) => match v.parse::<f64>() {
                        Ok(x) if x > 0.0 && x <= max => Ok(Some(x)),
                        _ => Err(bad(
                            line,
                            format!("column {what}: '{v}' is not a number in (0, {max}]"),
                        )),
                    },
                    None => Ok(None),
                }
            };
            let vs = number(vc, "voxel_size (Å)", 1e4)?.map(VoxelSize::isotropic);
            let mut it = file_item(&dir.join(file), vs);
            it.stated = StatedTiltSeries {
                defocus_um: number(dc, "defocus (µm, underfocus positive)", 20.0)?,
                tilt_max_deg: number(tc_max, "tilt_max (°)", 90.0)?,
                phase_flipped: match fc.map(get).filter(|v| !v.is_empty()) {
                    Some(v) => Some(yes_no(v).ok_or_else(|| {
                        bad(
                            line,
                            format!("column phase_flipped: '{v}' is not yes/no, true/false or 1/0"),
                        )
                    })?),
                    None => None,
                },
                source: Some(path.to_path_buf()),
                ..Default::default()
            };
            if it.stated.phase_flipped.is_some() && it.stated.defocus_um.is_none() {
                return Err(bad(
                    line,
                    "column phase_flipped: says how the CTF of the row's defocus was corrected, \
                     but the row states no defocus"
                        .into(),
                ));
            }
            if it.stated.defocus_um.is_none() && it.stated.tilt_max_deg.is_none() {
                it.stated = StatedTiltSeries::default();
            }
            if let Some(n) = nc.map(get).filter(|n| !n.is_empty()) {
                it.name = n.to_string();
            }
            out.push(it);
        }
    } else {
        for &(line, l) in &lines {
            let p = dir.join(l);
            if !is_volume_path(&p) {
                return Err(bad(
                    line,
                    format!(
                        "'{l}' is not a tomogram file name (.mrc .rec .map .st .ccp4, .gz of them, .tif, .zarr); a CSV manifest needs a 'tomogram' column"
                    ),
                ));
            }
            out.push(file_item(&p, None));
        }
    }
    if out.is_empty() {
        return Err(PickError::input(path, "the manifest lists no tomograms"));
    }
    Ok(out)
}

/// A manifest's yes/no cell (case-insensitive): yes/no, true/false, 1/0.
fn yes_no(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Some(true),
        "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// The runs of a copick project, each with its tomogram of the selected type and spacing (a run
/// without one is still listed, so that its pick fails and is reported by name).
fn copick_items(config: &Path, sel: &CopickSelect) -> Result<Vec<DatasetItem>> {
    let project = CopickProject::open(config)?;
    let runs = project.runs();
    if runs.is_empty() {
        return Err(PickError::input(
            config,
            format!(
                "the project has no runs (no folders under {}/ExperimentRuns)",
                project.overlay_root.display()
            ),
        ));
    }
    Ok(runs
        .into_iter()
        .map(|run| DatasetItem {
            path: project.tomogram(&run, sel.voxel_spacing_a, &sel.tomo_type),
            name: run,
            voxel_size: Some(VoxelSize::isotropic(sel.voxel_spacing_a)),
            stated: StatedTiltSeries::default(),
        })
        .collect())
}
