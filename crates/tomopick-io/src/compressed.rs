//! Compressed MRC files (`.mrc.gz`, `.map.gz`, as EMDB distributes maps): decompressed to a
//! temporary file, then read as any MRC file, with every message naming the compressed file.

use crate::error::{IoError, Result};
use crate::mrc_file::{MrcReadOptions, read_mrc};
use crate::volume::Volume;
use std::io::Read;
use std::path::Path;

/// Largest decompressed size accepted (a gzip bomb is refused, not written to disk).
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 << 30;

/// Whether `path` names a gzip-compressed file (`.gz`).
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Reads a whole gzip-compressed MRC volume. The header checks of [`read_mrc`] (dimensions
/// the data can hold, modes, voxel size) apply to the decompressed bytes; errors name `path`.
pub fn read_mrc_gz(path: &Path, opts: MrcReadOptions) -> Result<Volume> {
    let file = std::fs::File::open(path).map_err(|e| IoError::os(path, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tomopick-gunzip-")
        .suffix(".mrc")
        .tempfile()
        .map_err(|e| IoError::os(Path::new("temporary folder"), e))?;
    let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
    let copied = std::io::copy(
        &mut decoder.take(MAX_DECOMPRESSED_BYTES + 1),
        tmp.as_file_mut(),
    )
    .map_err(|e| {
        IoError::file(
            path,
            format!("cannot decompress: {e} (not gzip data, or the file is truncated)"),
        )
    })?;
    if copied > MAX_DECOMPRESSED_BYTES {
        return Err(IoError::file(
            path,
            format!(
                "decompresses to more than {} GiB; refusing",
                MAX_DECOMPRESSED_BYTES >> 30
            ),
        ));
    }
    read_mrc(tmp.path(), opts).map_err(|e| e.renamed(tmp.path(), path))
}
