"""Samples of a few known complexes (issue 14): does naming the sample's classes help?

Each tomogram of the suite's "subset" part (`make_suite.py --part subset`: three of the 13
classes each) is picked with the shipped defaults, with `--classes` set to its three classes,
and both again with `--match-templates` (its tilt range from params.json); `tomopick evaluate`
scores each (SHREC rule): class-agnostic F1 and the mean per-class F1 over the classes present.

    python subset_classes.py SUBSET_DIR [--bin tomopick] [--tag T] [--runs RUN ...]

`--runs adapted adapted+classes` self-trains on each tomogram first (`tomopick adapt`, without
and with `--classes`) and picks it with the adapted model (with `--classes` for the second);
`adapted+classes+templates` adapts with `--classes --match-templates` (labels named by template
matching among the sample's classes) and picks with `--classes`.
Standard library only; results go under each tomogram's folder (`subset_<run>[_<tag>]/`; give a
new tag when the default model changes, as the picks are kept and reused).
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
    ap.add_argument("--tag", default="")
    ap.add_argument("--runs", nargs="+", default=["defaults", "classes", "templates", "classes+templates"])
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
        runs["adapted"] = []
        runs["adapted+classes"] = runs["classes"]
        # Self-training on labels named by template matching among the sample's classes; the
        # adapted model then picks with `--classes` alone (it has learned the names).
        runs["adapted+classes+templates"] = runs["classes"]
        adapt_only = {"adapted+classes+templates": tm}
        tomo = os.path.join(d, "reconstruction.mrc")
        line = []
        for run in a.runs:
            args = list(runs[run])
            o = os.path.join(d, f"subset_{run}" + (f"_{a.tag}" if a.tag else ""))
            out = os.path.join(o, "raw.csv")
            if not os.path.exists(out):
                os.makedirs(o, exist_ok=True)
                if run.startswith("adapted"):
                    model = os.path.join(o, "adapt", "model.bpk")
                    if not os.path.exists(model):
                        subprocess.run([a.bin, "-q", "adapt", tomo, "-o", os.path.join(o, "adapt"), *args,
                                        *adapt_only.get(run, [])],
                                       check=True, stdout=subprocess.DEVNULL)
                    args += ["--model", model]
                subprocess.run([a.bin, "-q", "pick", tomo, *args, "-o", out],
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
