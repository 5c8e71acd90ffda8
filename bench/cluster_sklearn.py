"""Baseline for bench/cluster.ts: scikit-learn KMeans on the same raw float32 vectors, same k and restarts.

  python bench/cluster_sklearn.py VECTORS.f32 N DIM K RESTARTS SEED  ->  {"seconds": s, "inertia": x}
"""
import json
import sys
import time

import numpy as np
from sklearn.cluster import KMeans


def main() -> None:
    path, n, dim, k, restarts, seed = sys.argv[1], *map(int, sys.argv[2:7])
    vectors = np.fromfile(path, dtype="<f4").reshape(n, dim)
    started = time.perf_counter()
    model = KMeans(n_clusters=k, init="k-means++", n_init=restarts, max_iter=100, random_state=seed).fit(vectors)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "inertia": float(model.inertia_), "iterations": int(model.n_iter_)}))


if __name__ == "__main__":
    main()
