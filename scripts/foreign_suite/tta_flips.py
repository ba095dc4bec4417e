"""Flip test-time augmentation, tried from outside `tomopick` (issue 19): pick each flipped copy of
a suite tomogram (none, x, y, x and y: flips keep the missing wedge's geometry) at threshold 0.02,
map the picks back, fuse them (greedy, strongest first: one pick per flip within 40 A, score = the
mean over the four flips, 0 where a flip has none), and score fused and unfused picks (SHREC rule,
`tomopick evaluate`) over a ladder of common thresholds.

    python scripts/foreign_suite/tta_flips.py SUITE_DIR val00 val01 ...   # TOMOPICK_BIN, OUT

Uses the suite's venv (numpy, mrcfile). Prints F1 per tomogram and threshold, then the means."""
import csv, os, subprocess, sys, json
import numpy as np, mrcfile
B = os.environ.get("TOMOPICK_BIN", os.path.expanduser("~/.cache/tomopick/target/release/tomopick"))
OUT = os.environ.get("OUT", "runs/tta")
FLIPS = [(), (2,), (1,), (2, 1)]  # numpy axes: 2 = x, 1 = y
LOW = 0.02
def picks(path):
    return [dict(r) for r in csv.DictReader(open(path))]
def run(d, out):
    os.makedirs(out, exist_ok=True)
    vol = mrcfile.read(f"{d}/reconstruction.mrc")
    nz, ny, nx = vol.shape
    allp = []
    for k, f in enumerate(FLIPS):
        p = f"{out}/flip{k}.mrc"
        if not os.path.exists(f"{out}/picks{k}.csv"):
            with mrcfile.new(p, overwrite=True) as m:
                m.set_data(np.ascontiguousarray(np.flip(vol, f) if f else vol)); m.voxel_size = 10.0
            subprocess.run([B, "-q", "pick", p, "--threshold", str(LOW), "-o", f"{out}/picks{k}.csv"], check=True, stdout=subprocess.DEVNULL)
            os.remove(p)
        ps = picks(f"{out}/picks{k}.csv")
        for r in ps:
            x, y, z = float(r["x"]), float(r["y"]), float(r["z"])
            if 2 in f: x = (nx - 1) * 10.0 - x
            if 1 in f: y = (ny - 1) * 10.0 - y
            allp.append((k, np.array([x, y, z]), float(r["score"]), r["class"]))
    return allp
def fuse(allp, n, radius=40.0):
    allp = sorted(allp, key=lambda t: -t[2])
    used = [False] * len(allp)
    pos = np.array([t[1] for t in allp]) if allp else np.zeros((0, 3))
    out = []
    for i, (k, p, s, c) in enumerate(allp):
        if used[i]: continue
        used[i] = True
        got = {k: s}
        d = np.linalg.norm(pos - p, axis=1)
        for j in np.argsort(d):
            if d[j] > radius: break
            if used[j] or allp[j][0] in got: continue
            got[allp[j][0]] = allp[j][2]; used[j] = True
        out.append((p, sum(got.values()) / n, c))
    return out
def write(path, ps, t):
    with open(path, "w") as f:
        f.write("class,x,y,z,score,tomogram\n")
        for p, s, c in ps:
            if s >= t: f.write(f"{c},{p[0]:.3f},{p[1]:.3f},{p[2]:.3f},{s:.6f},reconstruction\n")
def f1(d, path, out):
    r = subprocess.run([B, "-q", "evaluate", "--picks", path, "--truth", f"{d}/particle_locations.txt", "--occupancy", f"{d}/occupancy_mask.mrc",
                        "--classes", f"{d}/classes.toml", "--beta", "1", "-o", out], check=True, capture_output=True, text=True).stdout
    line = [l for l in r.splitlines() if "class-agnostic" in l][0]
    return float(line.split("|")[9])
suite = sys.argv[1]; names = sys.argv[2:]
TH = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
res = {}
for nm in names:
    d = f"{suite}/{nm}"; out = f"{OUT}/{nm}"
    allp = run(d, out)
    base = [(p, s, c) for k, p, s, c in allp if k == 0]
    fused = fuse(allp, len(FLIPS))
    row = {}
    for name, ps in (("base", base), ("tta", fused)):
        row[name] = [f1(d, (write(f"{out}/{name}.csv", ps, t) or f"{out}/{name}.csv"), f"{out}/ev") for t in TH]
    res[nm] = row
    print(nm, "base", " ".join(f"{v:.3f}" for v in row["base"]), "| tta", " ".join(f"{v:.3f}" for v in row["tta"]), flush=True)
json.dump(res, open(f"{OUT}/result.json", "w"))
for name in ("base", "tta"):
    m = np.mean([res[n][name] for n in names], axis=0)
    print(name, "mean F1 per threshold", " ".join(f"{t}:{v:.3f}" for t, v in zip(TH, m)), "best", f"{m.max():.3f}",
          "oracle per tomogram", f"{np.mean([max(res[n][name]) for n in names]):.3f}")
