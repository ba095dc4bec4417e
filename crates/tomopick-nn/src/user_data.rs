//! Training cubes cut from the user's own tomograms and picks, for fine-tuning.
//!
//! Each tomogram is standardised (mean 0, SD 1) as picking does; a cube is a random box of it
//! (seeded per cube) with the picks inside as boxes of their class's diameter.

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
    volumes: Vec<(Volume, Vec<TrueBox>)>,
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
            let picks = read_particles(&it.picks, None, &ctx)?;
            let boxes = picks
                .iter()
                .map(|p| {
                    let class = class_index(classes, &p.class, &it.picks)?;
                    Ok(TrueBox {
                        centre_vox: p.pos_a.to_voxels(vs).as_array(),
                        diameter_vox: diameters_vox[class],
                        class,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
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
            volumes.push((vol, boxes));
        }
        Ok(UserCubes { volumes, size })
    }

    /// Cube `index` of stream `seed`: image `[z, y, x]` and the picks in it.
    pub fn cube(&self, seed: u64, index: u64) -> (Vec<f32>, Vec<TrueBox>) {
        let mut rng =
            ChaCha8Rng::seed_from_u64(tomopick_sim::subtomo::mix_seed(seed ^ 0x5553_4552, index));
        let (vol, boxes) = &self.volumes[rng.random_range(0..self.volumes.len())];
        let n = self.size as i64;
        let shape = vol.shape_xyz();
        let origin: [i64; 3] = std::array::from_fn(|a| {
            let room = shape[a] as i64 - n;
            if room > 0 {
                rng.random_range(0..=room)
            } else {
                room / 2
            }
        });
        let image = vol.block(origin, [self.size; 3], |v| v);
        let inside = boxes
            .iter()
            .filter_map(|b| {
                let c: [f64; 3] = std::array::from_fn(|a| b.centre_vox[a] - origin[a] as f64);
                c.iter()
                    .all(|&v| v >= 0.0 && v < n as f64)
                    .then_some(TrueBox {
                        centre_vox: c,
                        ..*b
                    })
            })
            .collect();
        (image.into_raw_vec_and_offset().0, inside)
    }
}
