"""Per-prompt quality predictors for the router: for a prompt embedding, the score each model is
expected to get on it. Node applies the selection rule (core/routing/select.ts) to these numbers,
so this module only predicts; it never chooses a model.

Families (all fitted on unit-length prompt embeddings and per-prompt scores in [0, 1]):
  clusters  k-means (scikit-learn) and each cluster's mean score per model: the per-cluster table
            the router had before, kept as the prior and the small-data fallback;
  knn       scikit-learn KNeighborsRegressor (k and distance weighting chosen on validation);
  mlp       a one-hidden-layer network with one sigmoid output per model (torch);
  mf        RouteLLM's matrix factorisation, pointwise: logit(m, q) = w . (v_m * W q) + b_m (torch);
  blend     the mean of knn, mlp and mf (their validation-chosen configurations).

Within a family the configuration is chosen by validation Brier score (mean squared error against the
scores) on a validation split carved from train; which family serves is decided by Node on validation
AIQ (core/routing/offline-eval.ts), from the validation predictions written here.

  python -m trainers.router_predictors fit --work DIR
    DIR/input.json     {"models": [...], "dim": D, "fit": [rows], "validation": [rows], "test": [rows],
                        "clusters": K, "seed": S}
    DIR/vectors.f32    N x D little-endian float32, DIR/scores.f32  N x M (row-major)
  writes, per family F: DIR/F.validation.f32 (fitted on `fit`, predicting `validation`),
  DIR/F.test.f32 and DIR/F.npz (refitted on fit + validation, predicting `test`), and
  DIR/families.json [{family, config, validation_brier}]. Progress goes to stderr.

A router file (`F.npz`) is self-describing: numpy arrays plus a JSON `meta` entry; it is loaded with
`allow_pickle=False`, so a router artifact cannot run code.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .errors import typed_failure

ROUTER_FORMAT = "llmloop-router-v1"
KNN_NEIGHBOURS = (5, 10, 20, 50, 100, 200, 400)
KNN_WEIGHTS = ("uniform", "distance")
# One configuration each for the torch heads: early stopping on validation is their regulariser, and
# every extra configuration costs a training run on a two-core machine.
MLP_HIDDEN = 128
MF_RANK = 32
WEIGHT_DECAY = 1e-4
LEARNING_RATE = 3e-3
MAX_EPOCHS = 40
PATIENCE = 4
BATCH_SIZE = 512


def _progress(message: str) -> None:
    print(f"[router] {message}", file=sys.stderr, flush=True)


def brier(predicted: np.ndarray, scores: np.ndarray) -> float:
    return float(np.mean((predicted - scores) ** 2))


# --- clusters -------------------------------------------------------------------------------------

def fit_clusters(vectors: np.ndarray, scores: np.ndarray, k: int, seed: int) -> dict:
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(vectors)))
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(vectors)
    means = np.tile(scores.mean(axis=0), (k, 1))
    for c in range(k):
        members = labels.labels_ == c
        if members.any():
            means[c] = scores[members].mean(axis=0)
    return {"kind": "clusters", "config": {"k": k}, "arrays": {"centroids": labels.cluster_centers_.astype(np.float32), "means": means.astype(np.float32)}}


def _predict_clusters(router: dict, vectors: np.ndarray) -> np.ndarray:
    from sklearn.metrics import pairwise_distances_argmin

    return router["arrays"]["means"][pairwise_distances_argmin(vectors, router["arrays"]["centroids"])]


# --- kNN ------------------------------------------------------------------------------------------

def fit_knn(vectors: np.ndarray, scores: np.ndarray, k: int, weights: str) -> dict:
    return {"kind": "knn", "config": {"k": min(k, len(vectors)), "weights": weights}, "arrays": {"vectors": vectors.astype(np.float32), "scores": scores.astype(np.float32)}}


def _knn_model(router: dict):
    from sklearn.neighbors import KNeighborsRegressor

    # Brute force over unit vectors: one matrix product, and Euclidean order is cosine order.
    model = KNeighborsRegressor(n_neighbors=router["config"]["k"], weights=router["config"]["weights"], algorithm="brute")
    return model.fit(router["arrays"]["vectors"], router["arrays"]["scores"])


def _predict_knn(router: dict, vectors: np.ndarray) -> np.ndarray:
    return _prepared(router, _knn_model).predict(vectors)


# --- torch heads (mlp, mf) ------------------------------------------------------------------------

def _torch_module(kind: str, config: dict, dim: int, n_models: int):
    import torch

    if kind == "mlp":
        return torch.nn.Sequential(torch.nn.Linear(dim, config["hidden"]), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(config["hidden"], n_models))

    class MatrixFactorisation(torch.nn.Module):
        """RouteLLM's MF scored per model: the projected prompt meets each model's embedding."""

        def __init__(self) -> None:
            super().__init__()
            self.project = torch.nn.Linear(dim, config["rank"], bias=False)
            self.models = torch.nn.Parameter(torch.randn(n_models, config["rank"]) * 0.1)
            self.weight = torch.nn.Linear(config["rank"], 1, bias=False)
            self.bias = torch.nn.Parameter(torch.zeros(n_models))

        def forward(self, x):
            interaction = self.project(x).unsqueeze(1) * self.models.unsqueeze(0)  # batch x models x rank
            return self.weight(interaction).squeeze(-1) + self.bias

    return MatrixFactorisation()


def _train_torch(kind: str, config: dict, vectors: np.ndarray, scores: np.ndarray, seed: int, epochs: int, monitor: tuple[np.ndarray, np.ndarray] | None) -> tuple[object, int]:
    """Adam on binary cross-entropy (scores in [0,1] are soft labels). With `monitor`, stops once its
    loss has not improved for PATIENCE epochs and returns the best epoch count with the best weights."""
    import torch

    torch.manual_seed(seed)
    module = _torch_module(kind, config, vectors.shape[1], scores.shape[1])
    optimiser = torch.optim.AdamW(module.parameters(), lr=LEARNING_RATE, weight_decay=config["weight_decay"])
    x, y = torch.from_numpy(vectors), torch.from_numpy(scores)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)
    best = (float("inf"), 0, None)
    for epoch in range(1, epochs + 1):
        module.train()
        for batch in torch.randperm(len(x), generator=generator).split(BATCH_SIZE):
            optimiser.zero_grad()
            loss_fn(module(x[batch]), y[batch]).backward()
            optimiser.step()
        if monitor is not None:
            loss = brier(_torch_predict(module, monitor[0]), monitor[1])
            if loss < best[0]:
                best = (loss, epoch, {k: v.clone() for k, v in module.state_dict().items()})
            elif epoch - best[1] >= PATIENCE:
                break
    if monitor is not None:
        module.load_state_dict(best[2])
        return module, best[1]
    return module, epochs


def _torch_predict(module, vectors: np.ndarray) -> np.ndarray:
    import torch

    module.eval()
    with torch.no_grad():
        return torch.sigmoid(module(torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32)))).numpy()


def _torch_router(kind: str, config: dict, module) -> dict:
    return {"kind": kind, "config": config, "arrays": {name: tensor.detach().numpy().astype(np.float32) for name, tensor in module.state_dict().items()}}


def _predict_torch(router: dict, vectors: np.ndarray) -> np.ndarray:
    return _torch_predict(_prepared(router, _torch_model), vectors)


def _prepared(router: dict, build):
    """The router's ready-to-call model, built once per loaded router: the embedding server predicts
    on every routed request, and rebuilding (kNN input checks over the whole index, torch modules)
    cost more than the prediction. Concurrent first calls may both build; either result is the same."""
    model = router.get("_prepared")
    if model is None:
        model = router["_prepared"] = build(router)
    return model


def _torch_model(router: dict):
    import torch

    arrays = router["arrays"]
    dim = (arrays["0.weight"] if router["kind"] == "mlp" else arrays["project.weight"]).shape[1]
    n_models = (arrays["3.bias"] if router["kind"] == "mlp" else arrays["bias"]).shape[0]
    module = _torch_module(router["kind"], router["config"], dim, n_models)
    module.load_state_dict({name: torch.from_numpy(array) for name, array in arrays.items()})
    return module.eval()


# --- routers: predict, save, load -----------------------------------------------------------------

def predict(router: dict, vectors: np.ndarray) -> np.ndarray:
    """N x M predicted scores in [0, 1] for N unit vectors."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kind = router["kind"]
    if kind == "clusters":
        predicted = _predict_clusters(router, vectors)
    elif kind == "knn":
        predicted = _predict_knn(router, vectors)
    elif kind in ("mlp", "mf"):
        predicted = _predict_torch(router, vectors)
    elif kind == "blend":
        predicted = np.mean([predict(part, vectors) for part in router["parts"]], axis=0)
    else:
        raise typed_failure("InvalidRequest", f"unknown router kind '{kind}'")
    return np.clip(predicted, 0.0, 1.0).astype(np.float32)


