//! Atomic models from PDB and mmCIF files (plain or gzipped), with biological assemblies from
//! REMARK 350 BIOMT (PDB) or `_pdbx_struct_assembly_gen` / `_pdbx_struct_oper_list` (mmCIF).
//!
//! Waters (HOH, WAT, DOD) are dropped: the solvent is modelled as ice. Only the first model and
//! the first alternate location are kept.

use crate::error::{Result, structure_err};
use crate::scattering::Element;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// One atom.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Its element (unknown elements are carbon; see [`Structure::unknown_elements`]).
    pub element: &'static Element,
    /// Position in Å.
    pub pos_a: [f64; 3],
    /// Isotropic B-factor in Å².
    pub b_factor: f64,
    /// Occupancy in [0, 1] (1 when the file gives none); weights the atom's potential.
    pub occupancy: f64,
    /// Chain id used by the assembly records (PDB chain, mmCIF `label_asym_id`).
    pub chain: String,
}

/// A rigid operation `x' = R x + t` (Å).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Operation {
    /// Row-major rotation.
    pub r: [[f64; 3]; 3],
    /// Translation in Å.
    pub t: [f64; 3],
}

impl Operation {
    fn identity() -> Self {
        Operation {
            r: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            t: [0.0; 3],
        }
    }
    fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let mut o = self.t;
        for (i, oi) in o.iter_mut().enumerate() {
            *oi += self.r[i][0] * p[0] + self.r[i][1] * p[1] + self.r[i][2] * p[2];
        }
        o
    }
    /// `self ∘ other`: apply `other` first.
    fn compose(&self, other: &Operation) -> Operation {
        let mut r = [[0.0; 3]; 3];
        for (i, ri) in r.iter_mut().enumerate() {
            for (j, rij) in ri.iter_mut().enumerate() {
                *rij = (0..3).map(|k| self.r[i][k] * other.r[k][j]).sum();
            }
        }
        Operation {
            r,
            t: self.apply(other.t),
        }
    }
}

/// One biological assembly: groups of chains, each copied by a list of operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembly {
    /// The assembly id (`1`, `2`, …).
    pub id: String,
    /// (chains, operations) pairs.
    pub parts: Vec<(Vec<String>, Vec<Operation>)>,
}

/// An atomic model.
#[derive(Debug, Clone)]
pub struct Structure {
    /// A name, from the file name.
    pub name: String,
    /// The atoms of the asymmetric unit (first model).
    pub atoms: Vec<Atom>,
    /// Assemblies declared in the file.
    pub assemblies: Vec<Assembly>,
    /// Element symbols that have no scattering factors here, with counts (treated as carbon).
    pub unknown_elements: BTreeMap<String, usize>,
}

