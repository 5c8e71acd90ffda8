"""The `evaluate_model` activity: one candidate (a catalog base model, optionally with a PEFT adapter)
answers every cluster's test samples; outputs are scored per task type (trainers/eval_metrics.py)
and summarised per cluster into PerfCells with bootstrap intervals, latency and cost.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
from temporalio import activity

from .artifacts import ArtifactNotFound, LocalArtifactStore
from .catalog import get_model
from .errors import typed_failure
from .eval_metrics import cell_metrics, score_sample
from .schemas import validate
from .jsonl import jsonl_lines

SAMPLES_MEDIA_TYPE = "application/x-ndjson"

class _FirstTokenTimer:
    """A transformers streamer that only notes when the first generated token arrives (TTFT)."""

    def __init__(self) -> None:
        self._puts = 0
        self.first_token_at: float | None = None

    def put(self, value) -> None:
        # generate() first puts the prompt ids, then each new token.
        self._puts += 1
        if self._puts == 2 and self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def end(self) -> None:
        pass


class Generator:
    """Greedy chat generation with one loaded model; deterministic, so reruns give equal outputs."""

    def __init__(self, model, tokenizer, max_new_tokens: int):
        self.model, self.tokenizer, self.max_new_tokens = model, tokenizer, max_new_tokens

    def generate(self, messages: list[dict]) -> dict:
        import torch

        inputs = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True).to(self.model.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        timer = _FirstTokenTimer()
        with torch.inference_mode():
            started = time.perf_counter()
            output = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                streamer=timer,
                pad_token_id=self.tokenizer.pad_token_id,
            )
            finished = time.perf_counter()
        completion_ids = output[0, prompt_tokens:]
        first = timer.first_token_at or finished
        return {
            "output": self.tokenizer.decode(completion_ids, skip_special_tokens=True).strip(),
            "prompt_tokens": prompt_tokens,
            "completion_tokens": int(completion_ids.shape[0]),
            "ttft_ms": (first - started) * 1000.0,
            "latency_ms": (finished - started) * 1000.0,
        }


class RewardScorer:
    """Scores (prompt, answer) conversations with a trained reward model, formatted as TRL's trainers
    format them for it: the chat template over the prompt turns plus the assistant answer."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer

    def score(self, messages: list[dict], answer: str) -> float:
        import torch

        text = self.tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": answer}], tokenize=False)
        inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        with torch.inference_mode():
            return float(self.model(**inputs).logits[0, 0])


def candidate_name(candidate: dict) -> str:
    return candidate.get("name") or candidate["model_id"]


def select_test_samples(tasks: list[dict], cluster_ids: list[int], per_cluster: int) -> dict[int, list[dict]]:
    """The first `per_cluster` test-split tasks (by id) of every cluster; clusters without any map to []."""
    chosen: dict[int, list[dict]] = {cid: [] for cid in cluster_ids}
    for task in sorted((t for t in tasks if t["split"] == "test"), key=lambda t: t["id"]):
        bucket = chosen.get(task["cluster_id"])
        if bucket is not None and len(bucket) < per_cluster:
            bucket.append(task)
    return chosen


def summarise_cell(cluster_id: int, model_name: str, tasks: list[dict], records: list[dict], price_per_1k: float, resamples: int, seed: int) -> dict:
    if not records:
        return missing_cell(cluster_id, model_name, "the cluster has no test samples")
    quality, metrics = cell_metrics(tasks, [r["score"] for r in records], resamples, seed + cluster_id)
    latency = np.array([r["latency_ms"] for r in records])
    tokens = np.array([r["prompt_tokens"] + r["completion_tokens"] for r in records])
    return {
        "cluster_id": cluster_id,
        "model_id": model_name,
        "n": len(records),
        "quality": min(max(quality["mean"], 0.0), 1.0),
        "quality_ci": quality,
        "metrics": metrics,
        "latency_ms_mean": float(latency.mean()),
        "latency_ms_p95": float(np.percentile(latency, 95)),
        "ttft_ms_mean": float(np.mean([r["ttft_ms"] for r in records])),
        "cost_per_request": float(tokens.mean() / 1000.0 * price_per_1k),
    }


