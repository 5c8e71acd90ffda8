"""Evaluation generation throughput: the evaluator's batched greedy generation against one sample at a
time, with the same model, samples and token budgets, in the same run.

    .venv/bin/python bench/eval_generation.py --sft DIR/trl/sft/validation.jsonl [--n 32] [--batch-size 8] [--threads 2]
        [--server http://127.0.0.1:8081/v1 --server-concurrency 2]

With --server, the same samples and budgets also go through that OpenAI-compatible server (e.g. the
llama.cpp model server: `node dist/serving/model-server.js --model-id smollm2-135m --threads 1 --parallel 2`).

Rows are the dataset stage's TRL SFT export (`messages`, user turn then the reference answer).
Prints one JSON line per configuration: samples/s, generated tokens/s, and whether batched outputs
equal the one-at-a-time outputs under the same budgets (greedy decoding should not depend on batching).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainers.evaluate import EndpointGenerator, Generator, TokenBudget  # noqa: E402
from trainers.models import load_model_and_tokenizer  # noqa: E402


def run(generator: Generator, conversations: list, budgets: list) -> tuple[list[dict], float]:
    started = time.perf_counter()
    records = generator.generate_all(conversations, budgets)
    return records, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sft", required=True)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fixed-tokens", type=int, default=24, help="the old evaluator's fixed budget")
    parser.add_argument("--cap", type=int, default=256)
    parser.add_argument("--server", default=None, help="OpenAI-compatible base URL serving the same model")
    parser.add_argument("--server-concurrency", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    rows = [json.loads(line) for line in Path(args.sft).read_text().splitlines() if line.strip()][: args.n]
    conversations = [[m for m in row["messages"] if m["role"] != "assistant"] for row in rows]
    references = [row["messages"][-1]["content"] for row in rows]
    model, tokenizer = load_model_and_tokenizer(args.model)
    fixed = [args.fixed_tokens] * len(rows)
    sized = Generator(model, tokenizer, TokenBudget(cap=args.cap))
    reference_sized = [sized.reference_budget(r) for r in references]
    for label, budgets in (("fixed", fixed), ("reference-sized", reference_sized)):
        results = {}
        for batch_size in (1, args.batch_size):
            records, seconds = run(Generator(model, tokenizer, TokenBudget(cap=args.cap), batch_size), conversations, budgets)
            results[batch_size] = records
            tokens = sum(r["completion_tokens"] for r in records)
            print(json.dumps({
                "budgets": label, "batch_size": batch_size, "samples": len(records), "seconds": round(seconds, 2),
                "samples_per_s": round(len(records) / seconds, 3), "generated_tokens_per_s": round(tokens / seconds, 1),
                "mean_budget": round(sum(budgets) / len(budgets), 1), "mean_completion_tokens": round(tokens / len(records), 1),
            }), flush=True)
        same = sum(a["output"] == b["output"] for a, b in zip(results[1], results[args.batch_size]))
        print(json.dumps({"budgets": label, "batched_outputs_equal_unbatched": f"{same}/{len(rows)}"}), flush=True)
        if args.server:
            endpoint = EndpointGenerator(args.server, args.model, tokenizer, TokenBudget(cap=args.cap), args.server_concurrency)
            records, seconds = run(endpoint, conversations, budgets)
            tokens = sum(r["completion_tokens"] for r in records)
            print(json.dumps({
                "budgets": label, "server": args.server, "concurrency": args.server_concurrency, "samples": len(records), "seconds": round(seconds, 2),
                "samples_per_s": round(len(records) / seconds, 3), "generated_tokens_per_s": round(tokens / seconds, 1), "mean_completion_tokens": round(tokens / len(records), 1),
                "outputs_equal_in_process": f"{sum(a['output'] == b['output'] for a, b in zip(records, results[1]))}/{len(rows)}",
            }), flush=True)


if __name__ == "__main__":
    main()
