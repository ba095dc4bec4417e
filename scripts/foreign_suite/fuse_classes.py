"""How should the detector's class probabilities and template matching's z-scores combine?

Reads, per tomogram, the picks' class scores as `tomopick pick --match-templates --class-scores
S.csv` writes them (p_<class>, cc_<class>, z_<class> per pick), names each pick by a rule, and
scores the names (SHREC rule, `tomopick evaluate`): mean class-agnostic F1 (unchanged by
naming) and mean macro F1 over the tomograms. Rules:

  detector           the detector's class (argmax p)
  templates          template matching's class (argmax z)
  logp:W             argmax of z + W * ln(p + 1e-4)
  gate:T             the detector's class where its probability reaches T, else argmax z
  top:K              argmax z among the detector's K most probable classes
  trust:A+B+...      the detector's class where it is one of A, B, ..., else argmax z

  python3 fuse_classes.py SCORES_DIR SUITE_DIR TOMO... [--rules R ...] [--bin tomopick]

SCORES_DIR holds <tomo>.scores.csv; SUITE_DIR holds each <tomo>/ with its truth (a suite part,
or an own simulated tomogram's folder given as its own name). Standard library only.
"""
import argparse
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_picks import read_class_scores, score_picks  # noqa: E402


def name(rule, p, z, classes):
    """The class index a rule gives one pick (`classes`: the names of p's and z's entries)."""
    best = lambda v: max(range(len(v)), key=lambda k: v[k])  # noqa: E731
    if rule == "detector":
        return best(p)
    if rule == "templates":
        return best(z)
    kind, w = rule.split(":")
    if kind == "trust":
        k = best(p)
        return k if classes[k] in w.split("+") else best(z)
    w = float(w)
    if kind == "logp":
        return best([zk + w * math.log(pk + 1e-4) for zk, pk in zip(z, p)])
    if kind == "gate":
        k = best(p)
        return k if p[k] >= w else best(z)
    if kind == "top":
        top = sorted(range(len(p)), key=lambda k: -p[k])[: int(w)]
        return max(top, key=lambda k: z[k])
    raise SystemExit(f"unknown rule {rule}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scores_dir")
    ap.add_argument("suite_dir")
    ap.add_argument("tomos", nargs="+")
    ap.add_argument("--rules", nargs="+", default=["detector", "templates", "logp:0.5", "logp:1",
                                                    "logp:2", "gate:0.9", "gate:0.99"])
    ap.add_argument("--bin", default="tomopick")
    a = ap.parse_args()
    data = {t: read_class_scores(os.path.join(a.scores_dir, t + ".scores.csv")) for t in a.tomos}
    print(f"{'rule':<12} {'F1':>6} {'macro':>6}  " + " ".join(f"{t:>7}" for t in a.tomos))
    with tempfile.TemporaryDirectory() as tmp:
        for rule in a.rules:
            f1s, macros = [], []
            for t in a.tomos:
                classes, rows = data[t]
                picks = [(classes[name(rule, p, z, classes)], x, y, zz, s) for x, y, zz, s, p, _, z in rows]
                f1, macro = score_picks(a.bin, os.path.join(a.suite_dir, t), picks, os.path.join(tmp, t))
                f1s.append(f1)
                macros.append(macro)
            n = len(a.tomos)
            print(f"{rule:<12} {sum(f1s) / n:6.3f} {sum(macros) / n:6.3f}  "
                  + " ".join(f"{m:7.3f}" for m in macros), flush=True)


if __name__ == "__main__":
    main()
