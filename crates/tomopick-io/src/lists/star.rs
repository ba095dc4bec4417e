//! A small STAR file reader and writer (the subset RELION, pytom and Warp write):
//! `data_` blocks holding `loop_` tables or `_label value` pairs.

use crate::error::{IoError, Result};
use std::path::Path;

/// One `data_` block.
#[derive(Debug, Clone, Default)]
pub struct StarBlock {
    /// The name after `data_`.
    pub name: String,
    /// Column labels without the leading underscore, e.g. `rlnCoordinateX`.
    pub labels: Vec<String>,
    /// Rows: the values and the 1-based line each came from.
    pub rows: Vec<(usize, Vec<String>)>,
}

impl StarBlock {
    /// The index of a column.
    pub fn col(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }
    /// True when all `labels` are columns.
    pub fn has_all(&self, labels: &[&str]) -> bool {
        labels.iter().all(|l| self.col(l).is_some())
    }
    /// The value at `row`, column `label`, parsed as a number; errors name the line and column.
    pub fn number(&self, path: &Path, row: usize, label: &str) -> Result<Option<f64>> {
        let Some(c) = self.col(label) else {
            return Ok(None);
        };
        let (line, vals) = &self.rows[row];
        let Some(s) = vals.get(c).map(String::as_str) else {
            return Err(IoError::line(
                path,
                *line,
                format!("column {label}: no value (the row is shorter than the column list)"),
            ));
        };
        s.parse::<f64>().map(Some).map_err(|_| {
            IoError::line(
                path,
                *line,
                format!("column {label}: '{s}' is not a number"),
            )
        })
    }
    /// The text at `row`, column `label` (`None` when the column or the value is missing).
    pub fn text(&self, row: usize, label: &str) -> Option<&str> {
        let c = self.col(label)?;
        self.rows[row].1.get(c).map(String::as_str)
    }
}

/// A parsed STAR file: its blocks and its `#` comment lines.
#[derive(Debug, Clone, Default)]
pub struct StarFile {
    /// The blocks in file order.
    pub blocks: Vec<StarBlock>,
    /// Comment lines (without `#`), kept for metadata such as tomopick's class map.
    pub comments: Vec<String>,
}

impl StarFile {
    /// The block called `name`.
    pub fn block(&self, name: &str) -> Option<&StarBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
}

fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut t = String::new();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                t.push(d);
            }
            out.push(t);
        } else {
            let mut t = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                t.push(d);
                chars.next();
            }
            out.push(t);
        }
    }
    out
}

/// Parses STAR text; `path` is used in error messages.
pub fn parse_star(path: &Path, text: &str) -> Result<StarFile> {
    let mut file = StarFile::default();
    let mut cur: Option<StarBlock> = None;
    let mut in_loop = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            file.comments.push(c.trim().to_string());
            continue;
        }
        if let Some(name) = line.strip_prefix("data_") {
            if let Some(b) = cur.take() {
                file.blocks.push(b);
            }
            cur = Some(StarBlock {
                name: name.trim().to_string(),
                ..Default::default()
            });
            in_loop = false;
            continue;
        }
        let Some(block) = cur.as_mut() else {
            return Err(IoError::line(
                path,
                n,
                "text before the first data_ block: not a STAR file",
            ));
        };
        if line == "loop_" {
            in_loop = true;
            block.labels.clear();
            block.rows.clear();
            continue;
        }
        if let Some(rest) = line.strip_prefix('_') {
            let t = tokens(rest);
            let label = t.first().cloned().unwrap_or_default();
            if in_loop && block.rows.is_empty() {
                // A loop header: `_label` or `_label #n`.
                if block.labels.contains(&label) {
                    return Err(IoError::line(
                        path,
                        n,
                        format!("column _{label} is declared twice in data_{}", block.name),
                    ));
                }
                block.labels.push(label);
            } else {
                // A key-value pair: store as a one-row table.
                in_loop = false;
                let value = t.get(1).cloned().ok_or_else(|| {
                    IoError::line(path, n, format!("label _{label} has no value"))
                })?;
                block.labels.push(label);
                if block.rows.is_empty() {
                    block.rows.push((n, vec![value]));
                } else {
                    block.rows[0].1.push(value);
                }
            }
            continue;
        }
        if !in_loop {
            return Err(IoError::line(path, n, "a data row outside a loop_"));
        }
        let vals = tokens(line);
        if vals.len() != block.labels.len() {
            return Err(IoError::line(
                path,
                n,
                format!(
                    "row has {} values but the loop declares {} columns",
                    vals.len(),
                    block.labels.len()
                ),
            ));
        }
        block.rows.push((n, vals));
    }
    if let Some(b) = cur.take() {
        file.blocks.push(b);
    }
    if file.blocks.is_empty() {
        return Err(IoError::file(path, "no data_ block: not a STAR file"));
    }
    Ok(file)
}

/// Writes one loop block.
pub fn write_loop(
    out: &mut impl std::io::Write,
    name: &str,
    labels: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    writeln!(out, "\ndata_{name}\n\nloop_")?;
    for (i, l) in labels.iter().enumerate() {
        writeln!(out, "_{l} #{}", i + 1)?;
    }
    for r in rows {
        let quoted: Vec<String> = r
            .iter()
            .map(|v| {
                if v.is_empty() || v.contains(char::is_whitespace) {
                    format!("\"{v}\"")
                } else {
                    v.clone()
                }
            })
            .collect();
        writeln!(out, "{}", quoted.join("\t"))?;
    }
    Ok(())
}
