//! OME-Zarr (OME-NGFF 0.4, Zarr v2) volumes as the cryoET data portal and copick store
//! them: `<name>.zarr/.zattrs` holds `multiscales`, each scale level is an array `0`, `1`, …
//! with a `scale` transform in the axis unit (Å in copick and the portal).

use crate::error::{IoError, Result};
use crate::units::{PosAngstrom, VoxelSize};
use crate::volume::Volume;
use ndarray::Array3;
use ome_zarr_metadata::v0_4::{
    AxisUnit, AxisUnitSpace, CoordinateTransform, CoordinateTransformScale, OmeNgffGroupAttributes,
};
use std::path::Path;
use std::sync::Arc;
use zarrs::array::{Array, ArraySubset};
use zarrs::filesystem::FilesystemStore;

/// One scale level of an OME-Zarr image.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ZarrLevel {
    /// The array's path inside the group, e.g. `0`.
    pub path: String,
    /// Voxel size of this level.
    pub voxel_size: VoxelSize,
}

/// The scale levels of an OME-Zarr image, finest first as listed.
pub fn list_levels(dir: &Path) -> Result<Vec<ZarrLevel>> {
    let attrs_path = dir.join(".zattrs");
    let text = std::fs::read_to_string(&attrs_path).map_err(|e| IoError::os(&attrs_path, e))?;
    let attrs: OmeNgffGroupAttributes = serde_json::from_str(&text).map_err(|e| {
        IoError::file(
            &attrs_path,
            format!("not OME-NGFF 0.4 group attributes: {e}"),
        )
    })?;
    let ms = attrs
        .multiscales
        .as_ref()
        .and_then(|m| m.first())
        .ok_or_else(|| {
            IoError::field(
                &attrs_path,
                "multiscales",
                "missing: this Zarr group is not an OME-Zarr image",
            )
        })?;
    let names: Vec<String> = ms.axes.iter().map(|a| a.name.to_lowercase()).collect();
    if names != ["z", "y", "x"] {
        return Err(IoError::field(
            &attrs_path,
            "multiscales.axes",
            format!("expected axes [z, y, x], found {names:?}"),
        ));
    }
    // Å per unit of the axes; copick and the data portal write "angstrom".
    let to_a = match ms.axes[0].unit.as_ref() {
        None => 1.0,
        Some(AxisUnit::Space(AxisUnitSpace::Angstrom)) => 1.0,
        Some(AxisUnit::Space(AxisUnitSpace::Nanometer)) => 10.0,
        Some(AxisUnit::Space(AxisUnitSpace::Micrometer)) => 1e4,
        Some(other) => {
            return Err(IoError::field(
                &attrs_path,
                "multiscales.axes.unit",
                format!("unit {other:?} is not a length tomopick converts"),
            ));
        }
    };
    let mut levels = Vec::new();
    for ds in &ms.datasets {
        let scale = ds.coordinate_transformations.iter().find_map(|t| match t {
            CoordinateTransform::Scale(CoordinateTransformScale::List { scale }) => {
                Some(scale.clone())
            }
            _ => None,
        });
        let s = scale.filter(|s| s.len() == 3).ok_or_else(|| {
            IoError::field(
                &attrs_path,
                format!("datasets[{}].coordinateTransformations", ds.path),
                "no 3-element scale",
            )
        })?;
        let vs = VoxelSize {
            x: s[2] as f64 * to_a,
            y: s[1] as f64 * to_a,
            z: s[0] as f64 * to_a,
        };
        if !vs.is_valid() {
            return Err(IoError::field(
                &attrs_path,
                format!("datasets[{}].scale", ds.path),
                format!("voxel size {s:?} is not positive"),
            ));
        }
        levels.push(ZarrLevel {
            path: ds.path.clone(),
            voxel_size: vs,
        });
    }
    if levels.is_empty() {
        return Err(IoError::field(
            &attrs_path,
            "multiscales.datasets",
            "lists no scale levels",
        ));
    }
    Ok(levels)
}

