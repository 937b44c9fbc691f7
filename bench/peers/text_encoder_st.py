#!/usr/bin/env python3
"""Sentences per second of mpengine's BERT encoder (`mpe embed`) and of sentence-transformers on
PyTorch (CPU), side by side in one run, same threads, both pinned to the same cores by the
caller (taskset), alternating runs; prints a Markdown table of medians and the ratio.

    OMP_NUM_THREADS=1 taskset -c 1 python3 bench/peers/text_encoder_st.py build-cpu/tools/mpe \\
        /usr/local/share/mpengine/all-MiniLM-L6-v2 --threads 1 --repeats 5

Sentences: short ones from tests/data/text/sentences.json (4-13 words), the same list on both
sides. Batch 1 runs 32 sentences one at a time; batches 32 and 256 run one batch of that many.
mpengine's time is its own `encode_ms` (tokenize + forward + pooling; the model loaded once per
process and not counted), the peer's is model.encode() around the same list (the model loaded
before timing). The peer is optional: without sentence-transformers only mpengine is timed.
Both sides also agree: the cosine of their embeddings is printed (min over the sentences).
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def sentences(n):
    s = json.load(open(os.path.join(HERE, "../../tests/data/text/sentences.json")))
    short = [x.replace("\n", " ") for x in s if 3 < len(x.split()) < 14 and len(x) < 90]
    rng = random.Random(1)
    return [rng.choice(short) for _ in range(n)]


def ours(mpe, model, texts, batch):
    out = subprocess.run([mpe, "embed", "--model", model, "--batch", str(batch)],
                         input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    d = json.loads(out.stdout)
    return d["encode_ms"] / 1000.0, np.array([e["embedding"] for e in d["embeddings"]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mpe")
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    try:
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(a.threads)
        st = SentenceTransformer(a.model, device="cpu")
    except ImportError:
        st = None
    print("| batch | sentences | mpengine sent/s | sentence-transformers sent/s | ratio | min cosine |")
    print("|---:|---:|---:|---:|---:|---:|")
    for batch, n in ((1, 32), (32, 32), (256, 256)):
        texts = sentences(n)
        t_ours, t_st, cos = [], [], float("nan")
        for _ in range(a.repeats):
            t, e = ours(a.mpe, a.model, texts, batch)
            t_ours.append(t)
            if st is not None:
                t0 = time.perf_counter()
                ref = st.encode(texts, batch_size=batch, normalize_embeddings=True)
                t_st.append(time.perf_counter() - t0)
                cos = float(np.min(np.sum(e * ref, axis=1)))
        so = n / statistics.median(t_ours)
        sp = n / statistics.median(t_st) if t_st else float("nan")
        print(f"| {batch} | {n} | {so:.1f} | {sp:.1f} | {so / sp:.2f} | {cos:.6f} |")


if __name__ == "__main__":
    main()
