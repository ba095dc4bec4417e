//! MRC/CCP4 volumes: header checks, memory-mapped reads of whole volumes or regions,
//! and atomic writes. A thin wrapper around the `mrc` crate that adds the checks and
//! conventions tomopick needs (voxel size per axis, axis order, signed/unsigned mode 0).

use crate::error::{IoError, Result};
use crate::units::{PosAngstrom, VoxelSize};
use crate::volume::{Stats, Volume};
use ndarray::{Array3, ArrayView3};
use rayon::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The MRC data modes tomopick reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MrcMode {
    /// Mode 0: 8-bit integers (signed per MRC2014; unsigned in some older files).
    Int8,
    /// Mode 1: 16-bit signed integers.
    Int16,
    /// Mode 2: 32-bit floats.
    Float32,
    /// Mode 6: 16-bit unsigned integers.
    Uint16,
    /// Mode 12: 16-bit IEEE half floats.
    Float16,
}

impl MrcMode {
    /// The mode from its header code, or `None` for modes tomopick does not read.
    pub fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            0 => MrcMode::Int8,
            1 => MrcMode::Int16,
            2 => MrcMode::Float32,
            6 => MrcMode::Uint16,
            12 => MrcMode::Float16,
            _ => return None,
        })
    }
    /// The header code.
    pub fn code(self) -> i32 {
        match self {
            MrcMode::Int8 => 0,
            MrcMode::Int16 => 1,
            MrcMode::Float32 => 2,
            MrcMode::Uint16 => 6,
            MrcMode::Float16 => 12,
        }
    }
    /// Bytes per voxel.
    pub fn byte_size(self) -> usize {
        match self {
            MrcMode::Int8 => 1,
            MrcMode::Int16 | MrcMode::Uint16 | MrcMode::Float16 => 2,
            MrcMode::Float32 => 4,
        }
    }
    /// A short name such as `float32`.
    pub fn name(self) -> &'static str {
        match self {
            MrcMode::Int8 => "int8",
            MrcMode::Int16 => "int16",
            MrcMode::Float32 => "float32",
            MrcMode::Uint16 => "uint16",
            MrcMode::Float16 => "float16",
        }
    }
}

/// The data types tomopick writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MrcWriteMode {
    /// 32-bit float (mode 2), the default.
    #[default]
    Float32,
    /// Signed 8-bit (mode 0): values are rounded and clamped to −128..127. For masks.
    Int8,
    /// Half float (mode 12): half the size of float32, about 3 significant digits.
    Float16,
}

/// What the header of an MRC file says, after validation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MrcHeaderInfo {
    /// The file.
    pub path: PathBuf,
    /// Dimensions as stored: columns, rows, sections (`nx`, `ny`, `nz`).
    pub dims_crs: [usize; 3],
    /// Dimensions along the physical axes `[x, y, z]` after applying `mapc/mapr/maps`.
    pub shape_xyz: [usize; 3],
    /// The data mode.
    pub mode: MrcMode,
    /// Mode 0 read as unsigned bytes (IMOD flag, or a header maximum above 127).
    pub unsigned_bytes: bool,
    /// `[mapc, mapr, maps]`: which physical axis (1 = x, 2 = y, 3 = z) the columns,
    /// rows and sections run along.
    pub axis_map: [usize; 3],
    /// Voxel size from `cella / (mx, my, mz)`, or `None` when the header's is zero,
    /// negative or not finite.
    pub voxel_size: Option<VoxelSize>,
    /// The header origin in Å.
    pub origin_a: PosAngstrom,
    /// Extended header length in bytes.
    pub nsymbt: usize,
    /// `(dmin, dmax, dmean, rms)` as written in the header.
    pub header_stats: [f32; 4],
    /// The extended header type, such as `FEI1` or `SERI`.
    pub exttyp: String,
    /// The text labels.
    pub labels: Vec<String>,
    /// The file's length in bytes.
    pub file_len: u64,
    /// Bytes of data after the volume that the header does not account for.
    pub trailing_bytes: u64,
    /// Byte order of the data (from the machine stamp).
    pub little_endian: bool,
}

