//! Cutting a volume into overlapping cubes, and deciding which cube owns each detection.
//!
//! A tile of `size` voxels keeps a margin of `overlap` voxels on each side; its *effective
//! zone* is the central `size − 2·overlap`. Effective zones tile the volume without gaps or
//! overlaps, so a detection is kept by exactly one tile: the one whose effective zone holds its
//! centre. At the volume's faces the zone reaches the face. Tiles near the far faces are shifted
//! back inside the volume rather than padded, when the volume is at least one tile wide.

/// One tile along the three axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// First voxel `[x, y, z]` of the tile (may be negative when the volume is smaller than a tile).
    pub origin: [i64; 3],
    /// Start (inclusive) of the effective zone, `[x, y, z]` voxels of the volume.
    pub zone_start: [i64; 3],
    /// End (exclusive) of the effective zone.
    pub zone_end: [i64; 3],
}

impl Tile {
    /// True when `pos_vox` (`[x, y, z]`) lies in this tile's effective zone.
    pub fn owns(&self, pos_vox: [f64; 3]) -> bool {
        (0..3).all(|a| {
            pos_vox[a] >= self.zone_start[a] as f64 - 0.5
                && pos_vox[a] < self.zone_end[a] as f64 - 0.5
        })
    }
}

/// The tile starts and effective zones along one axis of length `n`.
fn axis(n: usize, size: usize, overlap: usize) -> Vec<(i64, i64, i64)> {
    let (n, size, overlap) = (n as i64, size as i64, overlap as i64);
    let step = size - 2 * overlap;
    let mut out = Vec::new();
    let mut zone_start = 0;
    while zone_start < n {
        let zone_end = (zone_start + step).min(n);
        // The tile puts its margin before the zone, but never starts before 0 or ends past n
        // (unless the volume is smaller than one tile).
        let origin = if n <= size {
            (n - size) / 2
        } else {
            (zone_start - overlap).clamp(0, n - size)
        };
        out.push((origin, zone_start, zone_end));
        zone_start = zone_end;
    }
    // The last zone reaches the face; the first starts at it (0).
    out
}

/// Tiles covering a volume of `shape_xyz` voxels with cubes of `size` and margins `overlap`.
///
/// # Panics
/// When `2·overlap >= size`.
pub fn tiles(shape_xyz: [usize; 3], size: usize, overlap: usize) -> Vec<Tile> {
    tiles_shaped(shape_xyz, [size; 3], overlap)
}

/// Tiles of `size_xyz` voxels (one edge per axis) with margins `overlap`.
///
/// # Panics
/// When `2·overlap >= size` on some axis.
pub fn tiles_shaped(shape_xyz: [usize; 3], size_xyz: [usize; 3], overlap: usize) -> Vec<Tile> {
    assert!(
        size_xyz.iter().all(|&s| 2 * overlap < s),
        "overlap {overlap} leaves no effective zone in a tile of {size_xyz:?}"
    );
    let (ax, ay, az) = (
        axis(shape_xyz[0], size_xyz[0], overlap),
        axis(shape_xyz[1], size_xyz[1], overlap),
        axis(shape_xyz[2], size_xyz[2], overlap),
    );
    let mut out = Vec::with_capacity(ax.len() * ay.len() * az.len());
    for &(oz, sz, ez) in &az {
        for &(oy, sy, ey) in &ay {
            for &(ox, sx, ex) in &ax {
                out.push(Tile {
                    origin: [ox, oy, oz],
                    zone_start: [sx, sy, sz],
                    zone_end: [ex, ey, ez],
                });
            }
        }
    }
    out
}

/// Voxels computed per voxel of the volume: the waste that overlap costs.
pub fn overhead(shape_xyz: [usize; 3], size: usize, overlap: usize) -> f64 {
    let n = tiles(shape_xyz, size, overlap).len() as f64;
    n * (size as f64).powi(3) / shape_xyz.iter().map(|&s| s as f64).product::<f64>()
}
