#!/usr/bin/env python3
"""mpe bp against libDAI's BP on the same .fg files: beliefs, log Z and messages/s.

  OMP_NUM_THREADS=1 python3 bench/peers/bp_compare.py MPE LIBDAI_BP FILE.fg... \
      [--schedule flooding|sequential] [--tol 1e-10] [--max-iter 10000] [--damping 0] \
      [--method sum|max] [--reps 3]

MPE is build/tools/mpe; LIBDAI_BP is bench/peers/libdai_bp.cpp built against libDAI (see
its header). Both run on one CPU thread. libDAI times BP::run() alone; mpe's time is the
whole run_batch call (setup, sweeps, beliefs, log Z). Messages/s = edges x sweeps / time
(factor-to-variable updates). The best of --reps runs is kept for each.
"""
import argparse
import json
import os
import subprocess


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mpe")
    ap.add_argument("libdai")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--schedule", default="flooding")
    ap.add_argument("--method", default="sum")
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--max-iter", type=int, default=10000)
    ap.add_argument("--damping", type=float, default=0.0)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    updates = {"flooding": "PARALL", "sequential": "SEQFIX"}[a.schedule]
    inference = {"sum": "SUMPROD", "max": "MAXPROD"}[a.method]
    print(f"| file | edges | libDAI sweeps | mpe sweeps | max belief diff | log Z diff "
          f"| libDAI s | mpe s | libDAI msg/s | mpe msg/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in a.files:
        dai = min((run_json([a.libdai, f, updates, inference, str(a.tol), str(a.max_iter),
                             str(a.damping)]) for _ in range(a.reps)),
                  key=lambda r: r["seconds"])
        me = min((run_json([a.mpe, "bp", f, "--json", "--device", "cpu", "--schedule",
                            a.schedule, "--method", a.method, "--tol", str(a.tol),
                            "--max-iter", str(a.max_iter), "--damping", str(a.damping)])
                  for _ in range(a.reps)), key=lambda r: r["seconds"])
        res = me["results"][0]
        by_label = {int(l): b for l, b in zip(me["labels"], res["beliefs"])}
        diff = 0.0
        for l, b in zip(dai["labels"], dai["beliefs"]):
            diff = max(diff, max(abs(x - y) for x, y in zip(b, by_label[l])))
        dz = abs(res["log_z"] - dai["log_z"]) if a.method == "sum" else float("nan")
        edges = me["graph"]["edges"]
        dai_rate = edges * dai["iterations"] / dai["seconds"]
        me_rate = edges * res["iterations"] / me["seconds"]
        print(f"| {os.path.basename(f)} | {edges} | {dai['iterations']} | {res['iterations']} "
              f"| {diff:.2e} | {dz:.2e} | {dai['seconds']:.4f} | {me['seconds']:.4f} "
              f"| {dai_rate:.3g} | {me_rate:.3g} | {me_rate / dai_rate:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
