"""Small real PEFT LoRA adapters on SmolLM2-135M for evaluation tests, stored as artifact trees.

`python -m tests.python.lora_fixture` prints the policy adapter's ArtifactRef as JSON (the integration
test of evaluateFleet calls it). The LoRA weights are randomly initialised rather than zero, so an
adapter measurably changes the model's outputs without a training run.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

BASE_MODEL = "smollm2-135m"


def _random_lora(model, tokenizer, task_type: str, seed: int) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    from trainers.artifacts import artifact_store_from_env

    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False, task_type=task_type)
    adapted = get_peft_model(model, config)
    with tempfile.TemporaryDirectory() as folder:
        adapted.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return artifact_store_from_env().put_tree(Path(folder))


def make_lora_adapter(seed: int = 0) -> dict:
    """A causal-LM (policy) adapter, as train_sft stores one."""
    from trainers.models import load_model_and_tokenizer

    return _random_lora(*load_model_and_tokenizer(BASE_MODEL), "CAUSAL_LM", seed)


def make_reward_adapter(seed: int = 0) -> dict:
    """A reward adapter with its scalar score head (PEFT saves the head for SEQ_CLS), as train_reward stores one."""
    from trainers.models import load_reward_model

    return _random_lora(*load_reward_model(BASE_MODEL, for_training=True), "SEQ_CLS", seed)


if __name__ == "__main__":
    print(json.dumps(make_lora_adapter()))
