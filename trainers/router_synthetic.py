"""Synthetic many-model score matrices for developing and testing routers (only two-model matrices
are public here). Each prompt has a topic and a latent difficulty; each model a general ability, a
skill per topic and a price; a prompt's score on a model is a Bernoulli draw of
sigmoid(ability + skill[topic] + sensitivity * (easiness of the prompt)). Part of the difficulty is
readable from the embedding (a direction per topic) and part is noise no router can see, so neither
per-topic averages nor a per-prompt predictor reaches the oracle.

  python -m trainers.router_synthetic --style routerbench|routerdc --n N --seed S --out DIR
writes DIR/scores.csv (the route-eval contract, with cost__<model> per request for routerbench) and
DIR/vectors.f32 (one unit-length float32 row per CSV row, for `route-eval --vectors`).
With `--router knn|mlp|mf|blend` it also writes DIR/router.npz, that family fitted on every row with
a typical configuration: a router of realistic size for bench/router.ts.

Styles: `routerbench`: 11 models whose per-request prices span 100x (better models tend to cost more,
not always), per-request cost = price x a log-normal prompt length; `routerdc`: 7 equal-cost models
whose strengths differ by topic (two "languages" of topics, each favouring other models).
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

DIM = 384


def generate(style: str, n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    if style == "routerbench":
        n_models, n_topics = 11, 16
        price = np.exp(np.linspace(np.log(1e-4), np.log(1e-2), n_models))
        ability = np.linspace(-1.2, 1.6, n_models) + rng.normal(0, 0.35, n_models)
        skill_spread = 0.6
    elif style == "routerdc":
        n_models, n_topics = 7, 12
        price = np.full(n_models, 1e-3)
        ability = rng.normal(0.3, 0.25, n_models)
        skill_spread = 0.9
    else:
        raise ValueError(f"unknown style {style!r}")
    skill = rng.normal(0, skill_spread, (n_models, n_topics))
    if style == "routerdc":
        # Two languages: each model is better on one half of the topics.
        language = np.arange(n_topics) % 2
        skill += np.where(language[None, :] == (np.arange(n_models)[:, None] % 2), 0.5, -0.5)
    sensitivity = rng.uniform(0.6, 1.6, n_models)  # how much a model's success depends on the prompt's difficulty

    centres = rng.normal(size=(n_topics, DIM))
    difficulty_axis = rng.normal(size=(n_topics, DIM))
    topic = rng.integers(0, n_topics, n)
    seen = rng.normal(0, 1.0, n)  # the part of the difficulty the embedding shows
    unseen = rng.normal(0, 0.8, n)  # and the part it does not
    vectors = centres[topic] * 1.2 + rng.normal(size=(n, DIM)) + difficulty_axis[topic] * seen[:, None] * 0.5
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    easiness = -(seen + unseen)
    logits = ability[None, :] + skill[:, topic].T + sensitivity[None, :] * easiness[:, None]
    scores = (rng.random((n, n_models)) < 1 / (1 + np.exp(-logits))).astype(float)
    length = rng.lognormal(0, 0.5, n)
    costs = price[None, :] * length[:, None]
    models = [f"{style}-m{i:02d}" for i in range(n_models)]
    return {"models": models, "topic": topic, "vectors": vectors.astype(np.float32), "scores": scores, "costs": costs, "split": np.where(rng.random(n) < 0.7, "train", "test")}


def write(matrix: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    models = matrix["models"]
    with (out / "scores.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "prompt", "group", "split", *(f"score__{m}" for m in models), *(f"cost__{m}" for m in models)])
        for i, topic in enumerate(matrix["topic"]):
            costs = [f"{c:.6g}" for c in matrix["costs"][i]]
            writer.writerow([f"s{i}", f"synthetic prompt {i}", f"topic{topic}", matrix["split"][i], *(f"{s:g}" for s in matrix["scores"][i]), *costs])
    (out / "vectors.f32").write_bytes(np.ascontiguousarray(matrix["vectors"], dtype="<f4").tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.router_synthetic", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", choices=("routerbench", "routerdc"), required=True)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--router", choices=("knn", "mlp", "mf", "blend"), default=None)
    args = parser.parse_args(argv)
    matrix = generate(args.style, args.n, args.seed)
    write(matrix, args.out)
    if args.router:
        from . import router_predictors as rp

        def fit(family: str) -> dict:
            if family == "knn":
                return rp.fit_knn(matrix["vectors"], matrix["scores"], 50, "distance")
            config = {"hidden": rp.MLP_HIDDEN} if family == "mlp" else {"rank": rp.MF_RANK}
            return rp.fit_family(family, {**config, "weight_decay": rp.WEIGHT_DECAY, "epochs": 10}, matrix["vectors"], matrix["scores"].astype(np.float32), args.seed)[0]

        families = ("knn", "mlp", "mf") if args.router == "blend" else (args.router,)
        parts = [fit(f) for f in families]
        router = {"kind": "blend", "config": {"of": list(families)}, "parts": parts} if args.router == "blend" else parts[0]
        rp.save_router(router, args.out / "router.npz", matrix["models"])
    print(json.dumps({"scores": str(args.out / "scores.csv"), "vectors": str(args.out / "vectors.f32"), "models": matrix["models"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
