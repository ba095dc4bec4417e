"""Would a per-class offset on template matching's standardised scores name more? (issue 14)

Each class's score (E = 0.5, the default rule) at the suite's true positions gets an offset;
the offsets are fitted by coordinate ascent (each in turn over -1.5..1.5 in steps of 0.1, a few
rounds) to the mean accuracy over the tomograms. Prints the accuracy in-sample (fitted on all)
and leaving each tomogram out of the fit in turn (fitted on the others, applied to it).

    python class_offsets.py SUITE [--prefix val]

Uses `template_makeup.py`'s cached runs (SUITE/<tomo>/makeup/matched.csv; run it first).
Needs numpy (the suite's venv).
"""
import argparse
import os

import numpy as np

from template_makeup import matched, place_stats

STEPS = np.linspace(-1.5, 1.5, 31)


def scores(suite, prefix):
    out = []
    for t in sorted(x for x in os.listdir(suite) if x.startswith(prefix) and len(x) == 5):
        _, cc, z, y = matched("tomopick", os.path.join(suite, t), 200)
        m, s = place_stats(cc, z)
        out.append((t, (cc - m) / s * np.exp(0.5 * (np.log(s) - np.log(s).mean())), y))
    return out


def accuracy(data, b):
    return np.mean([((sc + b).argmax(1) == y).mean() for _, sc, y in data])


def fit(data, rounds=4):
    b = np.zeros(data[0][1].shape[1])
    for _ in range(rounds):
        for k in range(len(b)):
            trial = [accuracy(data, np.where(np.arange(len(b)) == k, d, b)) for d in STEPS]
            if max(trial) > accuracy(data, b) + 1e-9:
                b[k] = STEPS[int(np.argmax(trial))]
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--prefix", default="val")
    a = ap.parse_args()
    data = scores(a.suite, a.prefix)
    b = fit(data)
    print(f"no offsets {accuracy(data, 0 * b):.3f}; fitted on all: {accuracy(data, b):.3f} "
          f"(offsets {np.round(b, 1).tolist()})")
    held = []
    for i, (t, sc, y) in enumerate(data):
        bi = fit(data[:i] + data[i + 1:])
        held.append((accuracy([data[i]], bi), accuracy([data[i]], 0 * bi)))
        print(f"{t}: {held[-1][0]:.3f} with the others' offsets, {held[-1][1]:.3f} without")
    print(f"each tomogram left out of the fit: {np.mean([h[0] for h in held]):.3f} "
          f"against {np.mean([h[1] for h in held]):.3f}")


if __name__ == "__main__":
    main()
