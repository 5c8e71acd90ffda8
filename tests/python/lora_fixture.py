"""A small real PEFT LoRA adapter on SmolLM2-135M for evaluation tests, stored as an artifact tree.

`python -m tests.python.lora_fixture` prints the adapter's ArtifactRef as JSON (the integration
test of evaluateFleet calls it). The LoRA weights are randomly initialised rather than zero, so the
adapter measurably changes the model's outputs without a training run.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

BASE_MODEL = "smollm2-135m"


def make_lora_adapter(seed: int = 0) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    from trainers.artifacts import LocalArtifactStore
    from trainers.models import load_model_and_tokenizer

    torch.manual_seed(seed)
    model, tokenizer = load_model_and_tokenizer(BASE_MODEL)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False, task_type="CAUSAL_LM")
    adapted = get_peft_model(model, config)
    with tempfile.TemporaryDirectory() as folder:
        adapted.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return LocalArtifactStore.from_env().put_tree(Path(folder))


if __name__ == "__main__":
    print(json.dumps(make_lora_adapter()))
