"""Self-training on each tomogram (issue 19): does fine-tuning the detector on its own confident
picks of a foreign tomogram make it see more of that tomogram's particles?

Per tomogram: pick it with the shipped defaults (or `--labels-from RUN`, a suite run's picks),
fine-tune the detector from the shipped model with those picks as the tomogram's labels
(`tomopick train detector` with `[[user_data]]`: FRACTION of the cubes cut from the tomogram, the
rest simulated with stage 10's recipe), repeat ROUNDS times (each round's labels are the last
round's picks at the round's threshold), then pick at threshold 0.02 with the adapted model and
score a ladder of common thresholds (SHREC rule), as scale_ladder.py does.

    python self_train.py SUITE_DIR [--tomos val00 ...] [--steps 200] [--fraction 0.5]
        [--rounds 1] [--round-threshold 0.5] [--tag NAME] [--extra-toml 'key = value']

Uses the suite's venv; TOMOPICK_BIN names the binary. Everything goes under each tomogram's
folder (`self_<tag>/`); a round already trained is not trained again.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from scale_ladder import B, LADDER, report, score_ladder  # noqa: E402
from score_picks import validation_tomograms  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RECIPE = os.path.join(ROOT, "configs", "detector_shrec10a_stage10_recon.toml")


def config(tomo, picks, steps, fraction, init, extra):
    """Stage 10's recipe as a fine-tune of `init` on `tomo` with `picks` as its labels."""
    out = []
    for line in open(RECIPE):
        if line.startswith("[validation]"):
            break
        key = line.split("=")[0].strip()
        if key == "steps":
            line = f"steps = {steps}\n"
        elif key == "lr_decay_steps":
            line = "lr_decay_steps = []\n"
        elif key == "validate_every":
            line = "validate_every = 0\n"
        elif key == "checkpoint_every":
            line = f"checkpoint_every = {steps}\n"
        elif key == "init_model":
            line = f'init_model = "{init}"\n'
        elif key == "preset":
            line += f"user_fraction = {fraction}\n" + "".join(e + "\n" for e in extra)
        out.append(line)
    out.append(f'[[user_data]]\ntomogram = "{tomo}"\npicks = "{picks}"\n')
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite")
    ap.add_argument("--tomos", nargs="*", default=None)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--fraction", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--round-threshold", type=float, default=0.5)
    ap.add_argument("--labels-from", default="defaults")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--extra-toml", action="append", default=[])
    a = ap.parse_args()
    tag = a.tag or f"s{a.steps}_f{a.fraction}_r{a.rounds}"
    tomos = a.tomos or validation_tomograms(a.suite)
    init = os.path.join(ROOT, "models", "detector_shrec10a_fast.bpk")  # `efficient`, as the recipe
    res = {}
    for t in tomos:
        d = f"{a.suite}/{t}"
        o = f"{d}/self_{tag}"
        os.makedirs(o, exist_ok=True)
        labels = f"{d}/{a.labels_from}/picks.csv"
        model = init
        for r in range(a.rounds):
            run = f"{o}/round{r}"
            if not os.path.exists(f"{run}/model.bpk"):
                cfg = f"{o}/round{r}.toml"
                open(cfg, "w").write(config(f"{d}/reconstruction.mrc", labels, a.steps, a.fraction, init, a.extra_toml))
                subprocess.run([B, "-q", "train", "detector", "--config", cfg, "-o", run], check=True,
                               stdout=subprocess.DEVNULL)
            model = f"{run}/model.bpk"
            if r + 1 < a.rounds:
                labels = f"{o}/labels{r + 1}.csv"
                if not os.path.exists(labels):
                    subprocess.run([B, "-q", "pick", f"{d}/reconstruction.mrc", "--model", model, "--threshold",
                                    str(a.round_threshold), "-o", labels], check=True, stdout=subprocess.DEVNULL)
        raw = f"{o}/raw.csv"
        if not os.path.exists(raw):
            subprocess.run([B, "-q", "pick", f"{d}/reconstruction.mrc", "--model", model, "--threshold", "0.02",
                            "-o", raw], check=True, stdout=subprocess.DEVNULL)
        res[t], _ = score_ladder(d, raw, o)
        print(f"{t}: " + " ".join(f"{th}:{f:.3f}" for th, (f, _) in zip(LADDER, res[t])), flush=True)
    report(f"self-trained {tag}", res, tomos)


if __name__ == "__main__":
    main()
