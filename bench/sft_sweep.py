"""One short SFT run of a hyperparameter sweep on a built dataset: the train_sft activity itself (in the
SDK's ActivityEnvironment), validation loss every 10 steps on the validation export, early stopping
off. Prints one JSON line: the validation-loss curve, best step and wall time.

    LLMLOOP_DATA_DIR=/tmp/hp/data .venv/bin/python bench/sft_sweep.py --dataset DIR --learning-rate 1e-3 [--lora-r 16] [--max-length 1024] [--steps 30] [--eval-rows 16]

DIR is `llmloop dataset build --out DIR` (its trl/sft/train.jsonl and validation.jsonl).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from temporalio.testing import ActivityEnvironment  # noqa: E402

from trainers.artifacts import artifact_store_from_env  # noqa: E402
from trainers.training.activities import train_sft  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--eval-rows", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    store = artifact_store_from_env()
    export = lambda split: store.put((Path(args.dataset) / "trl" / "sft" / f"{split}.jsonl").read_text(), "application/jsonl")
    hp = {
        "max_steps": args.steps, "learning_rate": args.learning_rate, "lora_r": args.lora_r, "lora_alpha": 2 * args.lora_r,
        "max_length": args.max_length, "batch_size": 2, "threads": args.threads, "seed": 0,
        "eval_every": 10, "eval_rows": args.eval_rows, "early_stopping_patience": args.steps,
    }
    started = time.time()
    job = {"model_id": args.model, "recipe": "lora", "dataset": export("train"), "eval_dataset": export("validation"), "hyperparameters": hp}
    result = ActivityEnvironment().run(train_sft, job)
    manifest = store.get_json(result["manifest"])
    print(json.dumps({
        **{k: hp[k] for k in ("learning_rate", "lora_r", "max_length", "max_steps")},
        "validation": manifest["validation"],
        "eval_loss": {m["step"]: m["eval_loss"] for m in manifest["metrics"] if "eval_loss" in m},
        "wall_seconds": round(time.time() - started),
    }))


if __name__ == "__main__":
    main()
