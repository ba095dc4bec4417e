//! 3D operations burn 0.22 lacks, built from reshape, expand and max_dim: a 2× max-pool and a
//! 2× nearest-neighbour upsample. Ranks stay at 6 or below (the backends' limit).

use burn::prelude::*;

/// 2×2×2 max-pooling with stride 2 of a `[batch, channels, depth, height, width]` tensor.
/// Depth, height and width must be even.
pub fn max_pool3d_2(x: Tensor<5>) -> Tensor<5> {
    let [b, c, d, h, w] = x.dims();
    assert!(
        d % 2 == 0 && h % 2 == 0 && w % 2 == 0,
        "max_pool3d_2 needs even sizes, got {d}×{h}×{w}"
    );
    x.reshape([b * c * d / 2, 2, h / 2, 2, w / 2, 2])
        .max_dim(5)
        .max_dim(3)
        .max_dim(1)
        .reshape([b, c, d / 2, h / 2, w / 2])
}

/// Nearest-neighbour 2× upsampling of a `[batch, channels, depth, height, width]` tensor.
pub fn upsample3d_2(x: Tensor<5>) -> Tensor<5> {
    let [b, c, d, h, w] = x.dims();
    let x: Tensor<5> = x
        .reshape([b * c * d, h, 1, w, 1])
        .expand([b * c * d, h, 2, w, 2]);
    let x: Tensor<4> = x
        .reshape([b * c, d, 1, 4 * h * w])
        .expand([b * c, d, 2, 4 * h * w]);
    x.reshape([b, c, 2 * d, 2 * h, 2 * w])
}
