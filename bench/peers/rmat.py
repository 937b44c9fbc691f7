"""The R-MAT edge generator of the peer scripts, the same as mpe-bench's --graph rmat: quadrant
probabilities 0.57 / 0.19 / 0.19 / 0.05 over ceil(log2 n) levels, ids folded modulo n.
Imported by relevance_scipy.py, spmm_torch.py and ppr_igraph.py (run from any directory: the
script's own folder is on Python's path)."""
import numpy as np


def rmat_pairs(n, degree, rng):
    """n·degree (src, dst) int64 pairs drawn from `rng` (numpy Generator); duplicates kept."""
    m = n * degree
    scale = max(1, int(np.ceil(np.log2(n))))
    src = np.zeros(m, dtype=np.int64)
    dst = np.zeros(m, dtype=np.int64)
    for _ in range(scale):
        p = rng.random(m)
        q = np.where(p < 0.57, 0, np.where(p < 0.76, 1, np.where(p < 0.95, 2, 3)))
        src = (src << 1) | (q >> 1)
        dst = (dst << 1) | (q & 1)
    return src % n, dst % n
