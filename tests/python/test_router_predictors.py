"""Per-prompt quality predictors (trainers/router_predictors.py) on the synthetic many-model matrices
of trainers/router_synthetic.py: what they learn, how they are chosen, and the router file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from trainers import router_predictors as rp
from trainers.router_synthetic import generate


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    matrix = generate("routerbench", 1500, seed=3)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(matrix["scores"]))
    split = {"fit": order[:800].tolist(), "validation": order[800:1000].tolist(), "test": order[1000:].tolist()}
    work = tmp_path_factory.mktemp("router-fit")
    (work / "input.json").write_text(json.dumps({"models": matrix["models"], "dim": int(matrix["vectors"].shape[1]), **split, "clusters": 8, "seed": 0, "embedding_model": "synthetic"}))
    (work / "vectors.f32").write_bytes(matrix["vectors"].astype("<f4").tobytes())
    (work / "scores.f32").write_bytes(matrix["scores"].astype("<f4").tobytes())
    summary = rp.run_fit(work)
    return matrix, split, work, {s["family"]: s for s in summary}


def test_every_family_writes_predictions_for_its_split_and_a_router_file(fitted):
    matrix, split, work, summary = fitted
    m = len(matrix["models"])
    assert list(summary) == ["clusters", "knn", "mlp", "mf", "blend"]
    for family in summary:
        validation = np.fromfile(work / f"{family}.validation.f32", dtype="<f4")
        test = np.fromfile(work / f"{family}.test.f32", dtype="<f4")
        assert validation.shape == (len(split["validation"]) * m,) and test.shape == (len(split["test"]) * m,)
        assert 0 <= test.min() and test.max() <= 1


def test_per_prompt_predictors_beat_the_cluster_means_they_fall_back_to(fitted):
    # The synthetic difficulty is partly readable from the embedding: per-prompt predictors see it, clusters cannot.
    matrix, split, work, summary = fitted
    test_scores = matrix["scores"][split["test"]]
    m = len(matrix["models"])
    brier = {f: rp.brier(np.fromfile(work / f"{f}.test.f32", dtype="<f4").reshape(-1, m), test_scores) for f in summary}
    for family in ("knn", "mlp", "mf", "blend"):
        assert brier[family] < brier["clusters"] - 0.005, brier


def test_knn_neighbours_and_weighting_are_chosen_on_validation(fitted):
    matrix, split, _work, summary = fitted
    config = summary["knn"]["config"]
    fit, validation = split["fit"], split["validation"]
    losses = {
        (k, w): rp.brier(rp.predict(rp.fit_knn(matrix["vectors"][fit], matrix["scores"][fit], k, w), matrix["vectors"][validation]), matrix["scores"][validation])
        for k in rp.KNN_NEIGHBOURS
        for w in rp.KNN_WEIGHTS
    }
    assert (config["k"], config["weights"]) == min(losses, key=losses.get)
    assert summary["knn"]["validation_brier"] == pytest.approx(losses[(config["k"], config["weights"])])


def test_router_files_reload_to_the_same_predictions_and_cannot_run_code(fitted, tmp_path):
    matrix, split, work, summary = fitted
    m = len(matrix["models"])
    for family in summary:
        router, models, embedding_model = rp.load_router((work / f"{family}.npz").read_bytes())
        assert models == matrix["models"] and embedding_model == "synthetic"
        expected = np.fromfile(work / f"{family}.test.f32", dtype="<f4").reshape(-1, m)
        np.testing.assert_allclose(rp.predict(router, matrix["vectors"][split["test"]]), expected, atol=1e-5)
    np.savez(tmp_path / "other.npz", meta=np.frombuffer(json.dumps({"format": "something else"}).encode(), dtype=np.uint8))
    with pytest.raises(Exception, match="not a router file"):
        rp.load_router(tmp_path / "other.npz")
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        rp.load_router(tmp_path / "pickled.npy")


def test_embedding_server_returns_predicted_quality_with_the_embedding(fitted, tmp_path, monkeypatch):
    """One call per routed request: the vector and each model's predicted score, by router artifact."""
    import threading
    import urllib.error
    import urllib.request
    from http.server import ThreadingHTTPServer

    from trainers import embedding
    from trainers.artifacts import artifact_store_from_env

    matrix, split, work, _summary = fitted
    monkeypatch.setenv("LLMLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LLMLOOP_ARTIFACTS", raising=False)
    ref = artifact_store_from_env().put((work / "knn.npz").read_bytes(), "application/vnd.llmloop.router+npz")
    prompts = {"first": matrix["vectors"][split["test"][0]], "second": matrix["vectors"][split["test"][1]]}
    monkeypatch.setattr(embedding, "embed_texts", lambda texts, name: (np.stack([prompts[t] for t in texts]), "synthetic"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), embedding._handler(None, None))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/embeddings"

    def post(body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    try:
        status, body = post({"input": ["first", "second"], "llmloop_router": ref["sha256"]})
        assert status == 200 and body["router_models"] == matrix["models"]
        expected = np.fromfile(work / "knn.test.f32", dtype="<f4").reshape(-1, len(matrix["models"]))[:2]
        np.testing.assert_allclose([row["quality"] for row in body["data"]], expected, atol=1e-5)
        status, body = post({"input": "first"})
        assert status == 200 and "quality" not in body["data"][0] and "router_models" not in body
        status, body = post({"input": "first", "llmloop_router": "0" * 64})
        assert status == 422 and body["error"]["param"] == "llmloop_router"
        assert post({"input": "first", "llmloop_router": 7})[0] == 400
    finally:
        server.shutdown()
        server.server_close()
