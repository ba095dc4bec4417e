"""Scoring a list of picks on one suite tomogram with `tomopick evaluate` (SHREC rule), shared by
the suite's experiment scripts. Standard library only."""
import csv
import json
import os
import subprocess


def score_picks(binary, tomo_dir, picks, out_dir):
    """Writes `picks` ((class, x, y, z, score) rows, Å) to OUT_DIR/picks.csv, scores them against
    the truth in `tomo_dir`, and returns (class-agnostic F1, mean per-class F1 over the classes
    present)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "picks.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["class", "x", "y", "z", "score"])
        w.writerows(picks)
    subprocess.run([binary, "-q", "evaluate", "--picks", path,
                    "--truth", os.path.join(tomo_dir, "particle_locations.txt"),
                    "--occupancy", os.path.join(tomo_dir, "occupancy_mask.mrc"),
                    "--classes", os.path.join(tomo_dir, "classes.toml"), "--beta", "1", "-o", out_dir],
                   check=True, stdout=subprocess.DEVNULL)
    r = json.load(open(os.path.join(out_dir, "report.json")))["shrec"]
    per = [s["f1"] for s in r["per_class"].values() if s["n_truth"] > 0]
    return r["overall"]["f1"], sum(per) / max(1, len(per))


def read_class_scores(path):
    """The class scores `tomopick pick --class-scores` writes: (classes, rows), each row
    (x, y, z, score, p list, cc list, z list); the cc and z lists are empty without
    `--match-templates`."""
    with open(path) as f:
        r = csv.reader(f)
        head = next(r)
        classes = [h[2:] for h in head if h.startswith("p_")]
        cols = [[head.index(prefix + c) for c in classes if prefix + c in head]
                for prefix in ("p_", "cc_", "z_")]
        rows = [(float(line[1]), float(line[2]), float(line[3]), float(line[4]),
                 *([float(line[i]) for i in c] for c in cols)) for line in r]
    return classes, rows


def validation_tomograms(suite):
    """The validation part's tomogram folders of SUITE (val00, val01, ...), sorted."""
    return sorted(n for n in os.listdir(suite) if n.startswith("val") and len(n) == 5)
