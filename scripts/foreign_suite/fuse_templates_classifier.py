"""Template matching and the classifier together, at the suite's true positions (issue 14).

Per tomogram: `tomopick match-templates` (each class's z-score, `--tilt-max` from params.json)
and `tomopick classify` (each class's probability) at the true positions; then each rule names
every particle and the accuracy over the 13 classes is printed per tomogram and overall:
`templates` (highest z), `classifier` (highest probability other than membrane), and `fuse:W`
(highest z + W * ln p over the 13 classes).

    python fuse_templates_classifier.py SUITE_DIR --prefix val|tes [--bin tomopick] [--classifier M.bpk]

Standard library only; results are kept under each tomogram's folder (`fuse_tc/`).
"""
import argparse
import csv
import json
import math
import os
import subprocess

WEIGHTS = [0.25, 0.5, 1.0, 2.0, 4.0]


def run(cmd, out):
    if not os.path.exists(out):
        subprocess.run(cmd + ["-o", out + ".tmp.csv"], check=True, stdout=subprocess.DEVNULL)
        os.replace(out + ".tmp.csv", out)
    return list(csv.DictReader(open(out)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--prefix", default="val")
    ap.add_argument("--bin", default="tomopick")
    ap.add_argument("--classifier", default=None)
    a = ap.parse_args()
    rules = ["templates", "classifier"] + [f"fuse:{w}" for w in WEIGHTS]
    right = {r: 0 for r in rules}
    total = 0
    for name in sorted(n for n in os.listdir(a.suite) if n.startswith(a.prefix)):
        d = os.path.join(a.suite, name)
        o = os.path.join(d, "fuse_tc")
        os.makedirs(o, exist_ok=True)
        tomo, truth = os.path.join(d, "reconstruction.mrc"), os.path.join(d, "particle_locations.txt")
        tilt = json.load(open(os.path.join(d, "params.json")))["tilt_max_deg"]
        tm = run([a.bin, "-q", "match-templates", tomo, "--picks", truth, "--tilt-max", str(tilt)], os.path.join(o, "templates.csv"))
        cmd = [a.bin, "-q", "classify", tomo, "--picks", truth]
        if a.classifier:
            cmd += ["--model", a.classifier]
        cl = run(cmd, os.path.join(o, "classified.csv"))
        assert len(tm) == len(cl), (name, len(tm), len(cl))
        mine = {r: 0 for r in rules}
        for t, c in zip(tm, cl):
            true = t["input_class"]
            assert c["input_class"] == true and abs(float(t["x"]) - float(c["x"])) < 1e-3
            z = {k[2:]: float(v) for k, v in t.items() if k.startswith("z_")}
            p = {k[2:]: float(v) for k, v in c.items() if k.startswith("p_") and k != "p_membrane"}
            named = {"templates": max(z, key=z.get), "classifier": max(p, key=p.get)}
            for w in WEIGHTS:
                named[f"fuse:{w}"] = max(z, key=lambda k: z[k] + w * math.log(max(p.get(k, 0.0), 1e-9)))
            for r in rules:
                mine[r] += named[r] == true
        n = len(tm)
        total += n
        for r in rules:
            right[r] += mine[r]
        print(f"{name} ({n}): " + " ".join(f"{r} {mine[r] / n:.3f}" for r in rules), flush=True)
    print(f"all ({total}): " + " ".join(f"{r} {right[r] / total:.3f}" for r in rules))


if __name__ == "__main__":
    main()
