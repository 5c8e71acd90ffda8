"""Checks a training job must pass before any model is loaded: all failures typed and non-retryable."""
from __future__ import annotations

import importlib.util
import math

from ..catalog import get_model
from ..errors import typed_failure
from ..generated.models import TRAINING_HYPERPARAMETERS_DEFAULTS_BY_STAGE, TrainingHyperparameters
from ..schemas import parse


def hyperparameters(stage: str, given: dict | None) -> TrainingHyperparameters:
    """What the job gives, else the defaults of schemas/training.schema.json (the learning rate's per stage)."""
    return parse(TrainingHyperparameters, {**TRAINING_HYPERPARAMETERS_DEFAULTS_BY_STAGE[stage], **(given or {})})


def eval_interval(hp: TrainingHyperparameters) -> int:
    """Steps between validation evaluations: `eval_every`, else a tenth of the run, so every run is
    judged about ten times whatever its length."""
    return hp.eval_every or max(1, math.ceil(hp.max_steps / 10))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _cuda_device_count() -> int:
    import torch

    return torch.cuda.device_count()


def available_memory_gb(devices: int = 1) -> float:
    """Memory one job may use here: the total of the CUDA devices it trains on (FSDP shards the job
    across them), or the host's available RAM (which a CPU run's processes share)."""
    if _cuda_available():
        import torch

        return sum(torch.cuda.mem_get_info(index)[1] for index in range(min(devices, torch.cuda.device_count()))) / 1e9
    import psutil

    # MemAvailable: free pages plus the page cache the kernel gives back on demand (free pages alone
    # refused SmolLM2's 2 GB on a host with 12 GB available, most of it cache).
    return psutil.virtual_memory().available / 1e9


def qlora_unavailable_reason() -> str | None:
    """Why this worker may not run QLoRA, or None. bitsandbytes also has a CPU backend (the tests use
    it), but 4-bit training on CPU is far slower than LoRA there, so workers offer QLoRA on CUDA only."""
    if not _cuda_available():
        return "qlora needs 4-bit bitsandbytes kernels on a CUDA host; this worker has no CUDA device"
    if importlib.util.find_spec("bitsandbytes") is None:
        return "qlora needs the bitsandbytes package, which is not installed on this worker"
    return None


def check_recipe_and_memory(model_id: str, recipe: str, devices: int = 1) -> None:
    """Raises unless model_id is in the catalog, the recipe is allowed and runnable here, and its memory
    estimate fits the `devices` this worker's GPU class trains on."""
    entry = get_model(model_id)
    needed = getattr(entry.memory_gb, recipe, None)
    if recipe not in entry.recipes or needed is None:
        raise typed_failure("UnsupportedRecipe", f"{model_id} does not support recipe {recipe} (catalog allows {entry.recipes})", model_id=model_id, recipe=recipe)
    if recipe == "qlora" and (reason := qlora_unavailable_reason()):
        raise typed_failure("UnsupportedRecipe", reason, model_id=model_id, recipe=recipe)
    if _cuda_available() and (visible := _cuda_device_count()) < devices:
        raise typed_failure("InsufficientGpuMemory", f"this worker serves a {devices}-GPU class but sees {visible} CUDA devices", model_id=model_id, recipe=recipe, devices=devices, visible_devices=visible)
    available = available_memory_gb(devices)
    if needed > available:
        raise typed_failure(
            "InsufficientGpuMemory",
            f"{model_id} {recipe} needs about {needed} GB; this worker has {available:.1f} GB",
            model_id=model_id, recipe=recipe, needed_gb=needed, available_gb=round(available, 1),
        )
