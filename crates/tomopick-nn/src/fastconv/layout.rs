//! Channels-last data movement that burn's generic operations do slowly (a reduction along a
//! middle axis, an 8-axis permute): 2× max pooling, the placement of a stride-2 transposed
//! convolution's 2×2×2 blocks, and a transposed-convolution head evaluated for one class per
//! batch item. Plain loops over contiguous runs, parallel over output rows.

use rayon::prelude::*;

/// Pools `x` (`[b, d, h, w, c]` row-major, even `d`, `h`, `w`) to `[b, d/2, h/2, w/2, c]`.
pub fn max_pool2_channels_last(x: &[f32], [b, d, h, w, c]: [usize; 5]) -> Vec<f32> {
    assert_eq!(x.len(), b * d * h * w * c, "input is not [b, d, h, w, c]");
    let (od, oh, ow) = (d / 2, h / 2, w / 2);
    let mut out = vec![0f32; b * od * oh * ow * c];
    if out.is_empty() {
        return out;
    }
    let (row, plane) = (w * c, h * w * c);
    out.par_chunks_mut(oh * ow * c)
        .enumerate()
        .for_each(|(p, o)| {
            let (bi, z) = (p / od, p % od);
            let base = (bi * d + 2 * z) * plane;
            for y in 0..oh {
                for xo in 0..ow {
                    let dst = &mut o[(y * ow + xo) * c..(y * ow + xo + 1) * c];
                    let at = |dz: usize, dy: usize, dx: usize| {
                        let i = base + dz * plane + (2 * y + dy) * row + (2 * xo + dx) * c;
                        &x[i..i + c]
                    };
                    dst.copy_from_slice(at(0, 0, 0));
                    for (dz, dy, dx) in [
                        (0, 0, 1),
                        (0, 1, 0),
                        (0, 1, 1),
                        (1, 0, 0),
                        (1, 0, 1),
                        (1, 1, 0),
                        (1, 1, 1),
                    ] {
                        for (a, v) in dst.iter_mut().zip(at(dz, dy, dx)) {
                            *a = a.max(*v);
                        }
                    }
                }
            }
        });
    out
}

/// Puts the 2×2×2 blocks of a stride-2 transposed convolution in place: `y` holds, per input
/// voxel of `[b, d, h, w]`, `cout × 8` values ordered (channel, kd, kh, kw); the result is
/// `[b, 2d, 2h, 2w, cout]` plus `bias` per channel.
pub fn blocks_to_channels_last(
    y: &[f32],
    bias: &[f32],
    [b, d, h, w, cout]: [usize; 5],
) -> Vec<f32> {
    assert_eq!(
        y.len(),
        b * d * h * w * cout * 8,
        "blocks are not [b, d, h, w, cout, 8]"
    );
    assert_eq!(bias.len(), cout, "one bias per channel");
    let (oh, ow) = (2 * h, 2 * w);
    let mut out = vec![0f32; b * 2 * d * oh * ow * cout];
    if out.is_empty() {
        return out;
    }
    // One output row (fixed batch, z, y) at a time: it reads one input row of blocks.
    out.par_chunks_mut(ow * cout)
        .enumerate()
        .for_each(|(r, o)| {
            let (bz, oy) = (r / oh, r % oh);
            let (bi, oz) = (bz / (2 * d), bz % (2 * d));
            let (z, kd, yy, kh) = (oz / 2, oz % 2, oy / 2, oy % 2);
            let src = ((bi * d + z) * h + yy) * w * cout * 8;
            for x in 0..w {
                for kw in 0..2 {
                    let dst = &mut o[(2 * x + kw) * cout..(2 * x + kw + 1) * cout];
                    let tap = kd * 4 + kh * 2 + kw;
                    for (ch, v) in dst.iter_mut().enumerate() {
                        *v = y[src + (x * cout + ch) * 8 + tap] + bias[ch];
                    }
                }
            }
        });
    out
}

