"""Classifier accuracy at true positions with and without its `membrane` class (issue 14).

    python scripts/classifier_without_membrane.py MODEL.bpk FOLDER...

Each FOLDER is in SHREC layout (reconstruction.mrc, particles.csv or particle_locations.txt at
10 Å), e.g. the foreign suite's ~/.cache/tomopick/foreign_suite/val00. Prints the accuracy of
the classifier's own choice and of the best class other than membrane: whether `membrane` only
absorbs particles the network would otherwise name right. Needs the Python package
(`pip install ./python`).
"""

import os
import sys

import tomopick


def truth_of(folder: str):
    csv = os.path.join(folder, "particles.csv")
    if os.path.exists(csv):
        return tomopick.read_particles(csv)
    return tomopick.read_particles(os.path.join(folder, "particle_locations.txt"), voxel_size=10.0)


def main() -> None:
    model, folders = sys.argv[1], sys.argv[2:]
    total = right = right_without = 0
    for folder in folders:
        out = tomopick.classify(os.path.join(folder, "reconstruction.mrc"), truth_of(folder),
                                model=model, progress=False)
        columns = [c for c in out.columns if c.startswith("p_")]
        names = [c[2:] for c in columns]
        p = out[columns].to_numpy()
        keep = [i for i, n in enumerate(names) if n != "membrane"]
        chosen = [names[i] for i in p.argmax(1)]
        without = [names[keep[i]] for i in p[:, keep].argmax(1)]
        truth = list(out["input_class"])
        total += len(truth)
        right += sum(a == b for a, b in zip(chosen, truth))
        right_without += sum(a == b for a, b in zip(without, truth))
    print(f"{total} boxes: accuracy {right / total:.3f}; without the membrane class {right_without / total:.3f}")


if __name__ == "__main__":
    main()
