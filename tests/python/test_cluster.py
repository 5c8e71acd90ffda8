"""The cluster_vectors activity (scikit-learn KMeans, k by cosine silhouette) on seeded synthetic mixtures."""
from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from trainers.artifacts import artifact_store_from_env
from trainers.cluster import cluster_vectors
from trainers.schemas import schema_problems

ARI_FLOOR = 0.9  # as tests/unit/cluster/kmeans.test.ts


def gaussian_mixture(clusters: int, per_cluster: int, dim: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around `clusters` random unit centres, interleaved, with their true labels."""
    rng = np.random.default_rng(seed)
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    centres = unit(rng.standard_normal((clusters, dim)))
    labels = np.arange(clusters * per_cluster) % clusters
    return unit(centres[labels] + spread * rng.standard_normal((len(labels), dim))).astype("<f4"), labels


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    if not os.environ.get("LLMLOOP_DATA_DIR"):
        monkeypatch.setenv("LLMLOOP_DATA_DIR", str(tmp_path))


def run(vectors: np.ndarray, **options) -> dict:
    store = artifact_store_from_env()
    embeddings = {"vectors": store.put(vectors.tobytes(), "application/octet-stream"), "n": len(vectors), "dim": vectors.shape[1], "model_id": "synthetic"}
    return ActivityEnvironment().run(cluster_vectors, {"embeddings": embeddings, "options": options})


def test_recovers_a_known_mixture_and_its_k():
    vectors, labels = gaussian_mixture(clusters=4, per_cluster=60, dim=32, spread=0.15, seed=7)
    result = run(vectors, k_min=2, k_max=6, seed=42, restarts=3)
    assert schema_problems("ClusterVectorsResult", result) == []
    assignments = artifact_store_from_env().get_json(result["assignments"])
    assert result["k"] == 4 and len(assignments) == len(labels)
    assert adjusted_rand_score(labels, assignments) >= ARI_FLOOR
    assert [s["k"] for s in result["k_scores"]] == [2, 3, 4, 5, 6]
    assert result["silhouette"] == max(s["silhouette"] for s in result["k_scores"]) > 0
    assert np.array(result["centroids"]).shape == (4, 32)


def test_is_deterministic_by_seed():
    vectors, _ = gaussian_mixture(clusters=3, per_cluster=40, dim=16, spread=0.3, seed=1)
    assert run(vectors, k_min=2, k_max=4, seed=5, restarts=2) == run(vectors, k_min=2, k_max=4, seed=5, restarts=2)


def test_identical_vectors_form_one_cluster():
    result = run(np.full((10, 8), 1 / np.sqrt(8), dtype="<f4"), k_min=2, k_max=4)
    assert result["k"] == 1 and result["silhouette"] is None
    assert artifact_store_from_env().get_json(result["assignments"]) == [0] * 10


def test_vectors_that_do_not_match_their_shape_fail_typed():
    store = artifact_store_from_env()
    embeddings = {"vectors": store.put(b"\0" * 12, "application/octet-stream"), "n": 2, "dim": 4, "model_id": "synthetic"}
    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(cluster_vectors, {"embeddings": embeddings, "options": {}})
    assert failure.value.type == "InvalidRequest" and failure.value.non_retryable
