//! Multi-page TIFF stacks (one page per z-slice), as written by ImageJ/Fiji or tifffile.
//!
//! TIFF has no reliable voxel size for cryo-ET, so the caller must supply one.

use crate::error::{IoError, Result};
use crate::units::VoxelSize;
use crate::volume::Volume;
use ndarray::Array3;
use std::path::Path;
use tiff::decoder::{Decoder, DecodingResult};

/// Reads every page of a TIFF file as one z-slice. All pages must share one size.
pub fn read_tiff_stack(path: &Path, voxel_size: Option<VoxelSize>) -> Result<Volume> {
    let vs = voxel_size.filter(|v| v.is_valid()).ok_or_else(|| {
        IoError::Units(format!(
            "{}: TIFF files carry no trustworthy voxel size; pass it with --voxel-size",
            path.display()
        ))
    })?;
    let file = std::fs::File::open(path).map_err(|e| IoError::os(path, e))?;
    let file_len = file.metadata().map_err(|e| IoError::os(path, e))?.len();
    if file_len == 0 {
        return Err(IoError::file(
            path,
            "the file is empty (0 bytes); expected a TIFF stack",
        ));
    }
    let bad = decode_error(path);
    let mut dec = Decoder::new(std::io::BufReader::new(file)).map_err(bad)?;
    let (w, h) = dec.dimensions().map_err(bad)?;
    let mut values: Vec<f32> = Vec::new();
    let mut pages = 0usize;
    loop {
        let (pw, ph) = dec.dimensions().map_err(bad)?;
        if (pw, ph) != (w, h) {
            return Err(IoError::file(
                path,
                format!("page {pages} is {pw}×{ph}, but page 0 is {w}×{h}"),
            ));
        }
        let bits = match dec.colortype().map_err(bad)? {
            tiff::ColorType::Gray(bits) => bits,
            other => {
                return Err(IoError::file(
                    path,
                    format!(
                        "page {pages} has colour type {other:?}; a tomogram page must be one grey channel (write it with photometric='minisblack')"
                    ),
                ));
            }
        };
        check_page(&mut dec, path, pages, [w, h], bits, file_len)?;
        let page = dec.read_image().map_err(bad)?;
        let before = values.len();
        match page {
            DecodingResult::U8(v) => values.extend(v.iter().map(|&x| x as f32)),
            DecodingResult::I8(v) => values.extend(v.iter().map(|&x| x as f32)),
            DecodingResult::U16(v) => values.extend(v.iter().map(|&x| x as f32)),
            DecodingResult::I16(v) => values.extend(v.iter().map(|&x| x as f32)),
            DecodingResult::U32(v) => values.extend(v.iter().map(|&x| x as f32)),
            DecodingResult::I32(v) => values.extend(v.iter().map(|&x| x as f32)),
            DecodingResult::F32(v) => values.extend_from_slice(&v),
            DecodingResult::F64(v) => values.extend(v.iter().map(|&x| x as f32)),
            _ => {
                return Err(IoError::file(
                    path,
                    format!("page {pages} has a sample type tomopick does not read"),
                ));
            }
        }
        if values.len() - before != (w as usize) * (h as usize) {
            return Err(IoError::file(
                path,
                format!(
                    "page {pages} is not single-channel (RGB or multi-sample pages are not tomograms)"
                ),
            ));
        }
        pages += 1;
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(bad)?;
    }
    let data = Array3::from_shape_vec((pages, h as usize, w as usize), values)
        .map_err(|e| IoError::file(path, format!("inconsistent page sizes: {e}")))?;
    Ok(Volume::new(data, vs))
}

/// Refuses, before the page's buffer is allocated and decoded, a page that no tomogram writer
/// makes and that would cost time or memory out of proportion to the file: fax (CCITT)
/// compression, which is defined for 1-bit images only (a 385-byte file declaring a
/// 51,974 × 1,025 page of 32-bit samples fax-compressed took 1.5 s to fail under the fuzzer), and
/// an uncompressed page larger than the whole file.
fn check_page<R: std::io::Read + std::io::Seek>(
    dec: &mut Decoder<R>,
    path: &Path,
    page: usize,
    [w, h]: [u32; 2],
    bits: u8,
    file_len: u64,
) -> Result<()> {
    let bad = decode_error(path);
    let compression = dec
        .find_tag_unsigned::<u16>(tiff::tags::Tag::Compression)
        .map_err(bad)?
        .unwrap_or(1);
    if (2..=4).contains(&compression) {
        return Err(IoError::file(
            path,
            format!(
                "page {page} is fax-compressed (TIFF compression {compression}, CCITT), which \
                 holds 1-bit images, not tomograms; write it uncompressed, LZW, Deflate or PackBits"
            ),
        ));
    }
    // In u128: 2^32 × 2^32 × 32 bytes does not fit in u64 (the fuzzer found such a header).
    let bytes = u128::from(w) * u128::from(h) * u128::from(bits).div_ceil(8);
    if compression == 1 && bytes > u128::from(file_len) {
        return Err(IoError::file(
            path,
            format!(
                "page {page} declares {w}×{h} uncompressed {bits}-bit samples ({bytes} bytes), \
                 more than the whole file ({file_len} bytes): truncated or a corrupt header"
            ),
        ));
    }
    Ok(())
}

/// The error for the TIFF decoder's own complaints about `path`.
fn decode_error(path: &Path) -> impl Fn(tiff::TiffError) -> IoError + Copy + '_ {
    move |e| IoError::file(path, format!("cannot decode TIFF: {e}"))
}