impl MrcHeaderInfo {
    /// Number of voxels.
    pub fn voxel_count(&self) -> usize {
        self.dims_crs.iter().product()
    }
    /// The voxel size, or an error naming the file when the header has none.
    pub fn require_voxel_size(&self) -> Result<VoxelSize> {
        self.voxel_size.ok_or_else(|| {
            IoError::field(
                &self.path,
                "cella/mx",
                "voxel size is zero or negative in the header; pass the true voxel size with --voxel-size",
            )
        })
    }
}

/// Options for opening an MRC file.
#[derive(Debug, Clone, Copy, Default)]
pub struct MrcReadOptions {
    /// Use this voxel size instead of the header's (required when the header's is zero).
    pub voxel_size: Option<VoxelSize>,
}

const IMOD_STAMP: i32 = 1_146_047_817;

/// Reads and checks the 1024-byte header of `path` without touching the data.
///
/// Refuses, with the file and field named: an empty or short file, an unknown mode,
/// non-positive dimensions, an invalid axis map, and header dimensions that the file
/// size cannot hold (checked before anything is allocated).
pub fn read_header(path: &Path) -> Result<MrcHeaderInfo> {
    let mut f = std::fs::File::open(path).map_err(|e| IoError::os(path, e))?;
    let file_len = f.metadata().map_err(|e| IoError::os(path, e))?.len();
    if file_len == 0 {
        return Err(IoError::file(
            path,
            "the file is empty (0 bytes); expected an MRC volume",
        ));
    }
    if file_len < 1024 {
        return Err(IoError::file(
            path,
            format!(
                "the file is {file_len} bytes, shorter than the 1024-byte MRC header (truncated, or not an MRC file)"
            ),
        ));
    }
    let mut raw = [0u8; 1024];
    f.read_exact(&mut raw).map_err(|e| IoError::os(path, e))?;
    let (h, _) = mrc::Header::decode_from_bytes_with_info(&raw);

    let mode = MrcMode::from_code(h.mode).ok_or_else(|| {
        let what = match h.mode {
            3 | 4 => " (complex data, not a real-space volume)",
            101 => " (4-bit packed data)",
            _ => "",
        };
        IoError::field(
            path,
            "mode",
            format!(
                "unknown or unsupported MRC mode {}{what}; tomopick reads modes 0, 1, 2, 6 and 12",
                h.mode
            ),
        )
    })?;
    for (name, v) in [("nx", h.nx), ("ny", h.ny), ("nz", h.nz)] {
        if v <= 0 {
            return Err(IoError::field(
                path,
                name,
                format!("dimension is {v}; it must be positive"),
            ));
        }
    }
    if h.nsymbt < 0 {
        return Err(IoError::field(
            path,
            "nsymbt",
            format!("extended header length is negative ({})", h.nsymbt),
        ));
    }
    let dims_crs = [h.nx as usize, h.ny as usize, h.nz as usize];
    let data_bytes =
        dims_crs.iter().map(|&d| d as u128).product::<u128>() * mode.byte_size() as u128;
    let needed = 1024u128 + h.nsymbt as u128 + data_bytes;
    if needed > file_len as u128 {
        return Err(IoError::field(
            path,
            "nx/ny/nz",
            format!(
                "header dimensions {}×{}×{} in mode {} ({}) need {needed} bytes, but the file holds only {file_len} (truncated file, or wrong header dimensions)",
                h.nx,
                h.ny,
                h.nz,
                mode.code(),
                mode.name()
            ),
        ));
    }
    let axis_map = parse_axis_map(path, [h.mapc, h.mapr, h.maps])?;
    let mut shape_xyz = [0usize; 3];
    for k in 0..3 {
        shape_xyz[axis_map[k] - 1] = dims_crs[k];
    }
    let voxel_size = header_voxel_size(&h);
    let unsigned_bytes = mode == MrcMode::Int8 && is_unsigned_mode0(&h, &raw);
    let exttyp = String::from_utf8_lossy(&h.exttyp())
        .trim_matches(char::from(0))
        .trim()
        .to_string();
    Ok(MrcHeaderInfo {
        path: path.to_path_buf(),
        dims_crs,
        shape_xyz,
        mode,
        unsigned_bytes,
        axis_map,
        voxel_size,
        origin_a: PosAngstrom::new(h.origin[0] as f64, h.origin[1] as f64, h.origin[2] as f64),
        nsymbt: h.nsymbt as usize,
        header_stats: [h.dmin, h.dmax, h.dmean, h.rms],
        exttyp,
        labels: h
            .get_labels()
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect(),
        file_len,
        trailing_bytes: (file_len as u128 - needed) as u64,
        little_endian: h.detect_endian() == mrc::FileEndian::LittleEndian,
    })
}

