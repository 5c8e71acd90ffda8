"""Checks a training job must pass before any model is loaded: all failures typed and non-retryable."""
from __future__ import annotations

import importlib.util
import math
import os

from ..catalog import get_model
from ..errors import typed_failure

# Chosen for the CPU fleet (SmolLM2-135M) on the visible corpus's dataset, 2026-12-06 (docs/training.md):
# max_length 1024 keeps whole 85 % of its rows (512: 66 %); SFT learning rate 1e-3 reached a lower
# validation loss than 2e-4 in the same steps; early stopping ends a run that stops helping.
HYPERPARAMETER_DEFAULTS = {
    "max_steps": 100,
    "batch_size": 2,
    "grad_accum": 1,
    "max_length": 1024,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "seed": 0,
    "checkpoint_every": 50,
    "num_generations": 4,
    "max_completion_length": 128,
    "packing": False,
    "lora_target_modules": "all-linear",
    "eval_rows": 64,
    "early_stopping_patience": 3,
    "early_stopping_threshold": 0.0,
}
LEARNING_RATE_DEFAULTS = {"sft": 1e-3, "reward": 1e-4, "grpo": 5e-6}


def hyperparameters(stage: str, given: dict | None) -> dict:
    return {**HYPERPARAMETER_DEFAULTS, "learning_rate": LEARNING_RATE_DEFAULTS[stage], **(given or {})}


def eval_interval(hp: dict) -> int:
    """Steps between validation evaluations: `eval_every`, else a tenth of the run, so every run is
    judged about ten times whatever its length."""
    return hp.get("eval_every") or max(1, math.ceil(hp["max_steps"] / 10))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def available_memory_gb() -> float:
    """Memory one job may use here: the first CUDA device's total, or the host's available RAM."""
    if _cuda_available():
        import torch

        return torch.cuda.mem_get_info(0)[1] / 1e9
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9


def qlora_unavailable_reason() -> str | None:
    """Why this worker may not run QLoRA, or None. bitsandbytes also has a CPU backend (the tests use
    it), but 4-bit training on CPU is far slower than LoRA there, so workers offer QLoRA on CUDA only."""
    if not _cuda_available():
        return "qlora needs 4-bit bitsandbytes kernels on a CUDA host; this worker has no CUDA device"
    if importlib.util.find_spec("bitsandbytes") is None:
        return "qlora needs the bitsandbytes package, which is not installed on this worker"
    return None


def check_recipe_and_memory(model_id: str, recipe: str) -> None:
    """Raises unless model_id is in the catalog, the recipe is allowed and runnable here, and its memory estimate fits."""
    entry = get_model(model_id)
    if recipe not in entry["recipes"] or recipe not in entry["memory_gb"]:
        raise typed_failure("UnsupportedRecipe", f"{model_id} does not support recipe {recipe} (catalog allows {entry['recipes']})", model_id=model_id, recipe=recipe)
    if recipe == "qlora" and (reason := qlora_unavailable_reason()):
        raise typed_failure("UnsupportedRecipe", reason, model_id=model_id, recipe=recipe)
    needed, available = entry["memory_gb"][recipe], available_memory_gb()
    if needed > available:
        raise typed_failure(
            "InsufficientGpuMemory",
            f"{model_id} {recipe} needs about {needed} GB; this worker has {available:.1f} GB",
            model_id=model_id, recipe=recipe, needed_gb=needed, available_gb=round(available, 1),
        )
