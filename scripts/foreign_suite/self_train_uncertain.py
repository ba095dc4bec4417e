"""Self-training with uncertain places left out of the background loss (issue 19 experiment).
Per validation tomogram: labels = adapted13's labels; candidates = default picks at LOW;
uncertain = candidates farther than 40 A from any label; fine-tune with adapt13's config plus
`uncertain`; pick at 0.02; ladder."""
import csv, os, subprocess, sys
import numpy as np
sys.path.insert(0, "/work/main/scripts/foreign_suite")
from scale_ladder import B, LADDER, report, score_ladder
from score_picks import validation_tomograms
suite, low, tag = sys.argv[1], float(sys.argv[2]), sys.argv[3]
tomos = sys.argv[4:] or validation_tomograms(suite)
res = {}
for t in tomos:
    d = f"{suite}/{t}"; o = f"{d}/{tag}"; os.makedirs(o, exist_ok=True)
    a = f"{d}/adapted13/adapt"
    lab = f"{a}/labels/00_reconstruction.csv"
    cand = f"{o}/cand.csv"
    if not os.path.exists(cand):
        subprocess.run([B, "-q", "pick", f"{d}/reconstruction.mrc", "--threshold", str(low), "-o", cand], check=True, stdout=subprocess.DEVNULL)
    L = np.array([[float(r[k]) for k in "xyz"] for r in csv.DictReader(open(lab))]).reshape(-1, 3)
    rows = list(csv.DictReader(open(cand)))
    unc = [r for r in rows if len(L) == 0 or np.min(np.linalg.norm(L - [float(r[k]) for k in "xyz"], axis=1)) > 40]
    with open(f"{o}/uncertain.csv", "w") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys())); w.writeheader(); w.writerows(unc)
    model = f"{o}/run/model.bpk"
    if not os.path.exists(model):
        cfg = open(f"{a}/adapt.toml").read() + f'uncertain = "{o}/uncertain.csv"\n'
        open(f"{o}/adapt.toml", "w").write(cfg)
        subprocess.run([B, "-q", "train", "detector", "--config", f"{o}/adapt.toml", "-o", f"{o}/run"], check=True, stdout=subprocess.DEVNULL)
    raw = f"{o}/raw.csv"
    if not os.path.exists(raw):
        subprocess.run([B, "-q", "pick", f"{d}/reconstruction.mrc", "--model", model, "--threshold", "0.02", "-o", raw], check=True, stdout=subprocess.DEVNULL)
    res[t], _ = score_ladder(d, raw, o)
    print(t, f"labels {len(L)} cand {len(rows)} uncertain {len(unc)} |", " ".join(f"{th}:{f:.3f}/{m:.3f}" for th, (f, m) in zip(LADDER, res[t])), flush=True)
report(tag, res, tomos)
