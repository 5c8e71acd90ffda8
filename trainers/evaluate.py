"""The `evaluate_model` activity: one candidate (a catalog base model, optionally with a PEFT adapter)
answers every cluster's test samples and the validation samples in batched greedy generation, each
sample with a token budget sized to its reference answer; outputs are scored per task type
(trainers/eval_metrics.py) and summarised per cluster into PerfCells with bootstrap intervals,
latency and cost, and over the validation samples into the model's validation quality.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from temporalio import activity

from .artifacts import ArtifactNotFound, ArtifactStore, artifact_store_from_env
from .catalog import get_model
from .errors import typed_failure
from .eval_metrics import cell_metrics, score_sample
from .jsonl import jsonl_lines
from .schemas import validate

SAMPLES_MEDIA_TYPE = "application/x-ndjson"
# Defaults of the optional EvaluateModelRequest fields (schemas/evaluation.schema.json documents them).
DEFAULT_GENERATION_BATCH_SIZE = 8
DEFAULT_NEW_TOKENS_PER_REFERENCE_TOKEN = 1.5
DEFAULT_NEW_TOKENS_MARGIN = 16
DEFAULT_MAX_VALIDATION_SAMPLES = 32


class _StepTimer:
    """A transformers streamer that notes when each generation step's tokens arrive (for a whole batch):
    step k's time is when every sequence of the batch had k new tokens, so a sample's latency is the
    time of its last step and the time to first token is the first step's."""

    def __init__(self) -> None:
        self._prompt_seen = False
        self.step_times: list[float] = []

    def put(self, value) -> None:
        # generate() first puts the prompt ids, then the new tokens of every step.
        if self._prompt_seen:
            self.step_times.append(time.perf_counter())
        self._prompt_seen = True

    def end(self) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class TokenBudget:
    """New tokens one sample may generate: room for its reference answer (times `per_reference_token`,
    plus `margin`), never more than `cap`. A fixed small budget cuts long reference answers short and
    scores every model low on them; a fixed large one makes every sample as slow as the longest."""

    cap: int
    per_reference_token: float = 1.5
    margin: int = 16

    def for_reference(self, reference_tokens: int) -> int:
        return max(1, min(self.cap, math.ceil(reference_tokens * self.per_reference_token) + self.margin))


