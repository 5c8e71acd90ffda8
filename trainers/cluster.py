"""The `cluster_vectors` activity: k-means for task sets too large for ml-kmeans in Node.

ml-kmeans takes 5x scikit-learn's time at 100k x 384 (docs/evaluation.md, Benchmark), so evaluateFleet
sends big sets here. k is chosen exactly as core/cluster/choose-k.ts chooses it (cosine silhouette on an
evenly spaced sample of at most 2000 points, ties to the smaller k, one cluster when no k scores above 0),
so the Node activity that labels and stores the clusters gets the same contract from either path.
"""
from __future__ import annotations

import numpy as np
from temporalio import activity

from .artifacts import artifact_store_from_env
from .errors import typed_failure
from .schemas import validate

SILHOUETTE_SAMPLE = 2000
MAX_ITERATIONS = 100


def evenly_spaced_indices(n: int, at_most: int) -> np.ndarray:
    if n <= at_most:
        return np.arange(n)
    return (np.arange(at_most) * n) // at_most


def _kmeans(vectors: np.ndarray, k: int, seed: int, restarts: int):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, init="k-means++", n_init=restarts, max_iter=MAX_ITERATIONS, random_state=seed).fit(vectors)


def _sample_silhouette(vectors: np.ndarray, assignments: np.ndarray, sample: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    labels = assignments[sample]
    if not 2 <= len(np.unique(labels)) < len(sample):
        return -1.0
    return float(silhouette_score(vectors[sample], labels, metric="cosine"))


def _result(model, k: int, silhouette: float | None, k_scores: list[dict]) -> dict:
    return {"k": k, "assignments": model.labels_.astype(int), "centroids": model.cluster_centers_, "inertia": float(model.inertia_), "silhouette": silhouette, "k_scores": k_scores}


def choose_k(vectors: np.ndarray, k_min: int, k_max: int, seed: int, restarts: int, on_k=lambda k: None) -> dict:
    """KMeans for every k in [k_min, min(k_max, n - 1)]; the k with the highest cosine silhouette wins."""
    n = len(vectors)
    if n == 0:
        raise typed_failure("InvalidRequest", "no vectors to cluster")
    if k_min < 1 or k_max < k_min:
        raise typed_failure("InvalidRequest", f"invalid k range [{k_min}, {k_max}]")
    k_max = min(k_max, n - 1)
    if k_max < 2:
        return _result(_kmeans(vectors, 1, seed, restarts), 1, None, [])
    sample = evenly_spaced_indices(n, SILHOUETTE_SAMPLE)
    best, best_silhouette, k_scores = None, -np.inf, []
    for k in range(max(k_min, 2), k_max + 1):
        on_k(k)
        model = _kmeans(vectors, k, seed, restarts)
        silhouette = _sample_silhouette(vectors, model.labels_, sample)
        k_scores.append({"k": k, "silhouette": silhouette})
        if silhouette > best_silhouette:
            best, best_silhouette = (model, k), silhouette
    # No k separates the tasks better than chance (e.g. every prompt is the same): one cluster.
    if best_silhouette <= 0:
        return _result(_kmeans(vectors, 1, seed, restarts), 1, None, k_scores)
    return _result(best[0], best[1], best_silhouette, k_scores)


def read_vectors(data: bytes, n: int, dim: int) -> np.ndarray:
    if len(data) != n * dim * 4:
        raise typed_failure("InvalidRequest", f"expected {n} x {dim} float32 ({n * dim * 4} bytes), got {len(data)} bytes")
    return np.frombuffer(data, dtype="<f4").reshape(n, dim)


@activity.defn
def cluster_vectors(request: dict) -> dict:
    """Clusters the embedding artifact's vectors; assignments are stored as a JSON array artifact."""
    validate("ClusterVectorsRequest", request)
    embeddings, options = request["embeddings"], request["options"]
    store = artifact_store_from_env()
    vectors = read_vectors(store.get(embeddings["vectors"]), embeddings["n"], embeddings["dim"])
    chosen = choose_k(
        vectors,
        options.get("k_min", 2),
        options.get("k_max", 8),
        options.get("seed", 42),
        options.get("restarts", 5),
        on_k=lambda k: activity.heartbeat({"k": k}),
    )
    return validate("ClusterVectorsResult", {
        "k": chosen["k"],
        "assignments": store.put_json(chosen["assignments"].tolist()),
        "centroids": chosen["centroids"].astype(float).tolist(),
        "inertia": chosen["inertia"],
        "silhouette": chosen["silhouette"],
        "k_scores": chosen["k_scores"],
    })
