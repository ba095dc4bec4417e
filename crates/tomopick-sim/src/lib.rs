//! The tomopick simulator: atomic models to electrostatic potentials, crowded samples,
//! imaging (tilt series + WBP, or the fast 3D route), and domain randomisation.
//!
//! Conventions: positions in Å; potentials in volts; defocus Δf > 0 is underfocus; SNR is
//! the ratio of signal variance to noise variance after the imaging filters.

pub mod appearance;
mod context;
pub mod ctf;
pub mod cubes;
pub mod degradation;
pub mod error;
pub mod export;
pub mod fft;
pub mod filters3d;
pub mod imaging3d;
pub mod library;
pub mod lowpass_noise;
pub mod potential;
pub mod presets;
pub mod randomization;
pub mod resample;
pub mod rotation;
pub mod sample;
pub mod scattering;
pub mod smooth;
pub mod structure;
pub mod subtomo;
pub mod tilt;
pub mod tomogram;
pub mod variation;

pub use error::{Result, SimError};
pub use potential::{PotentialOptions, potential_map};
pub use randomization::{Dist, SubtomoConfig};
pub use scattering::{ELEMENTS, Element};
pub use structure::{Atom, Structure, read_structure};
pub use subtomo::{SubtomoGenerator, Subtomogram};
