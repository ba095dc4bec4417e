//! Evaluation reports: a terminal table, Markdown and JSON.

use crate::confusion::Confusion;
use crate::counts::Scores;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The result of one metric.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricReport {
    /// `shrec` or `czii`.
    pub metric: String,
    /// Class-agnostic scores.
    pub overall: Scores,
    /// Scores per class.
    pub per_class: BTreeMap<String, Scores>,
    /// True class × class of the first pick that found it.
    pub confusion: Confusion,
    /// Mean distance in Å between found particles and the pick that found them first.
    pub mean_distance_a: Option<f64>,
    /// Weighted mean of the per-class F-beta (CZII's leaderboard score).
    pub weighted_f_beta: Option<f64>,
}

/// Everything `tomopick evaluate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// The picks file.
    pub picks: String,
    /// The truth file.
    pub truth: String,
    /// Beta of the F-beta scores.
    pub beta: f64,
    /// CZII match threshold as a fraction of the radius.
    pub threshold: f64,
    /// Picks whose position lies outside the tomogram (counted as false positives).
    pub picks_outside_volume: usize,
    /// How the SHREC occupancy mask was obtained.
    pub occupancy_source: Option<String>,
    /// The SHREC metric, when a volume size was known.
    pub shrec: Option<MetricReport>,
    /// The CZII metric.
    pub czii: MetricReport,
}

/// One table row; the F-beta column only when beta is not 1 (then it equals F1).
fn row(name: &str, s: &Scores, with_f_beta: bool) -> String {
    let mut r = format!(
        "| {name} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
        s.n_truth, s.n_picks, s.tp, s.fp, s.duplicates, s.precision, s.recall, s.f1
    );
    if with_f_beta {
        let _ = write!(r, " {:.3} |", s.f_beta);
    }
    r
}

impl EvalReport {
    /// The report as Markdown (also used for the terminal).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# tomopick evaluation\n\n- picks: `{}`\n- truth: `{}`",
            self.picks, self.truth
        );
        let _ = writeln!(
            out,
            "- F-beta uses beta = {}; CZII matches within {} × class radius",
            self.beta, self.threshold
        );
        if self.picks_outside_volume > 0 {
            let _ = writeln!(
                out,
                "- **{} picks lie outside the tomogram** and count as false positives",
                self.picks_outside_volume
            );
        }
        if let Some(src) = &self.occupancy_source {
            let _ = writeln!(out, "- SHREC occupancy: {src}");
        }
        for m in self.shrec.iter().chain(std::iter::once(&self.czii)) {
            let title = if m.metric == "shrec" {
                "SHREC (occupancy mask; duplicates count against precision)"
            } else {
                "CZII (distance matching)"
            };
            let _ = writeln!(out, "\n## {title}\n");
            let with_f_beta = self.beta != 1.0;
            let mut header =
                "| class | truth | picks | TP | FP | dup | precision | recall | F1 |".to_string();
            let mut rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|".to_string();
            if with_f_beta {
                let _ = write!(header, " F{} |", self.beta);
                rule.push_str("---:|");
            }
            let _ = writeln!(out, "{header}\n{rule}");
            let _ = writeln!(
                out,
                "{}",
                row("**all (class-agnostic)**", &m.overall, with_f_beta)
            );
            for (c, s) in &m.per_class {
                let _ = writeln!(out, "{}", row(c, s, with_f_beta));
            }
            if let Some(d) = m.mean_distance_a {
                let _ = writeln!(out, "\nMean centre distance of found particles: {d:.1} Å");
            }
            if let Some(w) = m.weighted_f_beta {
                let _ = writeln!(out, "\nWeighted mean per-class F{}: {w:.4}", self.beta);
            }
            let _ = writeln!(
                out,
                "\nConfusion (rows: true class; columns: class of the first pick that found it)\n"
            );
            out.push_str(&m.confusion.to_markdown("true \\ picked"));
        }
        out
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialise")
    }
}