fn parse_axis_map(path: &Path, m: [i32; 3]) -> Result<[usize; 3]> {
    // Some writers leave mapc/mapr/maps at zero: MRC2014 readers treat that as 1, 2, 3.
    if m == [0, 0, 0] {
        return Ok([1, 2, 3]);
    }
    let mut seen = [false; 3];
    let mut out = [0usize; 3];
    for k in 0..3 {
        if !(1..=3).contains(&m[k]) || seen[(m[k] - 1) as usize] {
            return Err(IoError::field(
                path,
                "mapc/mapr/maps",
                format!(
                    "axis order ({}, {}, {}) is not a permutation of 1, 2, 3",
                    m[0], m[1], m[2]
                ),
            ));
        }
        seen[(m[k] - 1) as usize] = true;
        out[k] = m[k] as usize;
    }
    Ok(out)
}

fn header_voxel_size(h: &mrc::Header) -> Option<VoxelSize> {
    let per_axis = |len: f32, m: i32| {
        if m > 0 {
            len as f64 / m as f64
        } else {
            f64::NAN
        }
    };
    let vs = VoxelSize {
        x: per_axis(h.xlen, h.mx),
        y: per_axis(h.ylen, h.my),
        z: per_axis(h.zlen, h.mz),
    };
    vs.is_valid().then_some(vs)
}

/// Mode 0 is signed in MRC2014. IMOD writes unsigned bytes unless bit 0 of its flags is
/// set; files from other writers are taken as unsigned when the header maximum is above 127
/// (as in the cryoET data portal's `unsigned_ints.mrc` fixture).
fn is_unsigned_mode0(h: &mrc::Header, raw: &[u8; 1024]) -> bool {
    let little = h.detect_endian() == mrc::FileEndian::LittleEndian;
    let word = |off: usize| {
        let b = [raw[off], raw[off + 1], raw[off + 2], raw[off + 3]];
        if little {
            i32::from_le_bytes(b)
        } else {
            i32::from_be_bytes(b)
        }
    };
    if word(152) == IMOD_STAMP {
        return word(156) & 1 == 0;
    }
    h.dmax > 127.5
}

/// An open MRC file: the checked header plus a memory-mapped reader, so that regions
/// can be read without loading the whole volume.
pub struct MrcVolumeFile {
    info: MrcHeaderInfo,
    voxel_size: VoxelSize,
    reader: mrc::Reader,
}

impl MrcVolumeFile {
    /// Opens and checks `path`. The voxel size comes from `opts` if given, else the header;
    /// a header without a valid voxel size is an error unless `opts` supplies one.
    pub fn open(path: &Path, opts: MrcReadOptions) -> Result<Self> {
        let info = read_header(path)?;
        let voxel_size = match opts.voxel_size {
            Some(vs) if vs.is_valid() => vs,
            Some(vs) => {
                return Err(IoError::Units(format!(
                    "{}: the voxel size given ({vs:?}) must be positive",
                    path.display()
                )));
            }
            None => info.require_voxel_size()?,
        };
        let (reader, _warnings) = mrc::Reader::open_permissive(path)
            .map_err(|e| IoError::file(path, format!("cannot open as MRC: {e}")))?;
        Ok(MrcVolumeFile {
            info,
            voxel_size,
            reader,
        })
    }

    /// The checked header.
    pub fn info(&self) -> &MrcHeaderInfo {
        &self.info
    }

    /// The voxel size in use (override or header).
    pub fn voxel_size(&self) -> VoxelSize {
        self.voxel_size
    }

