"""Scoring from the maintained metric libraries, and evaluate_model generating with real SmolLM2-135M."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from temporalio.testing import ActivityEnvironment

from trainers.artifacts import artifact_store_from_env
from trainers.eval_metrics import bootstrap, cell_metrics, classification_f1, labels_in, rouge, score_sample, sentence_bleu
from trainers.schemas import schema_problems

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def task(task_type: str, reference: str, language: str = "en", **extra) -> dict:
    return {"id": f"{task_type}-{reference[:8]}", "text": "q", "messages": [{"role": "user", "content": "q"}], "reference": reference, "task_type": task_type, "language": language, "split": "test", **extra}


def test_chinese_rouge_counts_characters_where_the_default_tokenizer_sees_nothing():
    from rouge_score import rouge_scorer

    assert rouge_scorer.RougeScorer(["rougeL"]).score("合同的付款条款", "合同付款条款")["rougeL"].fmeasure == 0.0
    assert rouge("合同的付款条款", "合同付款条款")["rouge_l"] == pytest.approx(2 * 6 / (7 + 6))


def test_rouge_reads_every_script_whatever_the_language_tag():
    # rouge-score's own tokenizer keeps [a-z0-9] only: a Korean answer scored 0 against itself.
    assert rouge("약관의 뜻이 명백하지 아니한 경우", "약관의 뜻이 명백하지 아니한 경우")["rouge_l"] == 1.0
    assert rouge("Договор вступает в силу", "Договор вступает в силу сегодня")["rouge_l"] == pytest.approx(2 * 4 / (4 + 5))
    # English keeps rouge-score's stemming: "tables" and "table" are one token.
    assert rouge("the tables", "the table")["rouge_l"] == 1.0


def test_bleu_tokenizes_chinese():
    assert sentence_bleu("今天天气很好", "今天天气很好", "zh") == pytest.approx(1.0)
    # Without spaces, 13a sees one word per sentence and finds no match; zh tokenizes by character.
    assert sentence_bleu("今天天气很好", "今天天气不好", "zh") > 0.3 > sentence_bleu("今天天气很好", "今天天气不好", "en")


def test_scores_by_task_type():
    summary = score_sample(task("summary", "The invoice totals 40 dollars."), "The invoice totals 40 dollars.")
    assert summary.quality == pytest.approx(1.0) and set(summary.metrics) == {"rouge_l", "bleu"}
    reasoning = score_sample(task("reasoning", "42"), "The answer is 42.")
    assert reasoning.metrics["exact_match"] == 0.0 and 0 < reasoning.metrics["token_f1"] < 1
    assert score_sample(task("reasoning", "42."), " 42").metrics["exact_match"] == 1.0
    labelled = score_sample(task("classification", "Label: finance", labels=["finance", "legal", "medical"]), "This is about FINANCE.")
    assert labelled.quality == 1.0 and labelled.predicted_labels == ["finance"]


def test_classification_f1_over_the_explicit_label_list():
    # medical never occurs: macro F1 averages it in as 0, micro F1 does not see it.
    scores = classification_f1([["finance"], ["legal"], ["legal"]], [["finance"], ["legal"], ["finance"]], ["finance", "legal", "medical"])
    assert scores["f1_micro"] == pytest.approx(2 / 3)
    assert scores["f1_macro"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert labels_in("no label here", ["finance"]) == []


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    values = np.array([0.0, 1.0] * 20)
    first = bootstrap(len(values), lambda idx: float(values[idx].mean()), 200, np.random.default_rng(1))
    again = bootstrap(len(values), lambda idx: float(values[idx].mean()), 200, np.random.default_rng(1))
    assert first == again
    assert first["ci_low"] < first["mean"] == 0.5 < first["ci_high"]


def test_cell_metrics_include_f1_for_classification_samples():
    tasks = [task("classification", "finance", labels=["finance", "legal"]), task("classification", "legal", labels=["finance", "legal"]), task("summary", "short text")]
    scores = [score_sample(t, out) for t, out in zip(tasks, ["finance", "finance", "short text"])]
    quality, metrics = cell_metrics(tasks, scores, 50, 0)
    assert quality["mean"] == pytest.approx(2 / 3)
    assert {"f1_micro", "f1_macro", "label_exact_match", "rouge_l", "bleu"} <= set(metrics)
    assert metrics["f1_micro"]["n"] == 2


@pytest.fixture(scope="module")
def clustered_tasks(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        if not os.environ.get("LLMLOOP_DATA_DIR"):
            env.setenv("LLMLOOP_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        yield _store_tasks()


def _store_tasks() -> dict:
    rows = [
        dict(task("summary", "The meeting moved to Friday."), id="t1", cluster_id=0, messages=[{"role": "user", "content": "Summarize: the meeting moved from Monday to Friday."}]),
        dict(task("classification", "finance", labels=["finance", "legal"]), id="t2", cluster_id=1, messages=[{"role": "user", "content": "Classify as finance or legal: the invoice is due."}]),
        dict(task("summary", "unused"), id="t3", cluster_id=1, split="train"),
        dict(task("summary", "Rain is expected on Sunday."), id="t4", cluster_id=0, split="validation", messages=[{"role": "user", "content": "Summarize: forecasters expect rain on Sunday."}]),
    ]
    return artifact_store_from_env().put("".join(json.dumps(r) + "\n" for r in rows), "application/x-ndjson")


def evaluate(candidate: dict, tasks_ref: dict, cluster_ids: list[int], **extra) -> dict:
    from trainers.evaluate import evaluate_model

    request = {"candidate": candidate, "tasks": tasks_ref, "cluster_ids": cluster_ids, "max_samples_per_cluster": 5, "max_new_tokens": 4, "bootstrap_resamples": 20, "seed": 0, **extra}
    return ActivityEnvironment().run(evaluate_model, request)


def test_evaluate_model_generates_and_fills_every_cluster(clustered_tasks: dict):
    result = evaluate({"model_id": "smollm2-135m", "name": "smollm2-135m"}, clustered_tasks, [0, 1, 2])
    assert schema_problems("EvaluateModelResult", result) == []
    cells = {c["cluster_id"]: c for c in result["cells"]}
    for cluster_id in (0, 1):
        cell = cells[cluster_id]
        assert cell["n"] == 1 and "missing" not in cell
        assert cell["latency_ms_mean"] >= cell["ttft_ms_mean"] > 0
        assert cell["cost_per_request"] > 0 and 0 <= cell["quality"] <= 1
    assert "rouge_l" in cells[0]["metrics"] and "f1_macro" in cells[1]["metrics"]
    assert cells[2]["missing"]["reason"] == "the cluster has no test samples"
    samples = [json.loads(line) for line in artifact_store_from_env().get(result["samples"]).decode().splitlines()]
    assert sorted((s["task_id"], s["split"]) for s in samples) == [("t1", "test"), ("t2", "test"), ("t4", "validation")]
    assert all(0 < s["completion_tokens"] <= s["max_new_tokens"] <= 4 for s in samples)
    # The validation sample is what the adapter champion gate compares; it never becomes a cell.
    assert result["model"]["validation_quality"]["n"] == 1 and 0 <= result["model"]["validation_quality"]["mean"] <= 1


def test_token_budgets_follow_the_reference_length_up_to_the_cap():
    from trainers.evaluate import TokenBudget

    budget = TokenBudget(cap=100, per_reference_token=1.5, margin=16)
    assert budget.for_reference(0) == 16
    assert budget.for_reference(10) == 31
    assert budget.for_reference(1000) == 100
    assert TokenBudget(cap=4).for_reference(50) == 4


def test_batched_generation_gives_the_one_at_a_time_outputs_in_input_order():
    """Left padding, the pad token and per-row budgets must not change greedy outputs."""
    from trainers.evaluate import Generator, TokenBudget
    from trainers.models import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer("smollm2-135m")
    conversations = [[{"role": "user", "content": text}] for text in ("What is the capital of France?", "Name a colour.", "Summarize in one sentence: the pump failed twice in March and was replaced in April.")]
    budgets = [6, 3, 8]
    one_by_one = Generator(model, tokenizer, TokenBudget(cap=8), batch_size=1).generate_all(conversations, budgets)
    batched = Generator(model, tokenizer, TokenBudget(cap=8), batch_size=3).generate_all(conversations, budgets)
    assert [r["output"] for r in batched] == [r["output"] for r in one_by_one]
    assert [r["completion_tokens"] for r in batched] == [r["completion_tokens"] for r in one_by_one]
    assert all(r["completion_tokens"] <= b for r, b in zip(batched, budgets))
    assert {r["batch_size"] for r in batched} == {3}
    assert all(0 < r["ttft_ms"] <= r["latency_ms"] for r in batched)
    assert "paris" in batched[0]["output"].lower()


def test_unknown_model_fails_typed_and_non_retryable(clustered_tasks: dict):
    from temporalio.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as failure:
        evaluate({"model_id": "no-such-model"}, clustered_tasks, [0])
    assert failure.value.type == "UnknownModel" and failure.value.non_retryable


def test_a_reward_model_scores_every_answer(clustered_tasks: dict):
    from tests.python.lora_fixture import BASE_MODEL, make_reward_adapter

    reward_model = {"model_id": BASE_MODEL, "adapter": make_reward_adapter()}
    result = evaluate({"model_id": "smollm2-135m"}, clustered_tasks, [0, 1], reward_model=reward_model)
    assert schema_problems("EvaluateModelResult", result) == []
    for cell in result["cells"]:
        reward = cell["metrics"]["reward"]
        assert reward["n"] == 1 and np.isfinite([reward["mean"], reward["ci_low"], reward["ci_high"]]).all()
    samples = [json.loads(line) for line in artifact_store_from_env().get(result["samples"]).decode().splitlines()]
    assert all(np.isfinite(s["metrics"]["reward"]) for s in samples)


def test_a_candidate_with_a_server_is_evaluated_through_its_openai_endpoint(clustered_tasks: dict):
    """What is evaluated is what is served: the same greedy answers as in-process generation, with the
    server's own token counts and per-request latency (here trainers/serve.py, an OpenAI-compatible
    server over the same SmolLM2 weights)."""
    import threading

    from trainers.serve import AdapterEngine, create_server

    server = create_server(AdapterEngine.load("smollm2-135m", None, max_queued=4), "smollm2-135m")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        served = evaluate({"model_id": "smollm2-135m", "openai_base_url": url, "name": "served"}, clustered_tasks, [0, 1], generation_batch_size=2)
        local = evaluate({"model_id": "smollm2-135m", "name": "local"}, clustered_tasks, [0, 1])
    finally:
        server.shutdown()
    assert schema_problems("EvaluateModelResult", served) == []
    rows = lambda result: {s["task_id"]: s for s in map(json.loads, artifact_store_from_env().get(result["samples"]).decode().splitlines())}
    served_rows, local_rows = rows(served), rows(local)
    assert {t: r["output"] for t, r in served_rows.items()} == {t: r["output"] for t, r in local_rows.items()}
    assert all(0 < r["completion_tokens"] <= r["max_new_tokens"] and r["prompt_tokens"] == local_rows[t]["prompt_tokens"] and r["batch_size"] == 2 for t, r in served_rows.items())
    assert [c["quality"] for c in served["cells"]] == [c["quality"] for c in local["cells"]]
