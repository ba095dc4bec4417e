//! Per-class particle radii in Å, from a TOML table or one radius for all.
//!
//! ```toml
//! [radius_a]
//! apo-ferritin = 60
//! ribosome = 150
//!
//! [weight]          # optional, for the CZII weighted F-beta
//! apo-ferritin = 1
//! ribosome = 1
//! ```

use crate::error::{EvalError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Radii (and optional weights) per class.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClassTable {
    /// Radius in Å per class name.
    #[serde(default)]
    pub radius_a: BTreeMap<String, f64>,
    /// Weight per class for the weighted F-beta (missing classes weigh 1).
    #[serde(default)]
    pub weight: BTreeMap<String, f64>,
    /// Used for every class when set (`--radius`).
    #[serde(skip)]
    pub default_radius_a: Option<f64>,
}

impl ClassTable {
    /// Reads a TOML class table.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EvalError::Input(format!("{}: {e}", path.display())))?;
        let t: ClassTable = toml::from_str(&text)
            .map_err(|e| EvalError::Input(format!("{}: not a class table: {e}", path.display())))?;
        for (c, r) in &t.radius_a {
            if !(r.is_finite() && *r > 0.0) {
                return Err(EvalError::Input(format!(
                    "{}: radius_a.{c} = {r}: a radius must be positive",
                    path.display()
                )));
            }
        }
        Ok(t)
    }
    /// One radius for every class.
    pub fn uniform(radius_a: f64) -> Self {
        ClassTable {
            default_radius_a: Some(radius_a),
            ..Default::default()
        }
    }
    /// The radius of `class`, or an error naming the class and the known ones.
    pub fn radius(&self, class: &str) -> Result<f64> {
        self.radius_a.get(class).copied().or(self.default_radius_a).ok_or_else(|| {
            EvalError::Input(format!(
                "class '{class}' is missing from the radius table (known: {}); add it, or pass --radius",
                self.radius_a.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }
    /// The weight of `class` (1 when not listed).
    pub fn weight(&self, class: &str) -> f64 {
        self.weight.get(class).copied().unwrap_or(1.0)
    }
}
