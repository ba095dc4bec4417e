"""How much the particles of a tomogram stand out from the noise around them (issue 19).

    python scripts/snr_contrast/particle_cnr.py FOLDER...

Each FOLDER holds reconstruction.mrc and occupancy_mask.mrc (particle number per voxel), as
`tomopick simulate tomogram` and the foreign suite write them. Per particle: the mean inside its
mask minus the mean over a shell 2-3 voxels outside any particle, over the standard deviation of
all those shells; prints the median over the particles (negative: dark particles), on the
tomogram as it is and low-passed by a Gaussian of 1.5 voxels (most of what the ramp filter lifts
above the particles' band gone, as a detector's first layers would). Two simulators' "SNR" can be
compared only through a measure like this.
"""

import sys

import mrcfile
import numpy as np
from scipy import ndimage


def contrast_to_noise(folder: str, sigma: float = 0.0) -> tuple[float, float, int]:
    vol = mrcfile.read(f"{folder}/reconstruction.mrc").astype(np.float64)
    if sigma > 0:
        vol = ndimage.gaussian_filter(vol, sigma)
    labels = mrcfile.read(f"{folder}/occupancy_mask.mrc").astype(np.int64)
    inside_any = labels > 0
    shell = ndimage.binary_dilation(inside_any, iterations=3) & ~ndimage.binary_dilation(
        inside_any, iterations=1
    )
    ids = np.unique(labels[inside_any])
    inside = np.asarray(ndimage.mean(vol, labels, ids))
    owner = np.where(shell, ndimage.grey_dilation(labels, size=(7, 7, 7)), 0)
    around = np.asarray(ndimage.mean(vol, owner, ids))
    cnr = (inside - around) / vol[shell].std()
    return float(np.nanmedian(cnr)), float(np.nanmean(cnr)), len(ids)


def main() -> None:
    for folder in sys.argv[1:]:
        raw, _, n = contrast_to_noise(folder)
        low, _, _ = contrast_to_noise(folder, 1.5)
        print(f"{folder}\tcontrast/noise {raw:.3f}\tlow-passed {low:.3f}\tparticles {n}")


if __name__ == "__main__":
    main()
