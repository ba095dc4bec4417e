"""The adapted models' one threshold (`tomopick adapt`'s ADAPTED_THRESHOLD), checked on the suite's
validation part: each tomogram's adapted model (from `ADAPT=1 scripts/foreign_suite.sh validation
RUN`, in valNN/RUN/adapt/model.bpk) picks its tomogram at threshold 0.02, and the picks are cut at a
ladder of common thresholds and scored (SHREC rule); mean F1 and macro F1 per threshold, and the
mean of each tomogram's best.

    python adapted_ladder.py SUITE_DIR RUN [--bin tomopick]

Standard library only; writes valNN/RUN/ladder/.
"""
import argparse
import csv
import os
import subprocess

from score_picks import score_picks

LADDER = [0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("run")
    ap.add_argument("--bin", default="tomopick")
    a = ap.parse_args()
    names = sorted(n for n in os.listdir(a.suite) if n.startswith("val"))
    f1 = {t: [] for t in LADDER}
    macro = {t: [] for t in LADDER}
    best = []
    for name in names:
        d = os.path.join(a.suite, name)
        o = os.path.join(d, a.run, "ladder")
        raw = os.path.join(o, "raw.csv")
        if not os.path.exists(raw):
            os.makedirs(o, exist_ok=True)
            subprocess.run([a.bin, "-q", "pick", os.path.join(d, "reconstruction.mrc"), "--model",
                            os.path.join(d, a.run, "adapt", "model.bpk"), "--threshold", "0.02", "-o", raw],
                           check=True, stdout=subprocess.DEVNULL)
        rows = [(r["class"], r["x"], r["y"], r["z"], float(r["score"])) for r in csv.DictReader(open(raw))]
        line = []
        for t in LADDER:
            f, m = score_picks(a.bin, d, [r for r in rows if r[4] >= t], os.path.join(o, f"t{t}"))
            f1[t].append(f)
            macro[t].append(m)
            line.append(f"{t}:{f:.3f}")
        best.append(max(f1[t][-1] for t in LADDER))
        print(f"{name}: " + " ".join(line), flush=True)
    print("| threshold | " + " | ".join(str(t) for t in LADDER) + " |")
    print("|---|" + "---:|" * len(LADDER))
    print("| mean F1 | " + " | ".join(f"{sum(f1[t]) / len(names):.3f}" for t in LADDER) + " |")
    print("| mean macro F1 | " + " | ".join(f"{sum(macro[t]) / len(names):.3f}" for t in LADDER) + " |")
    print(f"each tomogram at its best: {sum(best) / len(best):.3f}")


if __name__ == "__main__":
    main()
