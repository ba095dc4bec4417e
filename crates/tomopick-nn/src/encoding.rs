//! The detector's output encoding, as in the detector paper: a grid of stride 4; in each cell
//! A anchors, each predicting `(x, y, z, size, confidence, C class logits)`:
//! `centre = (cell + sigmoid(t)) × stride`, `size = anchor × exp(t_size)`,
//! `confidence = sigmoid(t_conf)`, class probabilities = softmax of the logits.
//!
//! Raw outputs are laid out as the network emits them: `[A·(5+C), D, H, W]` per item, anchor
//! major, then the 5 + C fields, then z, y, x.

/// The grid encoding of one network.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding {
    /// Voxels per grid cell along each axis.
    pub stride: usize,
    /// Anchor sizes (diameters) in voxels.
    pub anchors: Vec<f64>,
    /// Number of classes.
    pub classes: usize,
}

/// A decoded prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Centre, voxels `[x, y, z]` of the input cube.
    pub centre: [f64; 3],
    /// Diameter, voxels.
    pub size: f64,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Most likely class.
    pub class: usize,
    /// Its probability.
    pub class_probability: f64,
    /// Every class's probability (the softmax of the logits), in the model's class order.
    pub class_probabilities: Vec<f32>,
}

/// Intersection over union of two spheres given by centre and diameter (same units).
pub fn sphere_iou(c1: [f64; 3], d1: f64, c2: [f64; 3], d2: f64) -> f64 {
    let (r1, r2) = (d1 / 2.0, d2 / 2.0);
    let d = (0..3).map(|k| (c1[k] - c2[k]).powi(2)).sum::<f64>().sqrt();
    let vol = |r: f64| 4.0 / 3.0 * std::f64::consts::PI * r.powi(3);
    let inter = if d >= r1 + r2 {
        0.0
    } else if d <= (r1 - r2).abs() {
        vol(r1.min(r2))
    } else {
        // Lens of two intersecting spheres.
        std::f64::consts::PI
            * (r1 + r2 - d).powi(2)
            * (d * d + 2.0 * d * (r1 + r2) - 3.0 * (r1 - r2).powi(2))
            / (12.0 * d)
    };
    let union = vol(r1) + vol(r2) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

impl Encoding {
    /// Channels the network must output: A·(5 + C).
    pub fn channels(&self) -> usize {
        self.anchors.len() * (5 + self.classes)
    }

    /// Decodes raw outputs of one item (`[A·(5+C), d, h, w]`, row-major) into the predictions
    /// whose confidence reaches `threshold`.
    pub fn decode(&self, raw: &[f32], grid_dhw: [usize; 3], threshold: f64) -> Vec<Prediction> {
        let [d, h, w] = grid_dhw;
        let cells = d * h * w;
        assert_eq!(
            raw.len(),
            self.channels() * cells,
            "raw output does not match the grid and encoding"
        );
        let field = |a: usize, f: usize, cell: usize| {
            raw[(a * (5 + self.classes) + f) * cells + cell] as f64
        };
        let s = self.stride as f64;
        let mut out = Vec::new();
        for (a, &anchor) in self.anchors.iter().enumerate() {
            for cell in 0..cells {
                let confidence = sigmoid(field(a, 4, cell));
                if confidence < threshold {
                    continue;
                }
                let (z, y, x) = (cell / (h * w), (cell / w) % h, cell % w);
                let logits: Vec<f64> = (0..self.classes).map(|c| field(a, 5 + c, cell)).collect();
                let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = logits.iter().map(|l| (l - m).exp()).collect();
                let total: f64 = e.iter().sum();
                let (class, best) =
                    e.iter().enumerate().fold(
                        (0, 0.0),
                        |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
                    );
                out.push(Prediction {
                    centre: [
                        (x as f64 + sigmoid(field(a, 0, cell))) * s,
                        (y as f64 + sigmoid(field(a, 1, cell))) * s,
                        (z as f64 + sigmoid(field(a, 2, cell))) * s,
                    ],
                    size: anchor * field(a, 3, cell).exp(),
                    confidence,
                    class,
                    class_probability: best / total,
                    class_probabilities: e.iter().map(|v| (v / total) as f32).collect(),
                });
            }
        }
        out
    }

    /// The raw outputs that decode to exactly `particles` (`(centre [x, y, z], size, class)`),
    /// each on the anchor nearest its size, with the given confidence and class probability.
    /// Cells without a particle get a very low confidence. For tests and training targets.
    pub fn encode(
        &self,
        particles: &[([f64; 3], f64, usize)],
        grid_dhw: [usize; 3],
        confidence: f64,
    ) -> Vec<f32> {
        let [d, h, w] = grid_dhw;
        let cells = d * h * w;
        let mut raw = vec![0f32; self.channels() * cells];
        let nf = 5 + self.classes;
        for a in 0..self.anchors.len() {
            for cell in 0..cells {
                raw[(a * nf + 4) * cells + cell] = -20.0;
            }
        }
        let s = self.stride as f64;
        for &(c, size, class) in particles {
            let a = self.nearest_anchor(size);
            let g = [(c[0] / s).floor(), (c[1] / s).floor(), (c[2] / s).floor()];
            let cell = (g[2] as usize * h + g[1] as usize) * w + g[0] as usize;
            let mut set = |f: usize, v: f64| raw[(a * nf + f) * cells + cell] = v as f32;
            for k in 0..3 {
                set(k, logit((c[k] / s - g[k]).clamp(1e-4, 1.0 - 1e-4)));
            }
            set(3, (size / self.anchors[a]).ln());
            set(4, logit(confidence));
            set(5 + class, 8.0);
        }
        raw
    }

    /// The anchor whose size is nearest `size` (on a log scale).
    pub fn nearest_anchor(&self, size: f64) -> usize {
        self.anchors
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 / size).ln().abs().total_cmp(&(b.1 / size).ln().abs()))
            .map(|(i, _)| i)
            .expect("at least one anchor")
    }
}

/// `k` anchor sizes from 1D k-means over particle sizes (deterministic: quantile start, Lloyd
/// iterations until nothing moves). Returned in ascending order.
pub fn kmeans_anchors(sizes: &[f64], k: usize) -> Vec<f64> {
    assert!(k > 0 && !sizes.is_empty(), "k-means needs sizes and k > 0");
    let mut s = sizes.to_vec();
    s.sort_by(f64::total_cmp);
    let mut centres: Vec<f64> = (0..k)
        .map(|i| s[((2 * i + 1) * s.len() / (2 * k)).min(s.len() - 1)])
        .collect();
    for _ in 0..100 {
        let mut sum = vec![0.0; k];
        let mut n = vec![0usize; k];
        for &x in &s {
            let j = (0..k)
                .min_by(|&a, &b| (x - centres[a]).abs().total_cmp(&(x - centres[b]).abs()))
                .expect("k > 0");
            sum[j] += x;
            n[j] += 1;
        }
        let next: Vec<f64> = (0..k)
            .map(|j| {
                if n[j] > 0 {
                    sum[j] / n[j] as f64
                } else {
                    centres[j]
                }
            })
            .collect();
        if next == centres {
            break;
        }
        centres = next;
    }
    centres.sort_by(f64::total_cmp);
    centres
}
