//! Ready-made tomogram configs and the edits the front ends offer (shape, route).

use crate::error::{Result, SimError};
use crate::randomization::Dist;
use crate::tomogram::{Route, TomogramConfig};

impl TomogramConfig {
    /// A small test tomogram like SHREC's (tilt series ±60° in 3° steps, 120 e/Å², defocus
    /// 3 µm, gold and vesicles at SHREC's density per area): `shape_xyz` voxels, `particles`
    /// particles of `classes` at `voxel_size_a`.
    pub fn test_like(
        shape_xyz: [usize; 3],
        particles: usize,
        classes: &[String],
        voxel_size_a: f64,
    ) -> Self {
        let mut c = TomogramConfig::shrec_like();
        c.shape_xyz = shape_xyz;
        c.particles = Dist::Fixed(particles as f64);
        c.classes = classes.to_vec();
        c.voxel_size_a = voxel_size_a;
        c.ice_thickness_a = Dist::Fixed(shape_xyz[2] as f64 * voxel_size_a);
        // SHREC's density of distractors: 30 gold beads and 2 vesicles per 512 × 512 voxels,
        // and at least one vesicle (a small validation tomogram must show a membrane).
        let area = (shape_xyz[0] * shape_xyz[1]) as f64 / 512.0 / 512.0;
        c.gold = Dist::Fixed((area * 30.0).round());
        c.vesicles = Dist::Fixed((area * 2.0).ceil());
        c.imaging.route = Route::Tilt;
        c
    }

    /// Sets the volume's size in voxels, thinning the ice to 90 % of the depth when it would not
    /// fit.
    pub fn set_shape(&mut self, shape_xyz: [usize; 3]) {
        self.shape_xyz = shape_xyz;
        let depth = shape_xyz[2] as f64 * self.voxel_size_a;
        if self.ice_thickness_a.range().1 > depth {
            self.ice_thickness_a = Dist::Fixed(0.9 * depth);
        }
    }

    /// Chooses the imaging route by name: `tilt` (tilt series + weighted back-projection) or
    /// `fast` (the 3D route; SNR 0.1 unless the config sets one, no dose).
    pub fn set_route(&mut self, route: &str) -> Result<()> {
        self.imaging.route = match route {
            "tilt" => Route::Tilt,
            "fast" => {
                if self.imaging.snr.is_none() {
                    self.imaging.snr = Some(Dist::Fixed(0.1));
                }
                self.imaging.dose_e_per_a2 = None;
                Route::Fast
            }
            other => {
                return Err(SimError::Parameter(format!(
                    "route {other}: choose tilt or fast"
                )));
            }
        };
        Ok(())
    }
}
