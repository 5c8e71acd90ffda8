"""Scores replies against reference answers with the evaluation stage's own per-sample metric
(trainers/eval_metrics.py `score_sample`: ROUGE-L F for summaries and rewrites, ROUGE-1 F for
reasoning and ranking answers, label match for classification), so a score posted as user feedback
means what a cell's quality means. `make demo` scores its gateway replies with it.

  python -m trainers.score_replies < request.json > scores.json

request: {"items": [{"task": {"task_type", "language", "reference", "labels"?}, "output": str}]}
scores:  {"scores": [{"quality": float, "metrics": {name: float}}]}   (in items order)
"""
from __future__ import annotations

import json
import sys

from .eval_metrics import score_sample


def score_replies(request: dict) -> dict:
    scores = [score_sample(item["task"], item["output"]) for item in request["items"]]
    return {"scores": [{"quality": s.quality, "metrics": s.metrics} for s in scores]}


if __name__ == "__main__":
    json.dump(score_replies(json.load(sys.stdin)), sys.stdout)