/// Picks the level whose voxel size is nearest to `want` (relative difference along x),
/// or the first (finest) level when `want` is `None`.
pub fn choose_level(levels: &[ZarrLevel], want: Option<f64>) -> &ZarrLevel {
    match want {
        None => &levels[0],
        Some(w) => levels
            .iter()
            .min_by(|a, b| {
                let da = (a.voxel_size.x / w).ln().abs();
                let db = (b.voxel_size.x / w).ln().abs();
                da.total_cmp(&db)
            })
            .expect("levels is not empty"),
    }
}

/// Reads the scale level of `dir` nearest to `want_voxel_size_a` (Å), or the finest level.
pub fn read_ome_zarr(dir: &Path, want_voxel_size_a: Option<f64>) -> Result<Volume> {
    let levels = list_levels(dir)?;
    let level = choose_level(&levels, want_voxel_size_a).clone();
    let store = FilesystemStore::new(dir)
        .map_err(|e| IoError::file(dir, format!("cannot open Zarr store: {e}")))?;
    let array_path = format!("/{}", level.path);
    let arr = Array::open(Arc::new(store), &array_path).map_err(|e| {
        IoError::file(
            &dir.join(&level.path),
            format!("cannot open Zarr array: {e}"),
        )
    })?;
    let shape = arr.shape().to_vec();
    if shape.len() != 3 {
        return Err(IoError::file(
            &dir.join(&level.path),
            format!("array has {} dimensions, expected 3", shape.len()),
        ));
    }
    let subset = ArraySubset::new_with_ranges(&[0..shape[0], 0..shape[1], 0..shape[2]]);
    let where_ = dir.join(&level.path);
    let bad =
        |e: zarrs::array::ArrayError| IoError::file(&where_, format!("cannot read Zarr data: {e}"));
    let dtype = zarr_dtype(&where_)?;
    let values: Vec<f32> = match dtype.as_str() {
        "f4" => arr
            .retrieve_array_subset::<Vec<f32>>(&subset)
            .map_err(bad)?,
        "f8" => arr
            .retrieve_array_subset::<Vec<f64>>(&subset)
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "f2" => arr
            .retrieve_array_subset::<Vec<half::f16>>(&subset)
            .map_err(bad)?
            .into_iter()
            .map(f32::from)
            .collect(),
        "i1" => arr
            .retrieve_array_subset::<Vec<i8>>(&subset)
            .map_err(bad)?
            .into_iter()
            .map(f32::from)
            .collect(),
        "u1" => arr
            .retrieve_array_subset::<Vec<u8>>(&subset)
            .map_err(bad)?
            .into_iter()
            .map(f32::from)
            .collect(),
        "i2" => arr
            .retrieve_array_subset::<Vec<i16>>(&subset)
            .map_err(bad)?
            .into_iter()
            .map(f32::from)
            .collect(),
        "u2" => arr
            .retrieve_array_subset::<Vec<u16>>(&subset)
            .map_err(bad)?
            .into_iter()
            .map(f32::from)
            .collect(),
        other => {
            return Err(IoError::field(
                &where_.join(".zarray"),
                "dtype",
                format!("data type {other} is not read by tomopick"),
            ));
        }
    };
    let data = Array3::from_shape_vec(
        (shape[0] as usize, shape[1] as usize, shape[2] as usize),
        values,
    )
    .map_err(|e| IoError::file(&where_, format!("data has the wrong length: {e}")))?;
    let mut vol = Volume::new(data, level.voxel_size);
    vol.origin_a = PosAngstrom::default();
    Ok(vol)
}

/// The element type code (`f4`, `i1`, …) from a Zarr v2 `.zarray`.
fn zarr_dtype(array_dir: &Path) -> Result<String> {
    let p = array_dir.join(".zarray");
    let text = std::fs::read_to_string(&p).map_err(|e| IoError::os(&p, e))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| IoError::file(&p, format!("not JSON: {e}")))?;
    let d = v
        .get("dtype")
        .and_then(|d| d.as_str())
        .ok_or_else(|| IoError::field(&p, "dtype", "missing"))?;
    Ok(d.trim_start_matches(['<', '>', '|', '=']).to_string())
}
