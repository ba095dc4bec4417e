//! tomopick model files: a network's weights in burn's burnpack format, with our own metadata
//! (what the model is and its configuration), so that a file can be checked before any weight
//! is loaded.
//!
//! Metadata keys: `tomopick.kind` (`detector` or `classifier`), `tomopick.format = "1"`, and
//! `tomopick.<kind>` = the model's configuration as JSON.
//!
//! After the burnpack bytes comes a 12-byte trailer: `TPCKCRC1` and the CRC-32 (little-endian)
//! of everything before it, so a corrupted file (a flipped bit, a bad copy) is refused before
//! any of it is used. Files written before the trailer existed are read without the check.

use crate::error::{Result, model_err};
use burn::store::{BurnpackStore, ModuleSnapshot, burn_pack};
use burn::tensor::Bytes;
use std::path::Path;

const KIND: &str = "tomopick.kind";
const FORMAT: &str = "tomopick.format";
const TRAILER: &[u8; 8] = b"TPCKCRC1";
const TRAILER_LEN: usize = TRAILER.len() + 4;

/// `body` with its checksum trailer.
fn with_trailer(mut body: Vec<u8>) -> Vec<u8> {
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(TRAILER);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The burnpack bytes of a model file: the trailer checked and removed (files without one are
/// taken as they are).
pub(crate) fn verified<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a [u8]> {
    let n = bytes.len();
    if n < TRAILER_LEN || &bytes[n - TRAILER_LEN..n - 4] != TRAILER {
        return Ok(bytes);
    }
    let body = &bytes[..n - TRAILER_LEN];
    let stored = u32::from_le_bytes(bytes[n - 4..].try_into().expect("4 bytes"));
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(model_err(
            path,
            format!(
                "checksum mismatch (stored CRC-32 {stored:08x}, the content gives {actual:08x}): \
                 the file is corrupted; copy or download it again"
            ),
        ));
    }
    Ok(body)
}

/// The file's bytes: weights (with parameter ids, so optimizer state can follow) and metadata.
pub(crate) fn encode<M: ModuleSnapshot>(
    net: &M,
    kind: &str,
    config: &impl serde::Serialize,
    path_for_errors: &Path,
) -> Result<Vec<u8>> {
    let json = serde_json::to_string(config).expect("configs serialise");
    let mut store = BurnpackStore::from_bytes(None)
        .metadata(KIND, kind)
        .metadata(FORMAT, "1")
        .metadata(format!("tomopick.{kind}"), json);
    let fail = |e: String| model_err(path_for_errors, format!("cannot encode the model: {e}"));
    net.save_into(&mut store).map_err(|e| fail(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| fail(e.to_string()))?;
    Ok(with_trailer(bytes.to_vec()))
}

/// Loads the weights in `bytes` into `net`; every tensor of the network must be in the file.
pub(crate) fn decode_weights<M: ModuleSnapshot>(
    net: &mut M,
    bytes: Vec<u8>,
    path: &Path,
) -> Result<()> {
    let body_len = verified(&bytes, path)?.len();
    let mut bytes = bytes;
    bytes.truncate(body_len);
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let applied = net
        .load_from(&mut store)
        .map_err(|e| model_err(path, format!("weights do not fit the network: {e}")))?;
    if let Some((first, _)) = applied.missing.first() {
        return Err(model_err(
            path,
            format!(
                "weights missing for {} tensors (first: {first})",
                applied.missing.len()
            ),
        ));
    }
    Ok(())
}

/// Reads and checks the metadata of a model file of `kind` without loading its weights, and
/// parses its configuration.
pub(crate) fn read_config<C: serde::de::DeserializeOwned>(
    bytes: &[u8],
    path: &Path,
    kind: &str,
) -> Result<C> {
    let bytes = verified(bytes, path)?;
    let reader =
        burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).map_err(|e| {
            model_err(
                path,
                format!("not a tomopick model (not a burnpack file: {e})"),
            )
        })?;
    let meta = reader.metadata();
    match meta.get(KIND).map(String::as_str) {
        Some(k) if k == kind => {}
        Some(other) => {
            return Err(model_err(
                path,
                format!("a tomopick {other} model, not a {kind}"),
            ));
        }
        None => return Err(model_err(path, "not a tomopick model (no tomopick.kind)")),
    }
    if meta.get(FORMAT).map(String::as_str) != Some("1") {
        return Err(model_err(
            path,
            format!(
                "model format {:?} is not one this version reads (1)",
                meta.get(FORMAT)
            ),
        ));
    }
    let key = format!("tomopick.{kind}");
    let json = meta
        .get(&key)
        .ok_or_else(|| model_err(path, format!("{key} metadata missing")))?;
    serde_json::from_str(json).map_err(|e| model_err(path, format!("{key} metadata: {e}")))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    tomopick_io::atomic::write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(bytes)
    })?;
    Ok(())
}