/// The 2×2×2 stride-2 transposed convolution of `y` (`[n, d, h, w, cin]`) to one class per
/// batch item: `weight` is burn's `[cin, classes, 2, 2, 2]`, `bias` `[classes]`, `chosen[i]` item
/// i's class. Returns `[n, 2d, 2h, 2w]` (that class's output channel only).
pub fn transposed_head_one_class(
    y: &[f32],
    weight: &[f32],
    bias: &[f32],
    chosen: &[usize],
    [n, d, h, w, cin]: [usize; 5],
) -> Vec<f32> {
    let classes = bias.len();
    assert_eq!(
        y.len(),
        n * d * h * w * cin,
        "features are not [n, d, h, w, cin]"
    );
    assert_eq!(
        weight.len(),
        cin * classes * 8,
        "weight is not [cin, classes, 2, 2, 2]"
    );
    assert!(
        chosen.len() == n && chosen.iter().all(|&k| k < classes),
        "one class per item"
    );
    // Per item, its class's taps as [tap][cin].
    let taps: Vec<Vec<f32>> = chosen
        .iter()
        .map(|&k| {
            let mut t = vec![0f32; 8 * cin];
            for c in 0..cin {
                for tap in 0..8 {
                    t[tap * cin + c] = weight[(c * classes + k) * 8 + tap];
                }
            }
            t
        })
        .collect();
    let (od, oh, ow) = (2 * d, 2 * h, 2 * w);
    let mut out = vec![0f32; n * od * oh * ow];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(ow).enumerate().for_each(|(r, o)| {
        let (iz, oy) = (r / oh, r % oh);
        let (i, oz) = (iz / od, iz % od);
        let (z, kd, yy, kh) = (oz / 2, oz % 2, oy / 2, oy % 2);
        let src = ((i * d + z) * h + yy) * w * cin;
        let b = bias[chosen[i]];
        for x in 0..w {
            let v = &y[src + x * cin..src + (x + 1) * cin];
            for kw in 0..2 {
                let t = &taps[i][(kd * 4 + kh * 2 + kw) * cin..(kd * 4 + kh * 2 + kw + 1) * cin];
                o[2 * x + kw] = b + v.iter().zip(t).map(|(a, c)| a * c).sum::<f32>();
            }
        }
    });
    out
}

/// Joins two channels-last tensors of `voxels` voxels along their channels: each output voxel
/// holds `a`'s `ca` values, then `b`'s `cb`.
pub fn cat_channels(a: &[f32], b: &[f32], voxels: usize, ca: usize, cb: usize) -> Vec<f32> {
    assert_eq!(a.len(), voxels * ca, "first input is not [voxels, ca]");
    assert_eq!(b.len(), voxels * cb, "second input is not [voxels, cb]");
    let c = ca + cb;
    let mut out = vec![0f32; voxels * c];
    if out.is_empty() {
        return out;
    }
    const RUN: usize = 1024;
    out.par_chunks_mut(RUN * c).enumerate().for_each(|(k, o)| {
        for (j, v) in o.chunks_exact_mut(c).enumerate() {
            let i = k * RUN + j;
            v[..ca].copy_from_slice(&a[i * ca..(i + 1) * ca]);
            v[ca..].copy_from_slice(&b[i * cb..(i + 1) * cb]);
        }
    });
    out
}

/// Nearest-neighbour 2× upsampling of `x` (`[b, d, h, w, c]`) to `[b, 2d, 2h, 2w, c]`: every
/// output row is its input row with each voxel's `c` values written twice.
pub fn upsample2(x: &[f32], [b, d, h, w, c]: [usize; 5]) -> Vec<f32> {
    assert_eq!(x.len(), b * d * h * w * c, "input is not [b, d, h, w, c]");
    let (oh, row) = (2 * h, 2 * w * c);
    let mut out = vec![0f32; b * 2 * d * oh * row];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(row).enumerate().for_each(|(r, o)| {
        let (bz, oy) = (r / oh, r % oh);
        let (bi, oz) = (bz / (2 * d), bz % (2 * d));
        let src = &x[((bi * d + oz / 2) * h + oy / 2) * w * c..][..w * c];
        for (pair, v) in o.chunks_exact_mut(2 * c).zip(src.chunks_exact(c)) {
            pair[..c].copy_from_slice(v);
            pair[c..].copy_from_slice(v);
        }
    });
    out
}
