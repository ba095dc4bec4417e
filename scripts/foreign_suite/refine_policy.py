#!/usr/bin/env python3
"""How should the classifier's opinion change a pick's class? Measured on the foreign suite.

For every tomogram of a suite part that has a run of picks (`foreign_suite.sh PART RUN` made
them), the classifier is asked once for every class probability at each pick (`tomopick
classify ... -o classified.csv`); then each rule below rewrites the classes, `tomopick evaluate`
scores the result (SHREC rule) and one table gives, per rule, the mean class-agnostic F1 and
macro F1 over the part:

- `detector`: the picks as they are.
- `shipped`: today's `pick --refine-classes` (the classifier's class; `membrane` picks dropped).
- `gate:T`: the classifier's best class other than `membrane` replaces the detector's where
  its probability is at least T; nothing is dropped.
- `gatedrop:T`: as `gate:T`, and a pick the classifier calls `membrane` with probability at
  least T is dropped.
- `prior:B`: the class maximising log p_classifier(c) + B * [c is the detector's class] over
  the detector's classes (B = 0: the classifier's best non-membrane class; large B: the
  detector's); nothing is dropped.

Choices are made on the validation part; the test part only reports. Standard library only.

    refine_policy.py SUITE_DIR RUN [--prefix val] [--model CLASSIFIER.bpk] [--bin tomopick]
"""
import argparse
import csv
import math
import os
import subprocess

from score_picks import score_picks

GATES = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
PRIORS = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]


def classify(binary, tomo_dir, run, model, out_csv):
    if os.path.exists(out_csv):
        return
    cmd = [binary, "-q", "classify", os.path.join(tomo_dir, "reconstruction.mrc"),
           "--picks", os.path.join(tomo_dir, run, "picks.csv"), "-o", out_csv + ".tmp.csv"]
    if model:
        cmd += ["--model", model]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    os.replace(out_csv + ".tmp.csv", out_csv)


def rewrite(rows, rule):
    """The picks under `rule`, as (class, x, y, z, score) tuples."""
    out = []
    for r in rows:
        probs = {k[2:]: float(v) for k, v in r.items() if k.startswith("p_")}
        det = r["input_class"]
        named = {c: p for c, p in probs.items() if c != "membrane"}
        best = max(named, key=named.get)
        if rule == "detector":
            cls = det
        elif rule == "shipped":
            if r["class"] == "membrane":
                continue
            cls = r["class"]
        elif rule.startswith("gate:"):
            cls = best if named[best] >= float(rule[5:]) else det
        elif rule.startswith("gatedrop:"):
            t = float(rule[9:])
            if probs.get("membrane", 0.0) >= t:
                continue
            cls = best if named[best] >= t else det
        elif rule.startswith("prior:"):
            b = float(rule[6:])
            cls = max(named, key=lambda c: math.log(max(named[c], 1e-9)) + (b if c == det else 0.0))
        else:
            raise ValueError(rule)
        out.append((cls, r["x"], r["y"], r["z"], r["score"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("run")
    ap.add_argument("--prefix", default="val")
    ap.add_argument("--model", default=None)
    ap.add_argument("--bin", default="tomopick")
    ap.add_argument("--name", default="refine", help="folder name for this classifier's results")
    a = ap.parse_args()
    rules = (["detector", "shipped"] + [f"gate:{g}" for g in GATES] + [f"gatedrop:{g}" for g in GATES]
             + [f"prior:{b}" for b in PRIORS])
    scores = {r: [] for r in rules}
    tomos = sorted(n for n in os.listdir(a.suite) if n.startswith(a.prefix)
                   and os.path.exists(os.path.join(a.suite, n, a.run, "picks.csv")))
    for name in tomos:
        d = os.path.join(a.suite, name)
        base = os.path.join(d, a.run, a.name)
        os.makedirs(base, exist_ok=True)
        cls_csv = os.path.join(base, "classified.csv")
        classify(a.bin, d, a.run, a.model, cls_csv)
        rows = list(csv.DictReader(open(cls_csv)))
        for rule in rules:
            scores[rule].append(score_picks(a.bin, d, rewrite(rows, rule), os.path.join(base, rule.replace(":", "_"))))
    print(f"{len(tomos)} tomograms ({a.prefix}), picks of run {a.run}, classifier {a.model or 'embedded default'}")
    print("| rule | mean F1 | mean macro F1 |")
    print("|---|---:|---:|")
    for rule in rules:
        s = scores[rule]
        if s:
            print(f"| {rule} | {sum(f for f, _ in s) / len(s):.3f} | {sum(m for _, m in s) / len(s):.3f} |")


if __name__ == "__main__":
    main()