    /// Reads the whole volume as `f32`, in `[z, y, x]` order, decoding the memory-mapped
    /// data on all cores.
    pub fn read_all(&self) -> Result<Volume> {
        let info = &self.info;
        let file = std::fs::File::open(&info.path).map_err(|e| IoError::os(&info.path, e))?;
        // SAFETY: the map is read-only and dropped before returning; a file truncated by
        // another process meanwhile would fault, as with any mmap reader.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| IoError::os(&info.path, e))?;
        let start = 1024 + info.nsymbt;
        let len = info.voxel_count() * info.mode.byte_size();
        let values = crate::mrc_decode::decode_all(
            &map[start..start + len],
            info.mode,
            info.little_endian,
            info.unsigned_bytes,
        );
        let d = info.dims_crs;
        let arr = Array3::from_shape_vec((d[2], d[1], d[0]), values)
            .expect("length checked by read_header");
        let mut vol = Volume::new(to_zyx(arr, info.axis_map), self.voxel_size);
        vol.origin_a = info.origin_a;
        Ok(vol)
    }

    /// Reads the box that starts at voxel `start_xyz` and spans `size_xyz` voxels.
    /// Only that region's pages of the file are touched.
    pub fn read_region(&self, start_xyz: [usize; 3], size_xyz: [usize; 3]) -> Result<Volume> {
        let shape = self.info.shape_xyz;
        for a in 0..3 {
            if size_xyz[a] == 0 || start_xyz[a] + size_xyz[a] > shape[a] {
                return Err(IoError::file(
                    &self.info.path,
                    format!(
                        "region {start_xyz:?}+{size_xyz:?} lies outside the volume {shape:?} (x, y, z)"
                    ),
                ));
            }
        }
        // Map the physical box to the file's column/row/section order.
        let m = self.info.axis_map;
        let off_crs = [
            start_xyz[m[0] - 1],
            start_xyz[m[1] - 1],
            start_xyz[m[2] - 1],
        ];
        let size_crs = [size_xyz[m[0] - 1], size_xyz[m[1] - 1], size_xyz[m[2] - 1]];
        let interp = if self.info.unsigned_bytes {
            mrc::M0Interpretation::Unsigned
        } else {
            mrc::M0Interpretation::Signed
        };
        let conv = self.reader.convert::<f32>().with_m0_interpretation(interp);
        let block = if off_crs == [0, 0, 0] && size_crs == self.info.dims_crs {
            conv.read_volume()
        } else {
            conv.subregion(off_crs, size_crs)
        }
        .map_err(|e| IoError::file(&self.info.path, format!("cannot read voxel data: {e}")))?;
        let arr = Array3::from_shape_vec((size_crs[2], size_crs[1], size_crs[0]), block.data)
            .map_err(|e| {
                IoError::file(
                    &self.info.path,
                    format!("voxel data has the wrong length: {e}"),
                )
            })?;
        let data = to_zyx(arr, m);
        let mut vol = Volume::new(data, self.voxel_size);
        vol.origin_a = self.info.origin_a;
        Ok(vol)
    }
}

/// Permutes an array stored as `[section, row, column]` into `[z, y, x]`.
fn to_zyx(arr: Array3<f32>, axis_map: [usize; 3]) -> Array3<f32> {
    if axis_map == [1, 2, 3] {
        return arr;
    }
    // Physical axis (1 = x, 2 = y, 3 = z) of each stored axis [section, row, column].
    let phys_of_stored = [axis_map[2], axis_map[1], axis_map[0]];
    let mut perm = [0usize; 3];
    for (new_axis, p) in perm.iter_mut().enumerate() {
        let want = 3 - new_axis; // new axis 0 is z (3), 1 is y (2), 2 is x (1)
        *p = phys_of_stored
            .iter()
            .position(|&ph| ph == want)
            .expect("axis map is a permutation");
    }
    arr.permuted_axes(perm).as_standard_layout().to_owned()
}

/// Reads a whole MRC volume. See [`MrcVolumeFile`] for regions.
pub fn read_mrc(path: &Path, opts: MrcReadOptions) -> Result<Volume> {
    MrcVolumeFile::open(path, opts)?.read_all()
}

