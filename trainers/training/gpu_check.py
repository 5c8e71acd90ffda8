"""`scripts/gpu-check`: times the train_sft activity on this host and prints one JSON line."""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform

from temporalio.testing import ActivityEnvironment

from ..artifacts import artifact_store_from_env
from ..config import gpu_task_queue
from .activities import train_sft


def synthetic_rows(count: int, words: int) -> list[dict]:
    """Fixed prompt/completion pairs long enough to fill the sequence budget."""
    filler = " ".join(f"item{j}" for j in range(words))
    return [{"prompt": f"Summarise record {i}: {filler}", "completion": f"Record {i} lists {words} items, from item0 to item{words - 1}."} for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-id", default="smollm2-135m")
    parser.add_argument("--recipe", default="lora", choices=["lora", "qlora"])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--threads", type=int, help="torch CPU threads (CPU hosts only; default all)")
    parser.add_argument("--gpu-class", help="run as this catalog class's worker: a multi-GPU class trains through accelerate launch on its gpu_count devices")
    args = parser.parse_args()

    import torch

    store = artifact_store_from_env()
    rows = synthetic_rows(64, args.seq_len // 8)  # ~3 tokens a word: the prompt fills about 3/8 of the budget
    dataset = store.put("\n".join(json.dumps(r) for r in rows), "application/jsonl")
    beats: list[dict] = []
    env = ActivityEnvironment()
    if args.gpu_class:
        env.info = dataclasses.replace(env.info, task_queue=gpu_task_queue(args.gpu_class))
    env.on_heartbeat = lambda *details: beats.append(details[0])
    hyperparameters = {"max_steps": args.steps, "batch_size": args.batch_size, "max_length": args.seq_len, "checkpoint_every": args.steps}
    if args.threads:
        hyperparameters["threads"] = args.threads
    result = env.run(train_sft, {"model_id": args.model_id, "recipe": args.recipe, "dataset": dataset, "hyperparameters": hyperparameters})
    manifest = store.get_json(result["manifest"])
    tokens_per_second = next((b["tokens_per_second"] for b in reversed(beats) if b.get("tokens_per_second")), None)
    print(json.dumps({
        "model_id": args.model_id,
        "recipe": args.recipe,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})",
        "run": manifest["device"],
        "steps": result["steps"],
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "tokens_per_second": tokens_per_second,
        "peak_memory_gb": manifest["peak_memory_gb"],
        "wall_seconds": manifest["wall_seconds"],
        "final_loss": result["final_loss"],
    }))


if __name__ == "__main__":
    main()
