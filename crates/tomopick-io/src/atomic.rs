//! Write-then-rename, so that a failed or interrupted write never leaves a partial file.

use crate::error::{IoError, Result};
use std::io::Write;
use std::path::Path;

/// Creates `path` by writing into a temporary file in the same folder and renaming it
/// into place once `write` succeeds. On error nothing is left at `path`.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
{
    let mut tmp = temp_beside(path)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut w).map_err(|e| IoError::os(path, e))?;
        w.flush().map_err(|e| IoError::os(path, e))?;
    }
    readable_by_all(tmp.path())?;
    tmp.persist(path).map_err(|e| IoError::os(path, e.error))?;
    Ok(())
}

/// Temporary files are created 0600; results must be readable like any other file (0644).
fn readable_by_all(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| IoError::os(path, e))?;
    }
    Ok(())
}

/// Checks before long work that `path` can be created: its folder exists and is writable.
pub fn check_writable(path: &Path) -> Result<()> {
    temp_beside(path).map(drop)
}

/// A temporary file in the folder of `path` (removed when dropped).
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".tomopick-")
        .suffix(".tmp")
        .tempfile_in(parent_dir(path))
        .map_err(|e| IoError::os(path, e))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A staging folder beside `output` for results that must appear whole: `output` must not exist
/// (missing parent folders are made); fill the staging folder, then [`commit_dir`] renames it.
/// Dropped without a commit, it is removed.
pub fn staging_dir(output: &Path) -> Result<tempfile::TempDir> {
    if output.exists() {
        return Err(IoError::file(
            output,
            "already exists; choose a new folder (nothing was written)",
        ));
    }
    let parent = parent_dir(output);
    std::fs::create_dir_all(parent).map_err(|e| IoError::os(parent, e))?;
    tempfile::Builder::new()
        .prefix(".tomopick-sim-")
        .tempdir_in(parent)
        .map_err(|e| IoError::os(parent, e))
}

/// Moves a complete staging folder (from [`staging_dir`]) to `output`.
pub fn commit_dir(staging: tempfile::TempDir, output: &Path) -> Result<()> {
    let staged = staging.keep();
    std::fs::rename(&staged, output).map_err(|e| IoError::os(output, e))
}