/// Writes `vol` to `path` in the chosen mode, with the voxel size in `cella`, the origin,
/// and header statistics. The file appears only when complete (write, then rename).
pub fn write_mrc(path: &Path, vol: &Volume, mode: MrcWriteMode) -> Result<()> {
    write_mrc_view(path, vol.data.view(), vol.voxel_size, vol.origin_a, mode)
}

/// Like [`write_mrc`] for a borrowed `[z, y, x]` array.
///
/// The header comes from the `mrc` crate (builder, validation, encoding, little-endian stamp);
/// the voxels are encoded here in 16 MiB chunks on all cores and streamed through one buffered
/// write, which runs at disk speed (the crate's writer managed 0.3 GiB/s here).
pub fn write_mrc_view(
    path: &Path,
    data: ArrayView3<f32>,
    voxel_size: VoxelSize,
    origin_a: PosAngstrom,
    mode: MrcWriteMode,
) -> Result<()> {
    if !voxel_size.is_valid() {
        return Err(IoError::Units(format!(
            "{}: refusing to write a voxel size of {voxel_size:?}",
            path.display()
        )));
    }
    let (nz, ny, nx) = data.dim();
    let contiguous = data.as_standard_layout();
    let values = contiguous
        .as_slice()
        .expect("standard layout is contiguous");
    // What is stored, as f32, for the header statistics.
    let stored = |v: f32| match mode {
        MrcWriteMode::Float32 => v,
        MrcWriteMode::Int8 => v.round().clamp(-128.0, 127.0),
        MrcWriteMode::Float16 => half::f16::from_f32(v).to_f32(),
    };
    let stats = Stats::of_mapped(values, stored);
    let builder = mrc::HeaderBuilder::new()
        .shape([nx, ny, nz])
        .cell_lengths(
            (nx as f64 * voxel_size.x) as f32,
            (ny as f64 * voxel_size.y) as f32,
            (nz as f64 * voxel_size.z) as f32,
        )
        .origin([origin_a.x as f32, origin_a.y as f32, origin_a.z as f32])
        .add_label("tomopick");
    let builder = match mode {
        MrcWriteMode::Float32 => builder.mode::<f32>(),
        MrcWriteMode::Int8 => builder.mode::<i8>(),
        MrcWriteMode::Float16 => builder.mode::<half::f16>(),
    };
    let mut header = builder
        .build()
        .map_err(|e| IoError::file(path, format!("cannot build an MRC header: {e}")))?;
    header.dmin = stats.min as f32;
    header.dmax = stats.max as f32;
    header.dmean = stats.mean as f32;
    header.rms = stats.rms as f32;
    let mut raw = [0u8; 1024];
    header.encode_to_bytes(&mut raw);
    const CHUNK: usize = 1 << 22; // voxels per chunk
    crate::atomic::write_atomic(path, |w| {
        w.write_all(&raw)?;
        let mut buf = Vec::new();
        for chunk in values.chunks(CHUNK) {
            buf.clear();
            buf.resize(chunk.len() * mode_bytes(mode), 0);
            let size = mode_bytes(mode);
            buf.par_chunks_mut(size * 4096)
                .zip(chunk.par_chunks(4096))
                .for_each(|(out, vals)| {
                    for (o, &v) in out.chunks_exact_mut(size).zip(vals) {
                        match mode {
                            MrcWriteMode::Float32 => o.copy_from_slice(&v.to_le_bytes()),
                            MrcWriteMode::Int8 => o[0] = (stored(v) as i8) as u8,
                            MrcWriteMode::Float16 => {
                                o.copy_from_slice(&half::f16::from_f32(v).to_le_bytes())
                            }
                        }
                    }
                });
            w.write_all(&buf)?;
        }
        Ok(())
    })
}

fn mode_bytes(mode: MrcWriteMode) -> usize {
    match mode {
        MrcWriteMode::Float32 => 4,
        MrcWriteMode::Int8 => 1,
        MrcWriteMode::Float16 => 2,
    }
}
