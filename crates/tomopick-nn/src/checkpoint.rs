//! Checkpoint folders shared by the training runs: `model.bpk` (weights with parameter ids),
//! `optimizer.bpk` (the optimizer's state) and `state.json` (step, curve). A checkpoint is
//! written to `<dir>.partial`, then swapped in: the old one is renamed to `<dir>.old` first and
//! removed last, so a stop at any moment leaves a complete checkpoint under one of the names.

use crate::error::{Result, model_err};
use crate::pack::write_file;
use burn::optim::ModuleOptimizer;
use burn::tensor::Bytes;
use std::path::{Path, PathBuf};

/// A checkpoint read back.
pub(crate) struct Checkpoint {
    /// The model file's path (for errors) and bytes.
    pub model_path: PathBuf,
    pub model_bytes: Vec<u8>,
    /// The optimizer with its state restored.
    pub optim: ModuleOptimizer,
    /// The state file's path (for errors) and contents.
    pub state_path: PathBuf,
    pub state: serde_json::Value,
}

fn files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        dir.join("model.bpk"),
        dir.join("optimizer.bpk"),
        dir.join("state.json"),
    )
}

/// Writes a checkpoint folder `dir`.
pub(crate) fn write(
    dir: &Path,
    model_bytes: &[u8],
    optim: &ModuleOptimizer,
    state: &serde_json::Value,
) -> Result<()> {
    let staging = dir.with_extension("partial");
    let old = dir.with_extension("old");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| tomopick_io::IoError::os(&staging, e))?;
    let (model_path, optim_path, state_path) = files(&staging);
    write_file(&model_path, model_bytes)?;
    let optim_bytes = optim
        .into_bytes()
        .map_err(|e| model_err(&optim_path, format!("cannot encode optimizer state: {e}")))?;
    write_file(&optim_path, &optim_bytes)?;
    write_file(&state_path, state.to_string().as_bytes())?;
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| tomopick_io::IoError::os(dir, e))?;
    }
    std::fs::rename(&staging, dir).map_err(|e| tomopick_io::IoError::os(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Reads checkpoint folder `dir`, restoring the state of `optim` (a fresh optimizer of the
/// run's kind).
pub(crate) fn read(dir: &Path, optim: ModuleOptimizer) -> Result<Checkpoint> {
    let (model_path, optim_path, state_path) = files(dir);
    let model_bytes =
        std::fs::read(&model_path).map_err(|e| tomopick_io::IoError::os(&model_path, e))?;
    let optim_bytes =
        std::fs::read(&optim_path).map_err(|e| tomopick_io::IoError::os(&optim_path, e))?;
    let optim = optim
        .from_bytes(Bytes::from_bytes_vec(optim_bytes))
        .map_err(|e| model_err(&optim_path, format!("cannot read optimizer state: {e}")))?;
    let text = std::fs::read_to_string(&state_path)
        .map_err(|e| tomopick_io::IoError::os(&state_path, e))?;
    let state: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| model_err(&state_path, format!("not a checkpoint state: {e}")))?;
    Ok(Checkpoint {
        model_path,
        model_bytes,
        optim,
        state_path,
        state,
    })
}

/// The `step` of a checkpoint state.
pub(crate) fn step_of(state: &serde_json::Value, path: &Path) -> Result<u64> {
    state["step"]
        .as_u64()
        .ok_or_else(|| model_err(path, "no step"))
}