def _flatten(router: dict, prefix: str = "") -> tuple[dict, dict[str, np.ndarray]]:
    arrays = {f"{prefix}{name}": array for name, array in router.get("arrays", {}).items()}
    meta = {"kind": router["kind"], "config": router["config"]}
    if router["kind"] == "blend":
        meta["parts"] = []
        for i, part in enumerate(router["parts"]):
            part_meta, part_arrays = _flatten(part, f"{prefix}{i}/")
            meta["parts"].append(part_meta)
            arrays.update(part_arrays)
    return meta, arrays


def _unflatten(meta: dict, arrays: dict[str, np.ndarray], prefix: str = "") -> dict:
    router = {"kind": meta["kind"], "config": meta["config"]}
    if meta["kind"] == "blend":
        router["parts"] = [_unflatten(part, arrays, f"{prefix}{i}/") for i, part in enumerate(meta["parts"])]
    else:
        router["arrays"] = {name[len(prefix):]: array for name, array in arrays.items() if name.startswith(prefix) and "/" not in name[len(prefix):]}
    return router


def save_router(router: dict, path: Path, models: list[str], embedding_model: str | None = None) -> None:
    meta, arrays = _flatten(router)
    header = {"format": ROUTER_FORMAT, "models": models, "embedding_model": embedding_model, **meta}
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez(temporary, meta=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    temporary.replace(path)


def load_router(data: bytes | Path) -> tuple[dict, list[str], str | None]:
    """(router, model ids in prediction order, embedding model id) from a router file's bytes or path."""
    import io

    with np.load(io.BytesIO(data) if isinstance(data, bytes) else data, allow_pickle=False) as npz:
        header = json.loads(npz["meta"].tobytes().decode())
        if header.get("format") != ROUTER_FORMAT:
            raise typed_failure("InvalidRequest", f"not a router file (format {header.get('format')!r}, expected {ROUTER_FORMAT})")
        arrays = {name: npz[name] for name in npz.files if name != "meta"}
    return _unflatten(header, arrays), header["models"], header.get("embedding_model")


# --- fitting every family -------------------------------------------------------------------------

def _family_candidates(family: str, n_fit: int, clusters: int) -> list[dict]:
    if family == "clusters":
        return [{"k": clusters}]
    if family == "knn":
        ks = sorted({min(k, n_fit) for k in KNN_NEIGHBOURS})
        return [{"k": k, "weights": w} for k in ks for w in KNN_WEIGHTS]
    if family == "mlp":
        return [{"hidden": MLP_HIDDEN, "weight_decay": WEIGHT_DECAY}]
    return [{"rank": MF_RANK, "weight_decay": WEIGHT_DECAY}]


def fit_family(family: str, config: dict, vectors: np.ndarray, scores: np.ndarray, seed: int, monitor=None) -> tuple[dict, dict]:
    """(router, config actually used: torch families record the epochs early stopping chose)."""
    if family == "clusters":
        router = fit_clusters(vectors, scores, config["k"], seed)
        return router, router["config"]
    if family == "knn":
        router = fit_knn(vectors, scores, config["k"], config["weights"])
        return router, router["config"]
    module, epochs = _train_torch(family, config, vectors, scores, seed, config.get("epochs", MAX_EPOCHS), monitor)
    used = {**config, "epochs": epochs}
    return _torch_router(family, used, module), used


def fit_families(vectors: np.ndarray, scores: np.ndarray, split: dict, seed: int, clusters: int) -> list[dict]:
    """Per family: the validation-chosen config, its validation predictions (fitted on `fit`), and the
    router refitted on fit + validation with its test predictions."""
    fit, validation, test = (np.asarray(split[name], dtype=np.int64) for name in ("fit", "validation", "test"))
    train = np.concatenate([fit, validation])
    results = []
    for family in ("clusters", "knn", "mlp", "mf"):
        started = time.monotonic()
        best = None
        for config in _family_candidates(family, len(fit), clusters):
            router, used = fit_family(family, config, vectors[fit], scores[fit], seed, monitor=(vectors[validation], scores[validation]))
            predicted = predict(router, vectors[validation])
            loss = brier(predicted, scores[validation])
            if best is None or loss < best["validation_brier"]:
                best = {"family": family, "config": used, "validation_brier": loss, "validation": predicted}
        # The torch families refit for the epoch count early stopping found; the others as chosen.
        router, _ = fit_family(family, best["config"], vectors[train], scores[train], seed)
        best.update(router=router, test=predict(router, vectors[test]))
        _progress(f"{family}: {json.dumps(best['config'])} validation Brier {best['validation_brier']:.4f} ({time.monotonic() - started:.1f} s)")
        results.append(best)
    parts = [r for r in results if r["family"] in ("knn", "mlp", "mf")]
    blend_validation = np.mean([r["validation"] for r in parts], axis=0)
    results.append({
        "family": "blend",
        "config": {"of": [r["family"] for r in parts]},
        "validation_brier": brier(blend_validation, scores[validation]),
        "validation": blend_validation,
        "test": np.mean([r["test"] for r in parts], axis=0),
        "router": {"kind": "blend", "config": {"of": [r["family"] for r in parts]}, "parts": [r["router"] for r in parts]},
    })
    return results


def run_fit(work: Path) -> list[dict]:
    spec = json.loads((work / "input.json").read_text())
    models, dim = spec["models"], spec["dim"]
    vectors = np.fromfile(work / "vectors.f32", dtype="<f4").reshape(-1, dim)
    scores = np.fromfile(work / "scores.f32", dtype="<f4").reshape(-1, len(models))
    if len(vectors) != len(scores):
        raise typed_failure("InvalidRequest", f"{len(vectors)} vectors but {len(scores)} score rows")
    if len(spec["fit"]) == 0 or len(spec["validation"]) == 0:
        raise typed_failure("InvalidRequest", f"need prompts to fit on and to validate with (fit {len(spec['fit'])}, validation {len(spec['validation'])})")
    import torch
    from threadpoolctl import threadpool_limits

    # One thread (torch, BLAS, OpenMP): the matrices are small, and on a shared two-core machine more
    # threads only spin (k-means took 20 s instead of 2 with the default pools on a loaded host).
    torch.set_num_threads(1)
    with threadpool_limits(1):
        results = fit_families(vectors, scores, spec, spec.get("seed", 0), spec.get("clusters", 10))
    summary = []
    for result in results:
        family = result["family"]
        (work / f"{family}.validation.f32").write_bytes(np.ascontiguousarray(result["validation"], dtype="<f4").tobytes())
        (work / f"{family}.test.f32").write_bytes(np.ascontiguousarray(result["test"], dtype="<f4").tobytes())
        save_router(result["router"], work / f"{family}.npz", models, spec.get("embedding_model"))
        summary.append({"family": family, "config": result["config"], "validation_brier": result["validation_brier"]})
    (work / "families.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.router_predictors", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit every predictor family on a work directory (see above)")
    fit.add_argument("--work", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        summary = run_fit(args.work)
    except Exception as err:  # noqa: BLE001 (the CLI reports any failure as one line, not a traceback)
        print(json.dumps({"error": type(err).__name__, "message": str(err)}), file=sys.stderr)
        return 2
    print(json.dumps({"families": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