impl Structure {
    /// The atoms of assembly `id`, or of the first assembly when `id` is `None` (the asymmetric
    /// unit when the file declares none).
    pub fn assembly_atoms(&self, id: Option<&str>) -> Result<Vec<Atom>> {
        let asm = match id {
            Some(id) => self.assemblies.iter().find(|a| a.id == id).ok_or_else(|| {
                crate::error::SimError::Parameter(format!(
                    "{}: assembly '{id}' does not exist (the file declares: {})",
                    self.name,
                    if self.assemblies.is_empty() {
                        "none".to_string()
                    } else {
                        self.assemblies
                            .iter()
                            .map(|a| a.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ))
            })?,
            None => match self.assemblies.first() {
                Some(a) => a,
                None => return Ok(self.atoms.clone()),
            },
        };
        let mut out = Vec::new();
        for (chains, ops) in &asm.parts {
            for op in ops {
                for a in self
                    .atoms
                    .iter()
                    .filter(|a| chains.iter().any(|c| c == &a.chain))
                {
                    out.push(Atom {
                        pos_a: op.apply(a.pos_a),
                        ..a.clone()
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Reads a PDB or mmCIF file, gzipped or not, chosen by the name (`.cif`, `.mmcif` → mmCIF).
pub fn read_structure(path: &Path) -> Result<Structure> {
    let raw = std::fs::read(path).map_err(|e| tomopick_io::IoError::os(path, e))?;
    parse_structure_bytes(path, &raw)
}

/// Parses the bytes of a PDB or mmCIF file; `path` gives the format (by its name) and the
/// name used in messages.
pub fn parse_structure_bytes(path: &Path, raw: &[u8]) -> Result<Structure> {
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::GzDecoder::new(raw)
            .read_to_string(&mut s)
            .map_err(|e| structure_err(path, 0, format!("cannot decompress: {e}")))?;
        s
    } else {
        String::from_utf8(raw.to_vec()).map_err(|_| structure_err(path, 0, "not a text file"))?
    };
    let lower = path.to_string_lossy().to_lowercase();
    let name = path
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .split('.')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    let s = if lower.contains(".cif") {
        parse_mmcif(path, &text, name)?
    } else {
        parse_pdb(path, &text, name)?
    };
    if s.atoms.is_empty() {
        return Err(structure_err(
            path,
            0,
            "the file holds no atoms (no ATOM/HETATM records)",
        ));
    }
    Ok(s)
}

fn is_water(res: &str) -> bool {
    matches!(res.trim(), "HOH" | "WAT" | "DOD" | "H2O")
}

fn element_of(symbol: &str, unknown: &mut BTreeMap<String, usize>) -> &'static Element {
    match Element::from_symbol(symbol) {
        Some(e) => e,
        None => {
            *unknown.entry(symbol.trim().to_string()).or_default() += 1;
            Element::carbon()
        }
    }
}

fn col(line: &str, a: usize, b: usize) -> &str {
    line.get(a..b.min(line.len())).unwrap_or("")
}

/// Parses PDB text.
pub fn parse_pdb(path: &Path, text: &str, name: String) -> Result<Structure> {
    let mut atoms = Vec::new();
    let mut unknown = BTreeMap::new();
    let mut assemblies: Vec<Assembly> = Vec::new();
    let mut chains: Vec<String> = Vec::new();
    let mut new_chain_list = false;
    let mut biomt: BTreeMap<usize, Operation> = BTreeMap::new();
    let flush = |assemblies: &mut Vec<Assembly>,
                 chains: &[String],
                 biomt: &mut BTreeMap<usize, Operation>| {
        if let Some(a) = assemblies.last_mut()
            && !biomt.is_empty()
        {
            a.parts
                .push((chains.to_vec(), biomt.values().copied().collect()));
        }
        biomt.clear();
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with("ENDMDL") {
            break;
        }
        if line.starts_with("REMARK 350") {
            let body = line.get(10..).unwrap_or("").trim();
            if let Some(id) = body.strip_prefix("BIOMOLECULE:") {
                flush(&mut assemblies, &chains, &mut biomt);
                assemblies.push(Assembly {
                    id: id.trim().to_string(),
                    parts: Vec::new(),
                });
            } else if let Some(list) = body.strip_prefix("APPLY THE FOLLOWING TO CHAINS:") {
                flush(&mut assemblies, &chains, &mut biomt);
                chains = list
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                new_chain_list = true;
            } else if let Some(list) = body.strip_prefix("AND CHAINS:") {
                chains.extend(
                    list.split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty()),
                );
            } else if body.starts_with("BIOMT") {
                let t: Vec<&str> = body.split_whitespace().collect();
                let row = t[0]
                    .trim_start_matches("BIOMT")
                    .parse::<usize>()
                    .ok()
                    .filter(|r| (1..=3).contains(r));
                let nums: Option<Vec<f64>> = t.get(1..6).and_then(|v| {
                    v.iter()
                        .map(|x| x.parse::<f64>().ok())
                        .collect::<Option<Vec<_>>>()
                });
                let (Some(row), Some(nums)) = (row, nums) else {
                    return Err(structure_err(path, n, "malformed REMARK 350 BIOMT record"));
                };
                if assemblies.is_empty() || !new_chain_list && chains.is_empty() {
                    return Err(structure_err(
                        path,
                        n,
                        "BIOMT record before BIOMOLECULE / APPLY THE FOLLOWING TO CHAINS",
                    ));
                }
                let op = biomt
                    .entry(nums[0] as usize)
                    .or_insert_with(Operation::identity);
                op.r[row - 1] = [nums[1], nums[2], nums[3]];
                op.t[row - 1] = nums[4];
            }
            continue;
        }
        if !(line.starts_with("ATOM  ") || line.starts_with("HETATM")) {
            continue;
        }
        if is_water(col(line, 17, 20)) {
            continue;
        }
        let alt = col(line, 16, 17);
        if !(alt.is_empty() || alt == " " || alt == "A" || alt == "1") {
            continue;
        }
        let f = |a: usize, b: usize, what: &str| -> Result<f64> {
            col(line, a, b).trim().parse::<f64>().map_err(|_| {
                structure_err(
                    path,
                    n,
                    format!("{what} '{}' is not a number", col(line, a, b).trim()),
                )
            })
        };
        let pos = [f(30, 38, "x")?, f(38, 46, "y")?, f(46, 54, "z")?];
        let b = col(line, 60, 66).trim().parse::<f64>().unwrap_or(0.0);
        let occupancy = col(line, 54, 60)
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|o| *o > 0.0)
            .map_or(1.0, |o| o.min(1.0));
        let mut sym = col(line, 76, 78).trim().to_string();
        if sym.is_empty() {
            sym = col(line, 12, 14)
                .trim()
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .to_string();
        }
        atoms.push(Atom {
            element: element_of(&sym, &mut unknown),
            pos_a: pos,
            b_factor: b,
            occupancy,
            chain: col(line, 21, 22).trim().to_string(),
        });
    }
    flush(&mut assemblies, &chains, &mut biomt);
    assemblies.retain(|a| !a.parts.is_empty());
    Ok(Structure {
        name,
        atoms,
        assemblies,
        unknown_elements: unknown,
    })
}

/// Tokens of a CIF file with their line numbers; `;` text fields become one token.
fn cif_tokens(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        if let Some(first) = line.strip_prefix(';') {
            let mut field = first.to_string();
            for (_, l) in lines.by_ref() {
                if l.starts_with(';') {
                    break;
                }
                field.push('\n');
                field.push_str(l);
            }
            out.push((i + 1, field));
            continue;
        }
        let mut chars = line.char_indices().peekable();
        while let Some(&(k, c)) = chars.peek() {
            if c == '#' {
                break;
            }
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            if (c == '\'' || c == '"') && (k == 0 || line[..k].ends_with(char::is_whitespace)) {
                chars.next();
                let mut t = String::new();
                for (j, d) in chars.by_ref() {
                    let end = line[j + d.len_utf8()..]
                        .chars()
                        .next()
                        .is_none_or(char::is_whitespace);
                    if d == c && end {
                        break;
                    }
                    t.push(d);
                }
                out.push((i + 1, t));
                continue;
            }
            let mut t = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                t.push(d);
                chars.next();
            }
            out.push((i + 1, t));
        }
    }
    out
}

/// A CIF category as a table: item names and rows of (line, values).
#[derive(Default)]
struct Table {
    items: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn col(&self, name: &str) -> Option<usize> {
        self.items.iter().position(|i| i == name)
    }
}

fn cif_tables(tokens: &[(usize, String)]) -> BTreeMap<String, Table> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut k = 0;
    let split = |tag: &str| -> (String, String) {
        let t = tag.trim_start_matches('_');
        match t.split_once('.') {
            Some((c, i)) => (c.to_string(), i.to_string()),
            None => (t.to_string(), String::new()),
        }
    };
    while k < tokens.len() {
        let tok = &tokens[k].1;
        if tok.eq_ignore_ascii_case("loop_") {
            k += 1;
            let mut items = Vec::new();
            let mut cat = String::new();
            while k < tokens.len() && tokens[k].1.starts_with('_') {
                let (c, i) = split(&tokens[k].1);
                cat = c;
                items.push(i);
                k += 1;
            }
            // A category looped twice keeps the last loop, so every row has one value per item.
            let table = tables.entry(cat).or_default();
            *table = Table {
                items: items.clone(),
                rows: Vec::new(),
            };
            let mut row = Vec::new();
            let mut row_line = 0;
            while k < tokens.len()
                && !tokens[k].1.starts_with('_')
                && !tokens[k].1.eq_ignore_ascii_case("loop_")
                && !tokens[k].1.starts_with("data_")
            {
                if row.is_empty() {
                    row_line = tokens[k].0;
                }
                row.push(tokens[k].1.clone());
                if row.len() == items.len() {
                    table.rows.push((row_line, std::mem::take(&mut row)));
                }
                k += 1;
            }
        } else if tok.starts_with('_') && k + 1 < tokens.len() {
            let (c, i) = split(tok);
            let table = tables.entry(c).or_default();
            // Pairs after a loop of the same category start it afresh (one row, one value each).
            if table.rows.len() != 1 || table.rows[0].1.len() != table.items.len() {
                *table = Table::default();
                table.rows.push((tokens[k].0, Vec::new()));
            }
            table.items.push(i);
            table.rows[0].1.push(tokens[k + 1].1.clone());
            k += 2;
        } else {
            k += 1;
        }
    }
    tables
}

/// Expands an mmCIF `oper_expression` such as `1`, `(1-60)`, `(1,5,7)` or `(1-5)(6-10)`.
fn oper_ids(expr: &str) -> Option<Vec<Vec<String>>> {
    let groups: Vec<&str> = if expr.contains('(') {
        expr.split(['(', ')'])
            .filter(|g| !g.trim().is_empty())
            .collect()
    } else {
        vec![expr]
    };
    let mut out = Vec::new();
    for g in groups {
        let mut ids = Vec::new();
        for part in g.split(',') {
            let part = part.trim();
            if let Some((a, b)) = part.split_once('-') {
                let (a, b) = (a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?);
                ids.extend((a..=b).map(|v| v.to_string()));
            } else if !part.is_empty() {
                ids.push(part.to_string());
            }
        }
        out.push(ids);
    }
    Some(out)
}

/// Parses mmCIF text.
pub fn parse_mmcif(path: &Path, text: &str, name: String) -> Result<Structure> {
    let tables = cif_tables(&cif_tokens(text));
    let mut unknown = BTreeMap::new();
    let Some(site) = tables.get("atom_site") else {
        return Err(structure_err(
            path,
            0,
            "no _atom_site category: the file holds no atoms",
        ));
    };
    let need = |t: &Table, item: &str, cat: &str| {
        t.col(item)
            .ok_or_else(|| structure_err(path, 0, format!("_{cat}.{item} is missing")))
    };
    let (cx, cy, cz) = (
        need(site, "Cartn_x", "atom_site")?,
        need(site, "Cartn_y", "atom_site")?,
        need(site, "Cartn_z", "atom_site")?,
    );
    let sym = need(site, "type_symbol", "atom_site")?;
    let chain = site
        .col("label_asym_id")
        .or_else(|| site.col("auth_asym_id"));
    let (bcol, comp, alt, model) = (
        site.col("B_iso_or_equiv"),
        site.col("label_comp_id"),
        site.col("label_alt_id"),
        site.col("pdbx_PDB_model_num"),
    );
    let occ = site.col("occupancy");
    let first_model = model.and_then(|m| site.rows.first().map(|r| r.1[m].clone()));
    let mut atoms = Vec::new();
    for (line, r) in &site.rows {
        if let (Some(m), Some(fm)) = (model, &first_model)
            && &r[m] != fm
        {
            continue;
        }
        if comp.is_some_and(|c| is_water(&r[c])) {
            continue;
        }
        if alt.is_some_and(|a| !matches!(r[a].as_str(), "." | "?" | "A" | "1")) {
            continue;
        }
        let f = |c: usize, what: &str| {
            r[c].parse::<f64>().map_err(|_| {
                structure_err(path, *line, format!("{what} '{}' is not a number", r[c]))
            })
        };
        atoms.push(Atom {
            element: element_of(&r[sym], &mut unknown),
            pos_a: [f(cx, "Cartn_x")?, f(cy, "Cartn_y")?, f(cz, "Cartn_z")?],
            b_factor: bcol.and_then(|c| r[c].parse().ok()).unwrap_or(0.0),
            occupancy: occ
                .and_then(|c| r[c].parse::<f64>().ok())
                .filter(|o| *o > 0.0)
                .map_or(1.0, |o| o.min(1.0)),
            chain: chain.map(|c| r[c].clone()).unwrap_or_default(),
        });
    }
    let mut ops: BTreeMap<String, Operation> = BTreeMap::new();
    if let Some(t) = tables.get("pdbx_struct_oper_list") {
        let id = need(t, "id", "pdbx_struct_oper_list")?;
        for (line, r) in &t.rows {
            let mut op = Operation::identity();
            for i in 0..3 {
                for j in 0..3 {
                    let c = need(
                        t,
                        &format!("matrix[{}][{}]", i + 1, j + 1),
                        "pdbx_struct_oper_list",
                    )?;
                    op.r[i][j] = r[c].parse().map_err(|_| {
                        structure_err(
                            path,
                            *line,
                            format!("matrix[{}][{}] is not a number", i + 1, j + 1),
                        )
                    })?;
                }
                let c = need(t, &format!("vector[{}]", i + 1), "pdbx_struct_oper_list")?;
                op.t[i] = r[c].parse().map_err(|_| {
                    structure_err(path, *line, format!("vector[{}] is not a number", i + 1))
                })?;
            }
            ops.insert(r[id].clone(), op);
        }
    }
    let mut assemblies: Vec<Assembly> = Vec::new();
    if let Some(t) = tables.get("pdbx_struct_assembly_gen") {
        let (aid, expr, asyms) = (
            need(t, "assembly_id", "pdbx_struct_assembly_gen")?,
            need(t, "oper_expression", "pdbx_struct_assembly_gen")?,
            need(t, "asym_id_list", "pdbx_struct_assembly_gen")?,
        );
        for (line, r) in &t.rows {
            let groups = oper_ids(&r[expr]).ok_or_else(|| {
                structure_err(
                    path,
                    *line,
                    format!("cannot read oper_expression '{}'", r[expr]),
                )
            })?;
            let mut combined = vec![Operation::identity()];
            for g in &groups {
                let mut next = Vec::new();
                for prev in &combined {
                    for id in g {
                        let op = ops.get(id).ok_or_else(|| {
                            structure_err(
                                path,
                                *line,
                                format!("operation '{id}' is not in _pdbx_struct_oper_list"),
                            )
                        })?;
                        next.push(prev.compose(op));
                    }
                }
                combined = next;
            }
            let chains = r[asyms].split(',').map(|c| c.trim().to_string()).collect();
            match assemblies.iter_mut().find(|a| a.id == r[aid]) {
                Some(a) => a.parts.push((chains, combined)),
                None => assemblies.push(Assembly {
                    id: r[aid].clone(),
                    parts: vec![(chains, combined)],
                }),
            }
        }
    }
    Ok(Structure {
        name,
        atoms,
        assemblies,
        unknown_elements: unknown,
    })
}
