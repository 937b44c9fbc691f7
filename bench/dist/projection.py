#!/usr/bin/env python3
"""Projects the time of one partitioned GCN round at 8-256 GPUs (docs/distributed.md).

usage: python3 bench/dist/projection.py bench/dist/cuts/*.md

Inputs: the edge-cut tables of `mpe-dist-bench cut` (shuffled R-MAT, average degree 16) and the
constants below. For each partition method and part count P, the largest halo of one part as a
fraction of all nodes, h = max_halo / N, is taken at the largest measured size and held constant
at the projected sizes (extrapolation method: constant fraction). The measured trend is printed
beside it: from 1M to 16M entries h fell for contiguous ranges, so holding it constant
overestimates the halo of larger graphs; a log-linear fit was tried and rejected (two or three
points, it drives h to 0 or past 1 within the projected range).
One round on each GPU: compute = (E/P) * AGG_S_PER_ENTRY + (N/P) * 2 F^2 / GEMM_FLOPS;
halo = PEERS * LATENCY + h * N * F * 4 bytes / link bandwidth (received; sends overlap on
full-duplex links). The round takes compute + halo (no overlap assumed; an upper bound).
"""
import math
import re
import sys
from collections import defaultdict

F = 128  # features in and out (the H100 aggregation rate below was measured at F = 128)
# bench/NOTES.md, "csr_aggregate: long rows get a block": R-MAT, 1M nodes, 16M entries, F=128,
# sum, H100: 7.15 ms -> 0.447 ns per entry (all 128 features).
AGG_S_PER_ENTRY = 7.15e-3 / 16e6
GEMM_FLOPS = 50e12  # fp32 dense product, assumed 75% of the H100's 67 TFLOP/s (not measured)
LINKS = {  # bytes/s per GPU, latency per message (s)
    "NVLink 900 GB/s": (900e9, 2e-6),
    "IB 50 GB/s": (50e9, 5e-6),
}
SIZES = [10e6, 100e6, 1e9]  # edges (entries)
PARTS = [8, 32, 128, 256]
DEGREE = 16


def read_cuts(paths):
    rows = []
    for path in paths:
        for line in open(path):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 10 or not re.fullmatch(r"\d+", cells[0]):
                continue
            rows.append(dict(nodes=int(cells[0]), entries=int(cells[1]), parts=int(cells[2]),
                             method=cells[3], cut=float(cells[5]), max_halo=int(cells[7])))
    return rows


def main():
    rows = read_cuts(sys.argv[1:])
    if not rows:
        sys.exit("no cut rows found (give mpe-dist-bench cut tables)")
    series = defaultdict(list)
    for r in rows:
        series[(r["method"], r["parts"])].append((math.log2(r["entries"]), r["max_halo"] / r["nodes"]))
    sizes = sorted({r["entries"] for r in rows})
    print("Largest halo of one part as a fraction of the nodes, h = max_halo / N, at",
          ", ".join(f"{e / 1e6:.0f}M" for e in sizes), "entries; the last is used\n")
    print("| method | P | h by size | h used |")
    print("|---|---:|---|---:|")
    fits = {}
    for (method, p), pts in sorted(series.items()):
        pts = sorted(pts)
        fits[(method, p)] = pts[-1][1]
        print(f"| {method} | {p} | {' → '.join(f'{h:.3f}' for _, h in pts)} | {pts[-1][1]:.3f} |")
    print()
    print(f"One GCN round (F = {F}, average degree {DEGREE}), per GPU, milliseconds: compute, "
          "halo, and halo / compute\n")
    print("| edges | P | method | compute ms | " +
          " | ".join(f"{name}: halo ms | ratio" for name in LINKS) + " |")
    print("|---:|---:|---|---:|" + "---:|---:|" * len(LINKS))
    for e in SIZES:
        n = e / DEGREE
        for p in PARTS:
            for method in ("metis", "contiguous"):
                if (method, p) not in fits:
                    continue
                h = fits[(method, p)]
                compute = (e / p) * AGG_S_PER_ENTRY + (n / p) * 2 * F * F / GEMM_FLOPS
                cells = []
                for bw, lat in LINKS.values():
                    halo = (p - 1) * lat + h * n * F * 4 / bw
                    cells.append(f"{1e3 * halo:.3f} | {halo / compute:.2f}")
                print(f"| {e:.0e} | {p} | {method} | {1e3 * compute:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
