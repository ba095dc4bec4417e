"""A detector training config on the suite's own kind of tomograms with their true labels: the
in-domain bound of issue 19 (BENCHMARKS.md, "An ideal observer on the suite"). Never a model to
ship and never a choice: the suite is only independent of us while we do not train on it.

Stage 10's recipe (configs/detector_shrec10a_stage10_recon.toml) with every cube cut from the
"oracle" part's tomograms (`make_suite.py --out DIR --part oracle`, seeds 3000+), their
particle_locations.txt as labels; its validation tomogram dropped.

    python oracle_config.py ORACLE_DIR [--lr 1e-4] [--steps 800] [--decay STEP ...]
        [--architecture efficient] [--scratch] [--seed 31] [--tomos ora00 ...] > oracle.toml
    tomopick train detector --config oracle.toml -o runs/oracle

Standard library only (Python 3.11+ for tomllib).
"""
import argparse
import os
import sys
import tomllib

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RECIPE = os.path.join(ROOT, "configs", "detector_shrec10a_stage10_recon.toml")


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("oracle_dir")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--decay", type=int, nargs="*", default=[], help="steps at which the learning rate drops tenfold")
    ap.add_argument("--architecture", default="efficient")
    ap.add_argument("--scratch", action="store_true", help="from random weights, not the shipped model")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--tomos", nargs="*", default=None, help="only these oracle tomograms (an ablation)")
    a = ap.parse_args()
    with open(RECIPE, "rb") as f:
        cfg = tomllib.load(f)
    cfg.pop("validation", None)
    cfg.pop("init_model", None)
    if not a.scratch:
        # The shipped model of that network: the default is `efficient_wide`, `--model fast`'s
        # file `efficient`.
        shipped = {"efficient": "detector_shrec10a_fast.bpk", "efficient_wide": "detector_shrec10a.bpk"}
        if a.architecture not in shipped:
            sys.exit(f"no shipped {a.architecture} model to fine-tune: use --scratch")
        cfg["init_model"] = os.path.join(ROOT, "models", shipped[a.architecture])
    cfg.update(architecture=a.architecture, learning_rate=a.lr, steps=a.steps, lr_decay_steps=a.decay,
               seed=a.seed, validate_every=0, user_fraction=1.0)
    tables = {k: v for k, v in cfg.items() if isinstance(v, dict) and k in ("appearance", "tilt_series")}
    print("# Made by scripts/foreign_suite/oracle_config.py: an in-domain bound, never shipped")
    for k, v in cfg.items():
        if k not in tables:
            print(f"{k} = {toml_value(v)}")
    for k, v in tables.items():
        print(f"[{k}]")
        for kk, vv in v.items():
            print(f"{kk} = {toml_value(vv)}")
    names = sorted(n for n in os.listdir(a.oracle_dir) if n.startswith("ora") and
                   os.path.exists(os.path.join(a.oracle_dir, n, "params.json")))
    if a.tomos:
        missing = sorted(set(a.tomos) - set(names))
        if missing:
            raise SystemExit(f"{a.oracle_dir}: no finished oracle tomograms {missing}")
        names = [n for n in names if n in a.tomos]
    if not names:
        raise SystemExit(f"{a.oracle_dir}: no finished oracle tomograms (make_suite.py --part oracle)")
    for n in names:
        d = os.path.abspath(os.path.join(a.oracle_dir, n))
        print(f'[[user_data]]\ntomogram = {toml_value(d + "/reconstruction.mrc")}\n'
              f'picks = {toml_value(d + "/particle_locations.txt")}')


if __name__ == "__main__":
    main()
