#!/usr/bin/env python3
"""mpe bp against libDAI's BP on the same .fg files: beliefs, log Z and messages/s, side by side.

  python3 bench/peers/bp_compare.py MPE LIBDAI_BP FILE.fg... [--schedule flooding|sequential]
      [--tol 1e-10] [--max-iter 10000] [--damping 0] [--method sum|max] [--precision f64|f32]
      [--reps 5] [--cpu 1]

MPE is build-cpu/tools/mpe; LIBDAI_BP is bench/peers/libdai_bp.cpp built against libDAI (see
its header and bench/NOTES.md). Both run on one OpenMP thread, pinned to the same core (--cpu,
taskset), alternating libDAI and mpe run by run, --reps times per file; the table gives the
medians and the ratio of the median rates.

What each side's seconds count: libDAI's BP::run() alone (reading the file, building the
graph and BP::init() are outside its clock). mpe's whole bp::run_batch call as `mpe bp --json`
reports it: input checks, building the structure and the probability tables, every sweep with
its convergence test, then beliefs and the Bethe log Z (only reading the file is outside).
So mpe's setup falls on mpe's side. Messages/s = edges x sweeps / seconds (factor-to-variable
updates; each sweep updates every edge once on both sides).
"""
import argparse
import json
import os
import statistics
import subprocess


def run_json(cmd, cpu):
    out = subprocess.run(["taskset", "-c", str(cpu)] + cmd, check=True, capture_output=True,
                         text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mpe")
    ap.add_argument("libdai")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--schedule", default="flooding")
    ap.add_argument("--method", default="sum")
    ap.add_argument("--precision", default="f64")
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--max-iter", type=int, default=10000)
    ap.add_argument("--damping", type=float, default=0.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=1)
    a = ap.parse_args()
    updates = {"flooding": "PARALL", "sequential": "SEQFIX"}[a.schedule]
    inference = {"sum": "SUMPROD", "max": "MAXPROD"}[a.method]
    print(f"schedule {a.schedule}, method {a.method}, damping {a.damping}, tol {a.tol}, "
          f"mpe {a.precision}; {a.reps} alternated runs each, pinned to CPU {a.cpu}; medians")
    print("| file | edges | sweeps libDAI / mpe | max belief diff | log Z diff "
          "| libDAI s (BP::run) | mpe s (whole run) | libDAI msg/s | mpe msg/s | mpe / libDAI |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in a.files:
        dai_runs, me_runs = [], []
        for _ in range(a.reps):
            dai_runs.append(run_json([a.libdai, f, updates, inference, str(a.tol),
                                      str(a.max_iter), str(a.damping)], a.cpu))
            me_runs.append(run_json([a.mpe, "bp", f, "--json", "--device", "cpu", "--schedule",
                                     a.schedule, "--method", a.method, "--tol", str(a.tol),
                                     "--max-iter", str(a.max_iter), "--damping", str(a.damping),
                                     "--precision", a.precision], a.cpu))
        dai, me = dai_runs[0], me_runs[0]
        dai_s = statistics.median(r["seconds"] for r in dai_runs)
        me_s = statistics.median(r["seconds"] for r in me_runs)
        res = me["results"][0]
        by_label = {int(l): b for l, b in zip(me["labels"], res["beliefs"])}
        diff = 0.0
        for l, b in zip(dai["labels"], dai["beliefs"]):
            diff = max(diff, max(abs(x - y) for x, y in zip(b, by_label[l])))
        dz = abs(res["log_z"] - dai["log_z"]) if a.method == "sum" else float("nan")
        edges = me["graph"]["edges"]
        dai_rate = edges * dai["iterations"] / dai_s
        me_rate = edges * res["iterations"] / me_s
        print(f"| {os.path.basename(f)} | {edges} | {dai['iterations']} / {res['iterations']} "
              f"| {diff:.2e} | {dz:.2e} | {dai_s:.4f} | {me_s:.4f} "
              f"| {dai_rate:.3g} | {me_rate:.3g} | {me_rate / dai_rate:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