def missing_cell(cluster_id: int, model_name: str, reason: str) -> dict:
    return {"cluster_id": cluster_id, "model_id": model_name, "n": 0, "quality": 0.0, "metrics": {}, "latency_ms_mean": 0.0, "latency_ms_p95": 0.0, "cost_per_request": 0.0, "missing": {"reason": reason}}


def _load_candidate(candidate: dict, store: LocalArtifactStore, workdir: Path):
    from .models import load_model_and_tokenizer

    adapter_dir = None
    if "adapter" in candidate:
        try:
            adapter_dir = store.get_tree(candidate["adapter"], workdir / "adapter")
        except ArtifactNotFound as err:  # re-raised with the candidate it belongs to
            raise typed_failure("ArtifactNotFound", f"adapter of {candidate_name(candidate)} is not in the artifact store: {err}") from err
    return load_model_and_tokenizer(candidate["model_id"], adapter_dir)


def _load_reward_scorer(reward_model: dict, store: LocalArtifactStore, workdir: Path) -> RewardScorer:
    from .models import load_reward_model

    try:
        adapter_dir = store.get_tree(reward_model["adapter"], workdir / "reward-model")
    except ArtifactNotFound as err:  # re-raised with the candidate it belongs to
        raise typed_failure("ArtifactNotFound", f"reward adapter over {reward_model['model_id']} is not in the artifact store: {err}") from err
    return RewardScorer(*load_reward_model(reward_model["model_id"], adapter_dir))


@activity.defn
def evaluate_model(request: dict) -> dict:
    """Generates with one candidate on every cluster's test samples and returns its PerfCells."""
    validate("EvaluateModelRequest", request)
    candidate = request["candidate"]
    name = candidate_name(candidate)
    entry = get_model(candidate["model_id"])
    price = candidate.get("cost_per_1k_tokens", entry["cost_per_1k_tokens"])
    store = LocalArtifactStore.from_env()
    tasks = [json.loads(line) for _, line in jsonl_lines(store.get(request["tasks"]).decode("utf-8"))]
    by_cluster = select_test_samples(tasks, request["cluster_ids"], request["max_samples_per_cluster"])
    total = sum(len(v) for v in by_cluster.values())

    with tempfile.TemporaryDirectory(prefix="llmloop-eval-") as workdir:
        activity.heartbeat({"model": name, "loading": True})
        model, tokenizer = _load_candidate(candidate, store, Path(workdir))
        generator = Generator(model, tokenizer, request["max_new_tokens"])
        rewards = _load_reward_scorer(request["reward_model"], store, Path(workdir)) if "reward_model" in request else None
        cells, sample_rows, done = [], [], 0
        for cluster_id, cluster_tasks in by_cluster.items():
            records = []
            for task in cluster_tasks:
                activity.heartbeat({"model": name, "done": done, "of": total})
                record = generator.generate(task["messages"])
                record["score"] = score_sample(task, record["output"])
                if rewards is not None:
                    record["score"].metrics["reward"] = rewards.score(task["messages"], record["output"])
                records.append(record)
                sample_rows.append({
                    "task_id": task["id"], "cluster_id": cluster_id, "task_type": task["task_type"], "language": task["language"],
                    "output": record["output"], "reference": task["reference"], "quality": record["score"].quality, "metrics": record["score"].metrics,
                    "prompt_tokens": record["prompt_tokens"], "completion_tokens": record["completion_tokens"],
                    "ttft_ms": record["ttft_ms"], "latency_ms": record["latency_ms"],
                })
                done += 1
            cells.append(summarise_cell(cluster_id, name, cluster_tasks, records, price, request["bootstrap_resamples"], request["seed"]))

    samples = store.put("".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in sample_rows), SAMPLES_MEDIA_TYPE)
    model_entry = {"model_id": name, "base_model": candidate["model_id"], "cost_per_1k_tokens": price}
    if "adapter" in candidate:
        model_entry["adapter"] = candidate["adapter"]
    return validate("EvaluateModelResult", {"model": model_entry, "cells": cells, "samples": samples})
