"""Python side of bench/cluster.ts on the same raw float32 vectors, same k and restarts:
scikit-learn KMeans alone (the baseline) and the Python worker's path, trainers.cluster.choose_k with
k_min = k_max = k (the KMeans the cluster_vectors activity runs plus its silhouette on the sample).

  python bench/cluster_sklearn.py VECTORS.f32 N DIM K RESTARTS SEED
    ->  {"seconds", "inertia", "iterations", "worker_seconds", "worker_inertia"}
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trainers.cluster import MAX_ITERATIONS, choose_k  # noqa: E402


def main() -> None:
    path, n, dim, k, restarts, seed = sys.argv[1], *map(int, sys.argv[2:7])
    vectors = np.fromfile(path, dtype="<f4").reshape(n, dim)
    started = time.perf_counter()
    model = KMeans(n_clusters=k, init="k-means++", n_init=restarts, max_iter=MAX_ITERATIONS, random_state=seed).fit(vectors)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    worker = choose_k(vectors, k, k, seed, restarts)
    worker_seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "inertia": float(model.inertia_), "iterations": int(model.n_iter_), "worker_seconds": worker_seconds, "worker_inertia": worker["inertia"]}))


if __name__ == "__main__":
    main()