class Generator:
    """Batched greedy chat generation with one loaded model; deterministic, so reruns give equal outputs.

    Prompts are left-padded (a decoder-only model continues from the last position of every row) and
    batched in order of token budget, then prompt length, so rows of one batch need about the same
    number of steps. A batch runs to its largest budget and each row is cut to its own: greedy decoding
    is causal, so the first k tokens are exactly what a k-token budget would have produced.
    """

    def __init__(self, model, tokenizer, budget: TokenBudget, batch_size: int = 1):
        self.model, self.tokenizer, self.budget, self.batch_size = model, tokenizer, budget, batch_size
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        eos = model.generation_config.eos_token_id if model.generation_config.eos_token_id is not None else tokenizer.eos_token_id
        self._stop_ids = set(eos if isinstance(eos, list) else [eos])

    def reference_budget(self, reference: str) -> int:
        return self.budget.for_reference(len(self.tokenizer(reference, add_special_tokens=False)["input_ids"]))

    def generate_all(self, conversations: list[list[dict]], budgets: list[int], on_batch: Callable[[int], None] = lambda done: None) -> list[dict]:
        """One record per conversation (in input order): output, token counts, ttft_ms, latency_ms, batch_size."""
        prompts = [self.tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in conversations]
        lengths = [len(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: (budgets[i], lengths[i], i))
        records: list[dict] = [{} for _ in prompts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            for i, record in zip(batch, self._generate_batch([prompts[i] for i in batch], [budgets[i] for i in batch])):
                records[i] = record
            on_batch(start + len(batch))
        return records

    def _generate_batch(self, prompts: list[str], budgets: list[int]) -> list[dict]:
        import torch

        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.model.device)
        width = int(inputs["input_ids"].shape[1])
        timer = _StepTimer()
        with torch.inference_mode():
            started = time.perf_counter()
            output = self.model.generate(**inputs, max_new_tokens=max(budgets), do_sample=False, streamer=timer, pad_token_id=self.tokenizer.pad_token_id)
            finished = time.perf_counter()
        steps = timer.step_times or [finished]
        records = []
        for row, budget in enumerate(budgets):
            new_ids = output[row, width:][:budget].tolist()
            stop = next((k for k, token in enumerate(new_ids) if token in self._stop_ids), None)
            kept = new_ids if stop is None else new_ids[: stop + 1]  # the stop token is generated (and paid for) too
            records.append({
                "output": self.tokenizer.decode(kept, skip_special_tokens=True).strip(),
                "prompt_tokens": int(inputs["attention_mask"][row].sum()),
                "completion_tokens": len(kept),
                "max_new_tokens": budget,
                "ttft_ms": (steps[0] - started) * 1000.0,
                "latency_ms": (steps[min(max(len(kept), 1), len(steps)) - 1] - started) * 1000.0,
                "batch_size": len(prompts),
            })
        return records


class EndpointGenerator:
    """Greedy chat generation through an OpenAI-compatible server (the llama.cpp model server for a GGUF
    base, vLLM on GPU hosts): what is evaluated is exactly what that server serves, its quantisation,
    chat template and batching included. `concurrency` requests run at once and the server batches
    them (llama.cpp slots, vLLM continuous batching); latency and time to first token are each
    request's own, read from the stream, and token counts come from the server's usage report."""

    def __init__(self, base_url: str, model: str, tokenizer, budget: TokenBudget, concurrency: int = 1, timeout_s: float = 600.0):
        from openai import OpenAI

        self.client = OpenAI(base_url=base_url, api_key="unused", timeout=timeout_s, max_retries=2)
        self.model, self.tokenizer, self.budget, self.concurrency = model, tokenizer, budget, concurrency

    def reference_budget(self, reference: str) -> int:
        return self.budget.for_reference(len(self.tokenizer(reference, add_special_tokens=False)["input_ids"]))

    def generate_all(self, conversations: list[list[dict]], budgets: list[int], on_batch: Callable[[int], None] = lambda done: None) -> list[dict]:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self._generate, messages, budget) for messages, budget in zip(conversations, budgets)]
            records = []
            for done, future in enumerate(futures, start=1):
                records.append(future.result())
                if done % self.concurrency == 0 or done == len(futures):
                    on_batch(done)
        return records

    def _generate(self, messages: list[dict], budget: int) -> dict:
        started = time.perf_counter()
        first, pieces, usage = None, [], None
        stream = self.client.chat.completions.create(
            model=self.model, messages=messages, max_tokens=budget, temperature=0, stream=True, stream_options={"include_usage": True}
        )
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta.content:
                    first = first or time.perf_counter()
                    pieces.append(choice.delta.content)
        finished = time.perf_counter()
        if usage is None:
            raise typed_failure("InvalidRequest", f"the server at {self.client.base_url} sent no usage for a streamed request (stream_options.include_usage)")
        return {
            "output": "".join(pieces).strip(),
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "max_new_tokens": budget,
            "ttft_ms": ((first or finished) - started) * 1000.0,
            "latency_ms": (finished - started) * 1000.0,
            "batch_size": self.concurrency,
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


def select_split_samples(tasks: list[dict], split: str, limit: int) -> list[dict]:
    """The first `limit` tasks (by id) of one split: every candidate sees the same ones."""
    return sorted((t for t in tasks if t["split"] == split), key=lambda t: t["id"])[:limit]


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


def _load_candidate(candidate: dict, store: ArtifactStore, workdir: Path):
    from .models import load_model_and_tokenizer

    adapter_dir = _adapter_dir(candidate, store, workdir) if "adapter" in candidate else None
    return load_model_and_tokenizer(candidate["model_id"], adapter_dir)


def _adapter_dir(candidate: dict, store: ArtifactStore, workdir: Path) -> Path:
    try:
        return store.get_tree(candidate["adapter"], workdir / "adapter")
    except ArtifactNotFound as err:  # re-raised with the candidate it belongs to
        raise typed_failure("ArtifactNotFound", f"adapter of {candidate_name(candidate)} is not in the artifact store: {err}") from err


def _candidate_generator(candidate: dict, store: ArtifactStore, workdir: Path, budget: TokenBudget, batch_size: int):
    """In-process transformers generation, or the candidate's OpenAI-compatible server when it names one."""
    if "openai_base_url" not in candidate:
        model, tokenizer = _load_candidate(candidate, store, workdir)
        return Generator(model, tokenizer, budget, batch_size)
    from .models import load_tokenizer

    # Only to size budgets: the tokenizer of what the server runs (the adapter's own, when adapted).
    adapter_dir = _adapter_dir(candidate, store, workdir) if "adapter" in candidate else None
    return EndpointGenerator(candidate["openai_base_url"], candidate.get("openai_model", candidate["model_id"]), load_tokenizer(candidate["model_id"], adapter_dir), budget, batch_size)


def _load_reward_scorer(reward_model: dict, store: ArtifactStore, workdir: Path) -> RewardScorer:
    from .models import load_reward_model

    try:
        adapter_dir = store.get_tree(reward_model["adapter"], workdir / "reward-model")
    except ArtifactNotFound as err:  # re-raised with the candidate it belongs to
        raise typed_failure("ArtifactNotFound", f"reward adapter over {reward_model['model_id']} is not in the artifact store: {err}") from err
    return RewardScorer(*load_reward_model(reward_model["model_id"], adapter_dir))


@activity.defn
def evaluate_model(request: dict) -> dict:
    """Generates with one candidate on every cluster's test samples and on the validation samples, and
    returns its PerfCells plus its validation quality (what the adapter champion gate compares)."""
    validate("EvaluateModelRequest", request)
    candidate = request["candidate"]
    name = candidate_name(candidate)
    entry = get_model(candidate["model_id"])
    price = candidate.get("cost_per_1k_tokens", entry.cost_per_1k_tokens)
    store = artifact_store_from_env()
    tasks = [json.loads(line) for _, line in jsonl_lines(store.get(request["tasks"]).decode("utf-8"))]
    by_cluster = select_test_samples(tasks, request["cluster_ids"], request["max_samples_per_cluster"])
    test_tasks = [task for cluster_tasks in by_cluster.values() for task in cluster_tasks]
    validation_tasks = select_split_samples(tasks, "validation", request.get("max_validation_samples", DEFAULT_MAX_VALIDATION_SAMPLES))
    every_task = test_tasks + validation_tasks
    budget = TokenBudget(
        cap=request["max_new_tokens"],
        per_reference_token=request.get("new_tokens_per_reference_token", DEFAULT_NEW_TOKENS_PER_REFERENCE_TOKEN),
        margin=request.get("new_tokens_margin", DEFAULT_NEW_TOKENS_MARGIN),
    )

    with tempfile.TemporaryDirectory(prefix="llmloop-eval-") as workdir:
        activity.heartbeat({"model": name, "loading": True})
        generator = _candidate_generator(candidate, store, Path(workdir), budget, request.get("generation_batch_size", DEFAULT_GENERATION_BATCH_SIZE))
        rewards = _load_reward_scorer(request["reward_model"], store, Path(workdir)) if "reward_model" in request else None
        activity.heartbeat({"model": name, "done": 0, "of": len(every_task)})
        records = generator.generate_all(
            [task["messages"] for task in every_task],
            [generator.reference_budget(task["reference"]) for task in every_task],
            on_batch=lambda done: activity.heartbeat({"model": name, "done": done, "of": len(every_task)}),
        )
        for task, record in zip(every_task, records):
            record["score"] = score_sample(task, record["output"])
            if rewards is not None:
                record["score"].metrics["reward"] = rewards.score(task["messages"], record["output"])

    cells, offset = [], 0
    for cluster_id, cluster_tasks in by_cluster.items():
        cells.append(summarise_cell(cluster_id, name, cluster_tasks, records[offset : offset + len(cluster_tasks)], price, request["bootstrap_resamples"], request["seed"]))
        offset += len(cluster_tasks)
    sample_rows = [_sample_row(task, record) for task, record in zip(every_task, records)]
    samples = store.put("".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in sample_rows), SAMPLES_MEDIA_TYPE)
    model_entry = {"model_id": name, "base_model": candidate["model_id"], "cost_per_1k_tokens": price}
    if "adapter" in candidate:
        model_entry["adapter"] = candidate["adapter"]
    if validation_tasks:
        validation_scores = [record["score"] for record in records[len(test_tasks) :]]
        model_entry["validation_quality"] = cell_metrics(validation_tasks, validation_scores, request["bootstrap_resamples"], request["seed"])[0]
    return validate("EvaluateModelResult", {"model": model_entry, "cells": cells, "samples": samples})


def _sample_row(task: dict, record: dict) -> dict:
    return {
        "task_id": task["id"], "split": task["split"], "cluster_id": task.get("cluster_id"), "task_type": task["task_type"], "language": task["language"],
        "output": record["output"], "reference": task["reference"], "quality": record["score"].quality, "metrics": record["score"].metrics,
        "prompt_tokens": record["prompt_tokens"], "completion_tokens": record["completion_tokens"], "max_new_tokens": record["max_new_tokens"],
        "batch_size": record["batch_size"], "ttft_ms": record["ttft_ms"], "latency_ms": record["latency_ms"],
    }
