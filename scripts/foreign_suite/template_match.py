#!/usr/bin/env python3
"""`tomopick match-templates` on the foreign suite (issue 14, item 4): how often it names a
particle right at the true positions, and what it does to the detector's picks.

The templates are our own simulator's (the command's default), never the suite's density. For
each tomogram of a suite part, with the tilt range a user would pass (`--tilt-max` from
params.json):

- at the true positions (`particle_locations.txt` as the pick list): the accuracy over the 13
  classes, the figure issue 14 asks of the classifier;
- at the picks of a run (`foreign_suite.sh PART RUN` made them): each rule below rewrites their
  classes and `tomopick evaluate` scores them (SHREC rule).

Rules: `detector` (as picked); `templates` (the command's class: highest z-score);
`margin:M` (the templates' class where its z-score leads the runner-up's by more than M, else
the detector's). Choices are made on the validation part; the test part only reports.

    template_match.py [--run defaults] [--prefix val] [--bin tomopick] [--tag tm] [--ctf] SUITE_DIR [-- MATCH ARGS]

(--ctf: each tomogram's mean defocus and phase flipping from its params.json, as `--defocus D
[--phase-flipped]`)

(options before SUITE_DIR when match-templates arguments follow `--`: argparse gives both
positionals their values at SUITE_DIR)
"""
import argparse
import csv
import json
import os
import subprocess

from score_picks import score_picks

MARGINS = [0.25, 0.5, 1.0]


def ctf_args(params):
    """match-templates' CTF arguments as a user would give them for a suite tomogram: its mean
    defocus (CTFFIND's figure) and whether it was phase-flipped; voltage and Cs are the suite's
    (300 kV, 2.7 mm, the defaults), amplitude contrast the default 0.07 (the suite's: 0.05-0.10)."""
    return ["--defocus", f"{params['defocus_um']:.3f}"] + (["--phase-flipped"] if params["phase_flip"] else [])


def match(binary, tomo_dir, picks, out_csv, extra, ctf=False):
    if os.path.exists(out_csv):
        return list(csv.DictReader(open(out_csv)))
    params = json.load(open(os.path.join(tomo_dir, "params.json")))
    subprocess.run([binary, "-q", "match-templates", os.path.join(tomo_dir, "reconstruction.mrc"),
                    "--picks", picks, "--tilt-max", str(params["tilt_max_deg"]),
                    "-o", out_csv + ".tmp.csv"] + extra + (ctf_args(params) if ctf else []),
                   check=True, stdout=subprocess.DEVNULL)
    os.replace(out_csv + ".tmp.csv", out_csv)
    return list(csv.DictReader(open(out_csv)))


def rewrite(rows, rule):
    out = []
    for r in rows:
        cls = r["input_class"]
        if rule == "templates":
            cls = r["class"]
        elif rule.startswith("margin:"):
            z = sorted((float(v) for k, v in r.items() if k.startswith("z_")), reverse=True)
            if z[0] - z[1] > float(rule[7:]):
                cls = r["class"]
        out.append((cls, r["x"], r["y"], r["z"], r["input_score"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite")
    ap.add_argument("--run", default="defaults")
    ap.add_argument("--prefix", default="val")
    ap.add_argument("--bin", default="tomopick")
    ap.add_argument("--tag", default="tm", help="name of the output folder in each run")
    ap.add_argument("--ctf", action="store_true",
                    help="give match-templates each tomogram's defocus and phase flipping (params.json)")
    ap.add_argument("extra", nargs="*", help="more match-templates arguments (after --)")
    a = ap.parse_args()
    rules = ["detector", "templates"] + [f"margin:{m}" for m in MARGINS]
    table = {r: [] for r in rules}
    accuracy = []
    for t in sorted(os.listdir(a.suite)):
        d = os.path.join(a.suite, t)
        run = os.path.join(d, a.run)
        if not t.startswith(a.prefix) or not os.path.exists(os.path.join(run, "picks.csv")):
            continue
        out = os.path.join(run, a.tag)
        os.makedirs(out, exist_ok=True)
        truth = match(a.bin, d, os.path.join(d, "particle_locations.txt"),
                      os.path.join(out, "truth.csv"), a.extra, a.ctf)
        accuracy.append(sum(r["class"] == r["input_class"] for r in truth) / max(1, len(truth)))
        rows = match(a.bin, d, os.path.join(run, "picks.csv"), os.path.join(out, "picks.csv"),
                     a.extra, a.ctf)
        # The output keeps the picks' order: each row takes its pick's detector score.
        for r, p in zip(rows, csv.DictReader(open(os.path.join(run, "picks.csv")))):
            r["input_score"] = p["score"]
        line = [t, f"accuracy at true positions {accuracy[-1]:.3f}"]
        for rule in rules:
            f1, macro = score_picks(a.bin, d, rewrite(rows, rule),
                                    os.path.join(out, rule.replace(":", "_")))
            table[rule].append((f1, macro))
            line.append(f"{rule} {macro:.3f}")
        print("  ".join(line), flush=True)
    print(f"\naccuracy at the true positions, mean over the part: "
          f"{sum(accuracy) / max(1, len(accuracy)):.3f}")
    print("| rule | mean F1 | mean macro F1 |\n|---|---:|---:|")
    for rule in rules:
        v = table[rule]
        print(f"| {rule} | {sum(x[0] for x in v) / len(v):.3f} | {sum(x[1] for x in v) / len(v):.3f} |")


if __name__ == "__main__":
    main()
