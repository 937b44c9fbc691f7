#!/usr/bin/env python3
"""Paraphrase table for docs/relevance.md: messages that share no word with any node title of the
demo graph, and the nodes each embedder seeds (hashed n-grams vs all-MiniLM-L6-v2).

    python3 bench/relevance_paraphrases.py build-cpu/tools/mpe

Runs `mpe relevance demo MESSAGE --embedder E --json` with the default query parameters (seed
threshold 0.3 for the hashed embedder, 0.25 for MiniLM, top 10) and once more with --seed-threshold 0 --top-k 3 to show the nearest
three nodes and their cosines. Prints a Markdown table.
"""
import csv
import json
import os
import re
import subprocess
import sys

# (message, the node a person would expect among the seeds)
MESSAGES = [
    ("paint me a tranquil sunset", "img_gen_capability"),
    ("draw something peaceful", "img_gen_capability"),
    ("what's it going to be like outside on saturday", "weather_capability"),
    ("ping me ahead of my dentist appointment", "reminder_capability"),
    ("how much is 15 percent of 80", "math_capability"),
    ("put this paragraph into german", "translate_capability"),
    ("give me the gist of this article", "summarize_capability"),
    ("which headphones should i get", "shopping_capability"),
    ("find me a nice place for sushi near me", "maps_capability"),
    ("i wake up at 4am with a pounding headache", "no_medical_diagnosis"),
    ("should i put my savings into bitcoin", "financial_disclaimer"),
    ("read this story out loud for my kid", "audio_gen_capability"),
]
STOP = set("a an the of to and or is are it its in on at for with by from as that this i me my "
           "you your we our what which who how do does can could would should will not no so if "
           "about into some any all just very please there here when where while also".split())


def words(s):
    return {w for w in re.findall(r"[a-z0-9']+", s.lower()) if w not in STOP}


def demo(mpe, msg, embedder, extra):
    out = subprocess.run([mpe, "relevance", "demo", msg, "--embedder", embedder, "--json"] + extra,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    mpe = sys.argv[1] if len(sys.argv) > 1 else "build/tools/mpe"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "data/relevance/nodes.csv")) as f:
        titles = set()
        for row in csv.DictReader(f):
            titles |= words(row["title"])
    print("| message | expected | hashed: nearest 3 (cosine) | hashed: seeds at 0.3 | "
          "MiniLM: nearest 3 (cosine) | MiniLM: seeds at 0.25 |")
    print("|---|---|---|---|---|---|")
    for msg, _ in MESSAGES:
        shared = words(msg) & titles
        assert not shared, f"'{msg}' shares {shared} with the node titles"
    hits = {"hashed": 0, "minilm": 0}
    for msg, want in MESSAGES:
        cells = []
        for e in ("hashed", "minilm"):
            near = demo(mpe, msg, e, ["--seed-threshold", "0", "--top-k", "3"])["seeds"]
            seeds = demo(mpe, msg, e, [])["seeds"]
            hits[e] += any(s["id"] == want for s in near)
            fmt = lambda s: ("**%s**" if s["id"] == want else "%s") % s["id"] + " %.2f" % s["similarity"]
            cells.append(", ".join(fmt(s) for s in near))
            cells.append(", ".join(s["id"] for s in seeds) or "none")
        print(f"| {msg} | {want} | " + " | ".join(cells) + " |")
    n = len(MESSAGES)
    print(f"\nexpected node among the nearest 3: hashed {hits['hashed']}/{n}, "
          f"MiniLM {hits['minilm']}/{n}")


if __name__ == "__main__":
    main()
