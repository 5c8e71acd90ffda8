"""One training job from preflight to stored adapter and manifest, shared by SFT, reward and GRPO.

Each stage supplies how its rows are read and how its TRL trainer is built; everything durable
(progress, checkpoints, resume, cancellation, outputs, manifest) happens here the same way.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import resource
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from temporalio import activity
from temporalio.exceptions import CancelledError

from ..artifacts import artifact_store_from_env
from ..catalog import get_model
from ..config import data_dir
from ..errors import typed_failure
from ..generated.models import CatalogModel, TrainingHyperparameters
from ..models import LOAD_LOCK, device
from ..schemas import validate
from .data import read_jsonl_rows
from .preflight import check_recipe_and_memory, eval_interval, hyperparameters
from .progress import ProgressReporter, best_checkpoint_to_resume, checkpoint_to_resume, restore_checkpoint


@dataclasses.dataclass
class Stage:
    name: str  # sft | reward | grpo
    row_type: str  # schema of the JSONL rows
    to_example: Callable[[dict], dict]
    # (job, hyperparameters, examples, common TrainingArguments kwargs, store, work_dir[, eval_examples=...]) -> (trainer, tokenizer)
    build_trainer: Callable
    # Whether the stage takes a validation split (eval_dataset) for early stopping.
    validates: bool = False


@dataclasses.dataclass
class TrainingContext:
    """What training needs from its activity. The ranks of a distributed run have no activity context:
    they get the attempt from the activity that launched them and never see a cancellation (it kills them)."""

    attempt: int
    is_cancelled: Callable[[], bool]
    logger: logging.Logger | logging.LoggerAdapter

    @classmethod
    def of_activity(cls) -> TrainingContext:
        return cls(activity.info().attempt, activity.is_cancelled, activity.logger)


def common_training_arguments(hp: TrainingHyperparameters, output_dir: Path) -> dict:
    """TrainingArguments every stage shares: step-based plan, per-step logs, checkpoints to resume from."""
    on_cuda = device() == "cuda"
    return {
        "output_dir": str(output_dir),
        "max_steps": hp.max_steps,
        "per_device_train_batch_size": hp.batch_size,
        "gradient_accumulation_steps": hp.grad_accum,
        "learning_rate": hp.learning_rate,
        "warmup_steps": 0,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": hp.checkpoint_every,
        "save_total_limit": 1,
        "seed": hp.seed,
        "data_seed": hp.seed,
        "report_to": [],
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "use_cpu": not on_cuda,
        "bf16": on_cuda,
        "include_num_input_tokens_seen": True,
    }


def validation_arguments(hp: TrainingHyperparameters) -> dict:
    """TrainingArguments for early stopping on validation loss. Every evaluation is also a checkpoint:
    the best evaluation must have one for load_best_model_at_end to restore it."""
    every = eval_interval(hp)
    return {
        "eval_strategy": "steps",
        "eval_steps": every,
        "save_steps": every,
        "per_device_eval_batch_size": hp.batch_size,
        "load_best_model_at_end": True,
        "metric_for_best_model": "eval_loss",
        "greater_is_better": False,
    }


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: sorted(v) if isinstance(v, set) else str(v)))


def _library_versions() -> dict:
    import peft
    import torch
    import transformers
    import trl

    return {"trl": trl.__version__, "transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__}


def _peak_memory_gb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 1e9
    # ru_maxrss is KiB on Linux; on CPU this is the worker process's peak, shared by its activities.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def _base_model_description(entry: CatalogModel) -> str:
    if entry.gguf:
        return f"gguf:{entry.gguf.package}/{entry.gguf.file}"
    return entry.hf_repo or entry.local_path


def import_training_libraries(hp: TrainingHyperparameters) -> None:
    """Imports TRL's trainers under the process-wide LOAD_LOCK. They are imported lazily so the worker
    starts fast, and transformers/TRL lazy modules are not safe to import from two activity threads
    at once (one of them fails with "cannot import name SFTConfig")."""
    with LOAD_LOCK:
        import trl

        for name in ("SFTConfig", "SFTTrainer", "RewardConfig", "RewardTrainer", "GRPOConfig", "GRPOTrainer"):
            getattr(trl, name)
    import torch

    if hp.threads:
        torch.set_num_threads(hp.threads)


def _quantization_config(model) -> dict | None:
    """The bitsandbytes settings the base was loaded with (QLoRA), or None for a full-precision base."""
    config = getattr(getattr(model, "config", None), "quantization_config", None)
    return config.to_dict() if hasattr(config, "to_dict") else config


# accelerate keeps one AcceleratorState per process and every Trainer resets it, so two trainings in one
# worker process break each other mid-step ("AcceleratorState object has no attribute num_processes").
# They take turns here; more worker processes (or hosts) on the queue train side by side.
TRAINING_SLOT = threading.Lock()


def run_stage(stage: Stage, job: dict) -> dict:
    """Runs one TrainJob to completion (or resumes it), returning a TrainJobResult."""
    validate("TrainJob", job)
    if "eval_dataset" in job and not stage.validates:
        raise typed_failure("InvalidRequest", f"the {stage.name} stage takes no eval_dataset (early stopping is for SFT)")
    hp = hyperparameters(stage.name, job.get("hyperparameters"))
    resume, resume_best = checkpoint_to_resume(), best_checkpoint_to_resume()
    # Heartbeats start first: importing torch/TRL alone can take longer than a heartbeat timeout on a busy host.
    with ProgressReporter(hp.max_steps, resume, resume_best) as reporter, reporter.holding(TRAINING_SLOT):
        from .distributed import devices_of_this_worker, train_across_devices

        devices = devices_of_this_worker()
        check_recipe_and_memory(job["model_id"], job["recipe"], devices)
        examples = [stage.to_example(row) for row in read_jsonl_rows(job["dataset"], stage.row_type)]
        eval_examples = [stage.to_example(row) for row in read_jsonl_rows(job["eval_dataset"], stage.row_type)[: hp.eval_rows]] if "eval_dataset" in job else None
        work_root = data_dir() / "work"
        work_root.mkdir(parents=True, exist_ok=True)
        # The attempt's scratch folder goes with it: a retry, here or on another host, resumes from the artifact store.
        with tempfile.TemporaryDirectory(dir=work_root, prefix=f"train-{stage.name}-") as tmp:
            work_dir = Path(tmp)
            resume_dir = restore_checkpoint(resume, work_dir / "checkpoints", best=resume_best) if resume else None
            if devices > 1:
                return train_across_devices(devices, stage, job, hp, examples, eval_examples, resume, resume_dir, reporter, work_dir)
            import_training_libraries(hp)
            return train(stage, job, hp, examples, eval_examples, resume, resume_dir, reporter, work_dir, TrainingContext.of_activity())


def train(stage: Stage, job: dict, hp: TrainingHyperparameters, examples: list[dict], eval_examples: list[dict] | None, resume: dict | None, resume_dir: Path | None, reporter: ProgressReporter, work_dir: Path, context: TrainingContext) -> dict | None:
    """Builds the stage's trainer, trains (from the checkpoint when resuming), stores adapter and manifest.

    With validation rows: the loss on them is measured before training (the base model's) and every
    eval_interval steps; training stops after early_stopping_patience evaluations without improvement,
    and the best checkpoint, not the last step, becomes the stored adapter.
    In a distributed run every rank calls this; rank 0 alone stores the outputs and returns the result
    (the others return None).
    """
    from transformers import EarlyStoppingCallback

    from .callback import TemporalTrainerCallback

    started = time.monotonic()
    store = artifact_store_from_env()
    common = common_training_arguments(hp, work_dir / "checkpoints")
    extra = {}
    if eval_examples:
        common.update(validation_arguments(hp))
        extra["eval_examples"] = eval_examples
    trainer, tokenizer = stage.build_trainer(job, hp, examples, common, store, work_dir, **extra)
    if len(trainer.train_dataset) == 0:
        # TRL drops rows whose completion is cut off entirely by max_length; retrying cannot help.
        raise typed_failure("EmptyDataset", f"none of the {len(examples)} rows keeps a trainable completion within max_length={hp.max_length} tokens", rows=len(examples))
    if eval_examples and len(trainer.eval_dataset) == 0:
        # TRL dropped every validation row (max_length cuts off its whole answer): nothing to stop on,
        # which is no reason to refuse the training itself.
        context.logger.warning(f"no validation row keeps an answer within max_length={hp.max_length}: training without early stopping")
        trainer.args.eval_strategy, trainer.args.load_best_model_at_end = "no", False
        eval_examples = None
    callback = TemporalTrainerCallback(reporter, store, context.is_cancelled)
    trainer.add_callback(callback)
    base_eval_loss = None
    if eval_examples:
        trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=hp.early_stopping_patience, early_stopping_threshold=hp.early_stopping_threshold))
        if not resume_dir:
            reporter.update(phase="evaluating")
            base_eval_loss = trainer.evaluate()["eval_loss"]
    trainer.train(resume_from_checkpoint=str(resume_dir) if resume_dir else None)
    if callback.cancelled_at_step is not None:
        # The SDK reports a cancellation without details, so the worker log is where the stopping step shows.
        message = f"training cancelled: stopped at step {trainer.state.global_step} of {hp.max_steps}, cancellation seen at step {callback.cancelled_at_step}"
        context.logger.info(message)
        raise CancelledError(message, {"cancel_seen_at_step": callback.cancelled_at_step, "stopped_at_step": trainer.state.global_step})

    reporter.update(phase="saving")
    adapter_dir = work_dir / "adapter"
    if hasattr(trainer.model, "peft_config"):
        # The loaded checkpoint is a per-data-dir cache path; name the base the way every host (and
        # vLLM's multi-LoRA serving) can resolve it, so the same training yields the same adapter bytes.
        entry = get_model(job["model_id"])
        for config in trainer.model.peft_config.values():
            config.base_model_name_or_path = entry.hf_repo or entry.id
    state_dict = _gathered_trainable_weights(trainer)
    if not trainer.is_world_process_zero():
        return None
    trainer.model.save_pretrained(adapter_dir, state_dict=state_dict)
    tokenizer.save_pretrained(adapter_dir)
    adapter = store.put_tree(adapter_dir)
    metrics = [{"step": e["step"], **{k: v for k, v in e.items() if isinstance(v, (int, float)) and k != "step"}} for e in trainer.state.log_history if "step" in e]
    losses = [m["loss"] for m in metrics if "loss" in m]
    resumed_from = resume["step"] if resume else 0
    manifest = validate("RunManifest", {
        "kind": "llmloop.training-run/v1",
        "stage": stage.name,
        "model_id": job["model_id"],
        "base_model": _base_model_description(get_model(job["model_id"])),
        "recipe": job["recipe"],
        "dataset": job["dataset"],
        **{k: job[k] for k in ("dataset_manifest", "init_adapter", "reward_model", "eval_dataset") if k in job},
        **({"validation": _validation_summary(trainer, hp, len(eval_examples), base_eval_loss)} if eval_examples else {}),
        "dataset_rows": len(examples),
        "hyperparameters": hp.model_dump(exclude_none=True),
        "config": _jsonable({
            "trainer_class": type(trainer).__name__,
            "args": trainer.args.to_dict(),
            "peft": trainer.model.peft_config["default"].to_dict() if hasattr(trainer.model, "peft_config") else None,
            "quantization": _quantization_config(trainer.model),
        }),
        "library_versions": _library_versions(),
        "metrics": _jsonable(metrics),
        "steps": trainer.state.global_step,
        "wall_seconds": round(time.monotonic() - started, 3),
        "peak_memory_gb": round(_peak_memory_gb(), 3),
        "device": _device_description(trainer),
        "attempt": context.attempt,
        "resumed_from_step": resumed_from,
        "created_at": datetime.now(timezone.utc).isoformat(),
    })
    return validate("TrainJobResult", {
        "stage": stage.name,
        "model_id": job["model_id"],
        "adapter": adapter,
        "manifest": store.put_json(manifest),
        "steps": trainer.state.global_step,
        "final_loss": losses[-1] if losses else None,
        "resumed_from_step": resumed_from,
        **({"best_eval_loss": trainer.state.best_metric} if eval_examples and trainer.state.best_metric is not None else {}),
    })


def _gathered_trainable_weights(trainer) -> dict | None:
    """Under FSDP each rank holds a shard of every weight: the adapter's (trainable) ones are gathered
    whole, every rank taking part, so rank 0 can save them. None elsewhere: the model holds them whole."""
    if not trainer.is_fsdp_enabled:
        return None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(trainer.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True))


def _device_description(trainer) -> str:
    """`cpu`, `cuda:0`; a distributed run adds its process count and accelerate's mode: `cuda:0 x8 (FSDP)`."""
    args = trainer.args
    if args.world_size == 1:
        return str(args.device)
    return f"{args.device} x{args.world_size} ({trainer.accelerator.distributed_type.value})"


def _validation_summary(trainer, hp: TrainingHyperparameters, rows: int, base_eval_loss: float | None) -> dict:
    state = trainer.state
    return {
        "rows": rows,
        "eval_every": eval_interval(hp),
        "base_eval_loss": base_eval_loss,
        "best_eval_loss": state.best_metric,
        "best_step": state.best_global_step or None,
        "stopped_early": state.global_step < hp.max_steps,
    }
