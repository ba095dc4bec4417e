#!/usr/bin/env python3
"""One table from a foreign-suite run: per tomogram its imaging and the SHREC-rule scores
(class-agnostic F1, precision, recall; macro F1 = mean per-class F1 over the classes present),
then the means per SNR regime. Standard library only.

    summarize.py SUITE_DIR RUN_NAME [--prefix val|tes] [--json OUT.json]
"""
import json
import os
import sys

REGIMES = [("SNR >= 0.2", lambda s: s >= 0.2), ("SNR 0.1", lambda s: 0.07 < s < 0.2),
           ("SNR 0.05", lambda s: 0.04 <= s <= 0.07), ("SNR 0.03", lambda s: s < 0.04)]


def rows(suite, run, prefix=""):
    out = []
    for name in sorted(n for n in os.listdir(suite) if n.startswith(prefix)):
        rep = os.path.join(suite, name, run, "report.json")
        par = os.path.join(suite, name, "params.json")
        if not (os.path.exists(rep) and os.path.exists(par)):
            continue
        p = json.load(open(par))
        r = json.load(open(rep))["shrec"]
        o = r["overall"]
        per = {c: s["f1"] for c, s in r["per_class"].items() if s["n_truth"] > 0}
        out.append({
            "name": name, "snr": p["snr"], "tilt": f"±{p['tilt_max_deg']}/{p['tilt_step_deg']}",
            "defocus": p["defocus_um"], "noise": p["noise"], "density": p["density_model"],
            "filter": p["recon_filter"] + ("+flip" if p["phase_flip"] else ""),
            "ves": p["vesicles"], "gold": p["gold"], "n": o["n_truth"], "picks": o["n_picks"],
            "f1": o["f1"], "p": o["precision"], "r": o["recall"],
            "macro": sum(per.values()) / max(1, len(per)), "per_class": per,
        })
    return out


def main():
    suite, run = sys.argv[1], sys.argv[2]
    prefix = sys.argv[sys.argv.index("--prefix") + 1] if "--prefix" in sys.argv else ""
    rs = rows(suite, run, prefix)
    print("| tomogram | SNR | tilt | defocus µm | noise | density | WBP filter | ves | gold | particles | picks | F1 | P | R | macro F1 |")
    print("|---|---:|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rs:
        print(f"| {r['name']} | {r['snr']} | {r['tilt']} | {r['defocus']:.1f} | {r['noise']} | {r['density']} | "
              f"{r['filter']} | {r['ves']} | {r['gold']} | {r['n']} | {r['picks']} | {r['f1']:.3f} | {r['p']:.3f} | "
              f"{r['r']:.3f} | {r['macro']:.3f} |")
    print()
    print("| regime | tomograms | mean F1 | mean macro F1 |")
    print("|---|---:|---:|---:|")
    summary = {}
    for label, ok in REGIMES:
        sel = [r for r in rs if ok(r["snr"])]
        if sel:
            f1 = sum(r["f1"] for r in sel) / len(sel)
            mac = sum(r["macro"] for r in sel) / len(sel)
            summary[label] = {"n": len(sel), "f1": f1, "macro_f1": mac}
            print(f"| {label} | {len(sel)} | {f1:.3f} | {mac:.3f} |")
    if rs:
        f1 = sum(r["f1"] for r in rs) / len(rs)
        summary["all"] = {"n": len(rs), "f1": f1, "macro_f1": sum(r["macro"] for r in rs) / len(rs)}
        print(f"| all | {len(rs)} | {f1:.3f} | {summary['all']['macro_f1']:.3f} |")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump({"tomograms": rs, "regimes": summary}, f, indent=1)


if __name__ == "__main__":
    main()
