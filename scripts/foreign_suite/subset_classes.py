"""Samples of a few known complexes (issue 14): does naming the sample's classes help?

Each tomogram of the suite's "subset" part (`make_suite.py --part subset`: three of the 13
classes each) is picked with the shipped defaults, with `--classes` set to its three classes,
and both again with `--match-templates` (its tilt range from params.json); `tomopick evaluate`
scores each (SHREC rule): class-agnostic F1 and the mean per-class F1 over the classes present.

    python subset_classes.py SUBSET_DIR [--bin tomopick]

Standard library only; results go under each tomogram's folder (`subset_<run>/`).
"""
import argparse
import csv
import json
import os
import subprocess

from score_picks import score_picks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--bin", default="tomopick")
    a = ap.parse_args()
    res = {}
    names = sorted(n for n in os.listdir(a.suite) if n.startswith("sub"))
    for name in names:
        d = os.path.join(a.suite, name)
        p = json.load(open(os.path.join(d, "params.json")))
        tm = ["--match-templates", "--tilt-max", str(p["tilt_max_deg"])]
        runs = {"defaults": [], "classes": ["--classes", ",".join(p["classes"])]}
        runs["templates"] = tm
        runs["classes+templates"] = runs["classes"] + tm
        line = []
        for run, args in runs.items():
            o = os.path.join(d, f"subset_{run}")
            out = os.path.join(o, "raw.csv")
            if not os.path.exists(out):
                os.makedirs(o, exist_ok=True)
                subprocess.run([a.bin, "-q", "pick", os.path.join(d, "reconstruction.mrc"), *args, "-o", out],
                               check=True, stdout=subprocess.DEVNULL)
            rows = [(r["class"], r["x"], r["y"], r["z"], r["score"]) for r in csv.DictReader(open(out))]
            res.setdefault(run, []).append(score_picks(a.bin, d, rows, o))
            line.append(f"{run} {res[run][-1][0]:.3f} / {res[run][-1][1]:.3f}")
        print(f"{name} (SNR {p['snr']}, {', '.join(p['classes'])}, {p['particles']} particles): " + "; ".join(line), flush=True)
    print("| run | mean F1 | mean macro F1 (the classes present) |")
    print("|---|---:|---:|")
    for run, s in res.items():
        print(f"| {run} | {sum(f for f, _ in s) / len(s):.3f} | {sum(m for _, m in s) / len(s):.3f} |")


if __name__ == "__main__":
    main()
