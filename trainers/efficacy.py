"""Statistics of `llmloop efficacy`: each candidate's mean per-sample test quality with its bootstrap
interval and per task type, and the paired gain of every tuned adapter over its base model (tuned minus
base on the same samples, resampled as pairs) — with the evaluation stage's own bootstrap
(trainers/eval_metrics.py), so the report's intervals are computed exactly as the perf index's are.

  python -m trainers.efficacy < request.json > stats.json

request: {"task_ids": [str], "task_types": [str], "resamples": int, "seed": int,
          "quality": {candidate: [float per task, in task_ids order]},
          "pairs": [{"base_model": str, "base": candidate, "tuned": candidate}]}
stats:   {"candidates": {candidate: {"quality": estimate, "by_task_type": {type: {"mean", "n"}}}},
          "gains": [{"base_model": str, "base": candidate, "tuned": candidate, "delta": estimate}]}
"""
from __future__ import annotations

import json
import sys

import numpy as np

from .eval_metrics import bootstrap


def mean_estimate(values: np.ndarray, resamples: int, seed: int) -> dict:
    return bootstrap(len(values), lambda idx: float(values[idx].mean()) if len(idx) else 0.0, resamples, np.random.default_rng(seed))


def by_task_type(values: np.ndarray, task_types: list[str]) -> dict:
    types = np.array(task_types)
    return {t: {"mean": float(values[types == t].mean()), "n": int((types == t).sum())} for t in sorted(set(task_types))}


def efficacy_stats(request: dict) -> dict:
    n = len(request["task_ids"])
    quality = {name: np.asarray(values, dtype=float) for name, values in request["quality"].items()}
    for name, values in quality.items():
        if len(values) != n:
            raise ValueError(f"candidate {name} has {len(values)} qualities for {n} tasks")
    resamples, seed = request["resamples"], request["seed"]
    candidates = {
        name: {"quality": mean_estimate(values, resamples, seed), "by_task_type": by_task_type(values, request["task_types"])}
        for name, values in quality.items()
    }
    # Paired: the per-sample differences are resampled, so the interval keeps what both models share.
    gains = [
        {**pair, "delta": mean_estimate(quality[pair["tuned"]] - quality[pair["base"]], resamples, seed)}
        for pair in request["pairs"]
    ]
    return {"candidates": candidates, "gains": gains}


if __name__ == "__main__":
    json.dump(efficacy_stats(json.load(sys.stdin)), sys.stdout)
