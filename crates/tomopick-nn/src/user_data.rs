//! Training cubes cut from the user's own tomograms and picks, for fine-tuning.
//!
//! Each tomogram is standardised (mean 0, SD 1) as picking does; a cube is a random box of it
//! (seeded per cube) with the picks inside as boxes of their class's diameter. A second,
//! optional list names places the labels are unsure of (`uncertain`: candidates under the pick
//! threshold); the network is taught neither particle nor background there.

use crate::error::{NnError, Result};
use crate::targets::TrueBox;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tomopick_io::volume::standard_scale;
use tomopick_io::{ListContext, Volume, VoxelSize, open_volume, read_particles};

/// One tomogram with its picks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserTomogram {
    /// The tomogram (MRC, TIFF, OME-Zarr).
    pub tomogram: PathBuf,
    /// Its picks, in any list format tomopick reads.
    pub picks: PathBuf,
    /// Voxel size in Å, when the header's is wrong or missing.
    #[serde(default)]
    pub voxel_size_a: Option<f64>,
    /// Binning of the tomogram relative to the picks' pixels (pixel-based lists).
    #[serde(default)]
    pub binning: Option<f64>,
    /// Places that are neither a pick nor surely background, in any list format (for
    /// self-training: the model's candidates under its threshold). Predictions there are left
    /// out of the no-object loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<PathBuf>,
}

/// A cube cut from a user tomogram: image `[z, y, x]`, its picks and its uncertain places.
pub struct UserCube {
    /// Standardised voxels, `[z, y, x]` row-major.
    pub image: Vec<f32>,
    /// The picks inside, cube voxels.
    pub boxes: Vec<TrueBox>,
    /// The uncertain places inside, cube voxels.
    pub uncertain: Vec<TrueBox>,
}

/// One loaded tomogram: standardised voxels, picks and uncertain places (tomogram voxels).
struct Loaded {
    volume: Volume,
    boxes: Vec<TrueBox>,
    uncertain: Vec<TrueBox>,
}

/// The place of `class` (from the list `list`) among the `classes` trained, or an error that
/// names the list, the class and the classes there are.
pub fn class_index(classes: &[String], class: &str, list: &std::path::Path) -> Result<usize> {
    classes.iter().position(|c| c == class).ok_or_else(|| {
        NnError::Config(format!(
            "{}: class '{class}' is not one of the classes trained [{}]",
            list.display(),
            classes.join(", ")
        ))
    })
}

/// Loaded user tomograms, ready to cut cubes from.
pub struct UserCubes {
    volumes: Vec<Loaded>,
    size: usize,
}

impl UserCubes {
    /// Reads every tomogram and its picks; refuses a voxel size more than 10 % from
    /// `voxel_size_a` and classes outside `classes`.
    pub fn load(
        items: &[UserTomogram],
        classes: &[String],
        diameters_vox: &[f64],
        voxel_size_a: f64,
        size: usize,
    ) -> Result<Self> {
        let mut volumes = Vec::new();
        for it in items {
            let mut vol = open_volume(&it.tomogram, it.voxel_size_a.map(VoxelSize::isotropic))?;
            let vs = vol.voxel_size;
            if vs
                .as_array()
                .iter()
                .any(|v| (v / voxel_size_a - 1.0).abs() > 0.1)
            {
                return Err(NnError::Config(format!(
                    "{}: voxel size {:.3} Å is more than 10 % from the training voxel size {voxel_size_a} Å; bin the tomogram or set voxel_size_a",
                    it.tomogram.display(),
                    vs.x
                )));
            }
            let ctx = ListContext {
                voxel_size: Some(vs),
                binning: it.binning,
                tomo_shape_xyz: Some(vol.shape_xyz()),
                ..ListContext::default()
            };
            let boxes = read_boxes(&it.picks, &ctx, classes, diameters_vox, vs)?;
            let uncertain = match &it.uncertain {
                Some(list) => read_boxes(list, &ctx, classes, diameters_vox, vs)?,
                None => Vec::new(),
            };
            let st = vol.stats();
            if st.nan + st.inf > 0 {
                return Err(NnError::Config(format!(
                    "{}: {} voxels are NaN or infinite",
                    it.tomogram.display(),
                    st.nan + st.inf
                )));
            }
            let (mean, inv) = (st.mean as f32, standard_scale(st.rms));
            vol.data.mapv_inplace(|v| (v - mean) * inv);
            volumes.push(Loaded {
                volume: vol,
                boxes,
                uncertain,
            });
        }
        Ok(UserCubes { volumes, size })
    }

    /// Cube `index` of stream `seed`.
    pub fn cube(&self, seed: u64, index: u64) -> UserCube {
        let mut rng =
            ChaCha8Rng::seed_from_u64(tomopick_sim::subtomo::mix_seed(seed ^ 0x5553_4552, index));
        let t = &self.volumes[rng.random_range(0..self.volumes.len())];
        let n = self.size as i64;
        let shape = t.volume.shape_xyz();
        let origin: [i64; 3] = std::array::from_fn(|a| {
            let room = shape[a] as i64 - n;
            if room > 0 {
                rng.random_range(0..=room)
            } else {
                room / 2
            }
        });
        let image = t.volume.block(origin, [self.size; 3], |v| v);
        UserCube {
            image: image.into_raw_vec_and_offset().0,
            boxes: inside(&t.boxes, origin, n, false),
            uncertain: inside(&t.uncertain, origin, n, true),
        }
    }
}

/// The boxes of a list, tomogram voxels, each of its class's diameter.
fn read_boxes(
    list: &std::path::Path,
    ctx: &ListContext,
    classes: &[String],
    diameters_vox: &[f64],
    vs: VoxelSize,
) -> Result<Vec<TrueBox>> {
    read_particles(list, None, ctx)?
        .iter()
        .map(|p| {
            let class = class_index(classes, &p.class, list)?;
            Ok(TrueBox {
                centre_vox: p.pos_a.to_voxels(vs).as_array(),
                diameter_vox: diameters_vox[class],
                class,
            })
        })
        .collect()
}

/// The boxes whose centres lie in the cube of `n` voxels at `origin` (with `reach`, also those
/// just outside whose spheres reach into it), in its voxels.
fn inside(boxes: &[TrueBox], origin: [i64; 3], n: i64, reach: bool) -> Vec<TrueBox> {
    boxes
        .iter()
        .filter_map(|b| {
            let c: [f64; 3] = std::array::from_fn(|a| b.centre_vox[a] - origin[a] as f64);
            let r = if reach { b.diameter_vox / 2.0 } else { 0.0 };
            c.iter()
                .all(|&v| v >= -r && v < n as f64 + r)
                .then_some(TrueBox {
                    centre_vox: c,
                    ..*b
                })
        })
        .collect()
}
