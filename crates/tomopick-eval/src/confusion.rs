//! Confusion matrix: for each true particle, the class of the first pick that found it.

use serde::Serialize;
use std::collections::BTreeMap;

/// Name of the column for true particles that no pick found.
pub const MISSED: &str = "(missed)";

/// Counts indexed `[true class][predicted class]`, with [`MISSED`] as a predicted class.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Confusion {
    /// Counts per true class, then per predicted class.
    pub counts: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Confusion {
    /// Adds one true particle of class `truth` found first by a pick of class `predicted`
    /// (`None` when missed).
    pub fn add(&mut self, truth: &str, predicted: Option<&str>) {
        *self
            .counts
            .entry(truth.to_string())
            .or_default()
            .entry(predicted.unwrap_or(MISSED).to_string())
            .or_default() += 1;
    }
    /// All predicted-class columns, sorted, with [`MISSED`] last.
    pub fn columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self
            .counts
            .values()
            .flat_map(|r| r.keys().cloned())
            .filter(|c| c != MISSED)
            .collect();
        cols.sort();
        cols.dedup();
        cols.push(MISSED.to_string());
        cols
    }
    /// The matrix as a Markdown table; `corner` labels the top-left cell.
    pub fn to_markdown(&self, corner: &str) -> String {
        use std::fmt::Write;
        let mut cols = self.columns();
        // No true particle was missed (or missing is not a possible outcome): no such column.
        if !self.counts.values().any(|r| r.contains_key(MISSED)) {
            cols.retain(|c| c != MISSED);
        }
        let mut out = String::new();
        let _ = writeln!(out, "| {corner} | {} |", cols.join(" | "));
        let _ = writeln!(out, "|---|{}", "---:|".repeat(cols.len()));
        for t in self.counts.keys() {
            let cells: Vec<String> = cols.iter().map(|c| self.get(t, c).to_string()).collect();
            let _ = writeln!(out, "| {t} | {} |", cells.join(" | "));
        }
        out
    }
    /// The count at `[truth][predicted]`.
    pub fn get(&self, truth: &str, predicted: &str) -> usize {
        self.counts
            .get(truth)
            .and_then(|r| r.get(predicted))
            .copied()
            .unwrap_or(0)
    }
}
