#!/usr/bin/env python3
"""PyTorch peer for `mpe-bench --op attention`: torch.nn.functional.
scaled_dot_product_attention (float32, or bfloat16 / float16 with --dtype) on the same shapes,
same FLOP count (4*B*H*N*N*D, half when causal), median of --reps timed calls after --warmup;
on the CPU by default, `--device cuda` on a GPU machine (timed with synchronisation; --backend
picks flash, cudnn, efficient or math through torch.nn.attention.sdpa_kernel, default: torch's
choice).

Usage: python3 bench/peers/attention_torch.py --seq 512,1024,2048 --head-dim 64,128 \
           [--batch 1] [--heads 8] [--causal 0,1] [--dtype f32,bf16,f16] [--threads N]
           [--reps 5] [--warmup 2] [--device cuda --backend flash] [--json]
Checks itself against a float64 softmax(QK^T/sqrt(D))V on a small case first.
Needs: pip install torch (CPU is enough).
"""
import argparse
import contextlib
import itertools
import json
import statistics
import time

import torch
import torch.nn.functional as F


def ints(s):
    return [int(x) for x in s.split(",")]


def self_check():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.rand(1, 2, 37, 16, generator=g) * 2 - 1 for _ in range(3))
    for causal in (False, True):
        got = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        s = (q.double() @ k.double().transpose(-1, -2)) / 16 ** 0.5
        if causal:
            s = s.masked_fill(torch.ones(37, 37, dtype=torch.bool).triu(1), float("-inf"))
        want = torch.softmax(s, -1) @ v.double()
        err = (got.double() - want).abs().max().item()
        assert err < 1e-5, f"self-check failed: max error {err}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="1")
    ap.add_argument("--heads", default="8")
    ap.add_argument("--seq", default="512,1024,2048")
    ap.add_argument("--head-dim", default="64,128")
    ap.add_argument("--causal", default="0")
    ap.add_argument("--dtype", default="f32", help="f32, bf16 and/or f16 (comma-separated)")
    ap.add_argument("--backend", default="", help="cuda: flash, cudnn, efficient or math")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="one JSON line per case (median_ms, ...)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    self_check()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    where = (torch.cuda.get_device_name(dev) if dev.type == "cuda" else
             f"cpu capability {torch.backends.cpu.get_cpu_capability()}")
    if not a.json:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {where}")
        print("| peer | shape | median | min | GFLOP/s |")
        print("|---|---|---:|---:|---:|")
    types = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}
    ctx = contextlib.nullcontext
    if a.backend:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        names = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                 "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}
        ctx = lambda: sdpa_kernel(names[a.backend])  # noqa: E731
    grid = itertools.product(ints(a.batch), ints(a.heads), ints(a.seq), ints(a.head_dim),
                             ints(a.causal), a.dtype.split(","))
    for b, h, n, d, c, dt in grid:
        g = torch.Generator().manual_seed(1)
        q, k, v = ((torch.rand(b, h, n, d, generator=g) * 2 - 1).to(dev, types[dt])
                   for _ in range(3))
        with torch.inference_mode(), ctx():
            for _ in range(a.warmup):
                F.scaled_dot_product_attention(q, k, v, is_causal=bool(c))
            sync()
            times = []
            for _ in range(a.reps):
                t0 = time.perf_counter()
                F.scaled_dot_product_attention(q, k, v, is_causal=bool(c))
                sync()
                times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        flops = 4.0 * b * h * n * n * d / (2 if c else 1)
        shape = f"B={b} H={h} N={n} D={d}{' causal' if c else ''} {dt}"
        if a.json:
            print(json.dumps({"shape": shape, "median_ms": med * 1e3, "min_ms": min(times) * 1e3,
                              "gflops": flops / med / 1e9, "threads": torch.get_num_threads()}))
            continue
        print(f"| torch sdpa {a.device}{' ' + a.backend if a.backend else ''} | {shape} | {med * 1e3:.3f} ms | {min(times) * 1e3:.3f} ms | "
              f"{flops / med / 1e9:.1f} |")


if __name__ == "__main__":
    main()
