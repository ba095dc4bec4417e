//! Every class's score at each pick, not only the winner's: the detector's class probabilities
//! and, when template matching ran, each class's correlation and z-score. `pick --class-scores`
//! writes them, so that a user can weigh the classes (or the two stages) their own way, and the
//! foreign suite can measure how the stages combine.

use crate::error::Result;
use crate::template_match::TemplateScores;
use std::fmt::Write as _;
use std::path::Path;
use tomopick_io::Particle;
use tomopick_io::atomic::write_atomic;
use tomopick_io::lists::num;

/// The scores behind each pick's class, in the order of the picks.
#[derive(Debug, Clone)]
pub struct ClassScores {
    /// The classes, in the order of every score row (the detector's class order).
    pub classes: Vec<String>,
    /// Per pick: the detector's probability of each class (softmax over the classes).
    pub detector: Vec<Vec<f32>>,
    /// Per pick: template matching's scores, when it ran.
    pub templates: Option<TemplateScores>,
}

/// The CSV columns before the score columns: class, position (Å), score, then the score
/// columns named `<prefix><class>` for each prefix.
pub(crate) fn score_header(first: &str, prefixes: &[&str], classes: &[String]) -> String {
    let mut text = String::from(first);
    for prefix in prefixes {
        for k in classes {
            let _ = write!(text, ",{prefix}{k}");
        }
    }
    text.push('\n');
    text
}

/// One CSV row: the pick's class, position (Å) and score as the CSV list writes them, `extra`
/// leading columns, then the values, 4 decimals each.
pub(crate) fn score_row<'a>(
    text: &mut String,
    p: &Particle,
    extra: &str,
    values: impl IntoIterator<Item = &'a f32>,
) {
    let pos = p.pos_a.as_array();
    let _ = write!(
        text,
        "{},{},{},{},{}{extra}",
        p.class,
        num(pos[0]),
        num(pos[1]),
        num(pos[2]),
        p.score.map(num).unwrap_or_default(),
    );
    for v in values {
        let _ = write!(text, ",{v:.4}");
    }
    text.push('\n');
}

impl ClassScores {
    /// CSV, one row per pick: its class, position (Å) and score as in the picks list, then
    /// the detector's probability of every class (`p_<class>`), and when template matching
    /// ran, every class's correlation (`cc_<class>`) and z-score (`z_<class>`). `picks` are
    /// the picks these scores were made for ([`crate::Picked::picks`]), in their order.
    pub fn csv(&self, picks: &[Particle]) -> String {
        let tables = self.tables();
        let prefixes: Vec<&str> = tables.iter().map(|(prefix, _)| *prefix).collect();
        let mut text = score_header("class,x,y,z,score", &prefixes, &self.classes);
        for (i, p) in picks.iter().enumerate() {
            let values = tables.iter().flat_map(|(_, rows)| &rows[i]);
            score_row(&mut text, p, "", values);
        }
        text
    }

    /// The score tables with their column prefixes, in the order the columns go: `p_` (the
    /// detector), then `cc_` and `z_` when template matching ran. Each table has one row per
    /// pick and one value per class ([`ClassScores::classes`]).
    pub fn tables(&self) -> Vec<(&'static str, &[Vec<f32>])> {
        let mut tables = vec![("p_", self.detector.as_slice())];
        if let Some(t) = &self.templates {
            tables.extend(t.tables());
        }
        tables
    }

    /// Writes [`ClassScores::csv`] to `path`, whole or not at all.
    pub fn write_csv(&self, path: &Path, picks: &[Particle]) -> Result<()> {
        let text = self.csv(picks);
        Ok(write_atomic(path, |w| {
            std::io::Write::write_all(w, text.as_bytes())
        })?)
    }
}
