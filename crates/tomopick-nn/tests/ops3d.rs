//! The 3D pooling and upsampling against hand-computed cases.

use burn::prelude::*;
use burn::tensor::TensorData;
use tomopick_nn::ops3d::{max_pool3d_2, upsample3d_2};

fn tensor(values: Vec<f32>, shape: [usize; 5]) -> Tensor<5> {
    Tensor::<5>::from_data(TensorData::new(values, shape), &Device::flex())
}

fn values(t: Tensor<5>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn max_pool_picks_the_largest_of_each_2x2x2_block() {
    // One channel, 2 × 4 × 4 (d, h, w): value = 100·z + 10·y + x, with one spike.
    let mut v: Vec<f32> = (0..2)
        .flat_map(|z| (0..4).flat_map(move |y| (0..4).map(move |x| (100 * z + 10 * y + x) as f32)))
        .collect();
    v[4] = 999.0; // z = 0, y = 1, x = 0: in the first block
    let out = max_pool3d_2(tensor(v, [1, 1, 2, 4, 4]));
    assert_eq!(out.dims(), [1, 1, 1, 2, 2]);
    // Blocks: (y 0-1, x 0-1) → max at z 1, y 1, x 1 = 111, but the spike 999 wins;
    // (y 0-1, x 2-3) → 113; (y 2-3, x 0-1) → 131; (y 2-3, x 2-3) → 133.
    assert_eq!(values(out), vec![999.0, 113.0, 131.0, 133.0]);
}

#[test]
fn max_pool_keeps_batches_and_channels_apart() {
    // Two batches × two channels of 2³, each filled with its own constant.
    let v: Vec<f32> = (0..4)
        .flat_map(|k| std::iter::repeat_n(k as f32, 8))
        .collect();
    let out = max_pool3d_2(tensor(v, [2, 2, 2, 2, 2]));
    assert_eq!(out.dims(), [2, 2, 1, 1, 1]);
    assert_eq!(values(out), vec![0.0, 1.0, 2.0, 3.0]);
}

#[test]
fn upsample_copies_each_voxel_into_a_2x2x2_block() {
    let v = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]; // 2 × 2 × 2
    let out = upsample3d_2(tensor(v.clone(), [1, 1, 2, 2, 2]));
    assert_eq!(out.dims(), [1, 1, 4, 4, 4]);
    let o = values(out);
    for z in 0..4 {
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(
                    o[z * 16 + y * 4 + x],
                    v[(z / 2) * 4 + (y / 2) * 2 + x / 2],
                    "at {z},{y},{x}"
                );
            }
        }
    }
    // Pooling an upsampled tensor gives the original back.
    let round = max_pool3d_2(upsample3d_2(tensor(v.clone(), [1, 1, 2, 2, 2])));
    assert_eq!(values(round), v);
}
