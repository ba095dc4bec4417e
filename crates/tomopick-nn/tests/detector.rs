//! The detector networks: output layout and cost.

use burn::prelude::*;
use tomopick_nn::{Architecture, Detector};

#[test]
fn every_network_predicts_on_a_stride_4_grid() {
    let dev = Device::flex();
    for arch in [
        Architecture::Paper,
        Architecture::Efficient,
        Architecture::EfficientDeep,
        Architecture::EfficientWide,
    ] {
        let net = Detector::new(arch, 3, 13, &dev);
        let x = Tensor::<5>::zeros([1, 1, 32, 32, 32], &dev);
        assert_eq!(net.forward(x).dims(), [1, 3 * 18, 8, 8, 8], "{arch:?}");
    }
}

#[test]
fn the_paper_network_costs_what_its_layers_add_up_to() {
    let dev = Device::flex();
    // By hand from the reference code (model/Darknet.py, YOLO3D.py), multiply-adds per 64³ cube:
    // stem 1→32 + 4 res(32) at 64³: (864 + 4·14336)·262144 = 15.259 G
    // 1/2: down 32→64 + 8 res(64): (55296 + 8·57344)·32768 = 16.844 G
    // 1/4: down 64→128 + 8 res(128): (221184 + 8·229376)·4096 = 8.422 G
    // 1/8: down 128→256 + 8 res(256): (884736 + 8·917504)·512 = 4.211 G
    // 1/16: down 256→512 + 8 res(512): (3538944 + 8·3670016)·64 = 2.106 G
    // neck 1/16 (7471104 + 32768)·64, neck 1/8 (1884160 + 16384)·512, neck 1/4 (471040 + 221184 + 128·51)·4096
    let by_hand = 15.259e9
        + 16.844e9
        + 8.422e9
        + 4.211e9
        + 2.106e9
        + 7_503_872.0 * 64.0
        + 1_900_544.0 * 512.0
        + 698_752.0 * 4096.0;
    let paper = Detector::new(Architecture::Paper, 3, 12, &dev).macs(64);
    assert!(
        (paper / by_hand - 1.0).abs() < 1e-3,
        "counted {paper:.4e}, by hand {by_hand:.4e}"
    );
    // 2 FLOP per multiply-add: 102 GFLOP per cube. (The notes' 36.2 GFLOP cannot be this network
    // on a 64³ cube: the backbone alone is 46.8 G multiply-adds.)
    assert!((paper * 2.0 / 1e9 - 102.3).abs() < 0.5);
    // The efficient design, per full-resolution voxel: 1→16 s2 (54) + res(16) (448) + 16→32 s2
    // (216) + 2 res(32) (448) + 32→64 s2 (108) + 2 res(64) (224) + up 64→32 (4) + 64→32 1×1 (32)
    // + 3×3 32→32 head conv (432) + 1×1 head 32→54 (27) = 1993 multiply-adds.
    let efficient = Detector::new(Architecture::Efficient, 3, 13, &dev).macs(64);
    assert!(
        (efficient / (1993.0 * 262_144.0) - 1.0).abs() < 1e-9,
        "counted {efficient:.4e}"
    );
    assert!(paper / efficient >= 10.0, "ratio {:.1}", paper / efficient);
    // efficient_deep adds, per full-resolution voxel, 2 res(64) at 1/8 (224), and at 1/16
    // 64→128 s2 (54) + 2 res(128) (112) + 1×1 128→64 (2) + 1×1 64→32 (0.5), and at 1/8 the
    // 1×1 96→64 after the join (12): 2397.5 multiply-adds.
    let deep = Detector::new(Architecture::EfficientDeep, 3, 13, &dev).macs(64);
    assert!(
        (deep / (2397.5 * 262_144.0) - 1.0).abs() < 1e-9,
        "counted {deep:.4e}"
    );
    assert!(paper / deep >= 10.0, "ratio {:.1}", paper / deep);
    // efficient_wide doubles every channel count, per full-resolution voxel: 1→32 s2 (108) +
    // res(32) (1792) + 32→64 s2 (864) + 2 res(64) (1792) + 64→128 s2 (432) + 2 res(128) (896) +
    // up 128→64 (16) + 128→64 1×1 (128) + 3×3 64→64 head conv (1728) + 1×1 head 64→54 (54) =
    // 7810 multiply-adds.
    let wide = Detector::new(Architecture::EfficientWide, 3, 13, &dev).macs(64);
    assert!(
        (wide / (7810.0 * 262_144.0) - 1.0).abs() < 1e-9,
        "counted {wide:.4e}"
    );
}

#[test]
fn every_network_goes_by_its_config_name() {
    for arch in [
        Architecture::Paper,
        Architecture::Efficient,
        Architecture::EfficientDeep,
        Architecture::EfficientWide,
    ] {
        let from_toml: Architecture =
            serde_json::from_str(&format!("\"{}\"", arch.name())).expect("a known name");
        assert_eq!(from_toml, arch);
    }
}
