"""Reading a TRL JSONL export from the artifact store into rows a TRL trainer takes.

Every row is checked against its schema before any model is loaded, so a bad export costs
milliseconds, not a GPU allocation. Plain-string prompts/completions become chat turns: the
trainers then always go through the model's own chat template, the one serving will apply.
"""
from __future__ import annotations

import json

from ..artifacts import artifact_store_from_env
from ..errors import invalid_payload, typed_failure
from ..jsonl import jsonl_lines
from ..schemas import schema_problems
from .rewards import predicted_labels


def read_jsonl_rows(ref: dict, row_type: str) -> list[dict]:
    """The rows of the JSONL artifact `ref`, each valid against schema `row_type`.

    Raises ArtifactNotFound, SchemaValidationError (with line numbers) or EmptyDataset.
    """
    raw = artifact_store_from_env().get(ref)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise invalid_payload(row_type, [f"dataset is not UTF-8: {err}"]) from err
    rows, problems = [], []
    for number, line in jsonl_lines(text):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"line {number}: not JSON ({err.msg})")
            continue
        problems.extend(f"line {number}{p}" for p in schema_problems(row_type, row))
        rows.append(row)
    if problems:
        raise invalid_payload(row_type, problems)
    if not rows:
        raise typed_failure("EmptyDataset", f"dataset {ref['sha256'][:12]} has no {row_type} rows", dataset=ref)
    return rows


def _turns(value, role: str) -> list[dict]:
    return [{"role": role, "content": value}] if isinstance(value, str) else [{"role": m["role"], "content": m["content"]} for m in value]


def _prompt_turns(row: dict) -> list[dict]:
    turns = _turns(row["prompt"], "user")
    system = row.get("system")
    if isinstance(system, str) and system and turns[0]["role"] != "system":
        turns.insert(0, {"role": "system", "content": system})
    return turns


def sft_example(row: dict) -> dict:
    """Conversational SFT example as prompt/completion turns, so the loss is on the answer only.

    A `messages` row ending in an assistant turn (what the dataset stage exports) is split there:
    the prompt turns are mostly document text the model is not meant to learn to write, and on
    long chunks they would outweigh the answer's tokens in the loss many times over. Other
    `messages` rows train on the whole conversation.
    """
    if "messages" in row:
        turns = _turns(row["messages"], "user")
        if len(turns) > 1 and turns[-1]["role"] == "assistant":
            return {"prompt": turns[:-1], "completion": turns[-1:]}
        return {"messages": turns}
    return {"prompt": _prompt_turns(row), "completion": _turns(row["completion"], "assistant")}


def preference_example(row: dict) -> dict:
    return {"prompt": _prompt_turns(row), "chosen": _turns(row["chosen"], "assistant"), "rejected": _turns(row["rejected"], "assistant")}


def grpo_example(row: dict) -> dict:
    """Prompt turns plus the columns the rule-based rewards read (TRL passes extra columns to them).

    A classification row names its correct labels in the reference answer when it has no answer_labels.
    """
    reference, labels = row.get("reference_answer") or "", list(row.get("labels") or [])
    answer_labels = row.get("answer_labels") or sorted(predicted_labels(reference, labels))
    return {"prompt": _prompt_turns(row), "task_type": row["task_type"], "reference": reference, "labels": labels, "answer_labels": list(answer_labels)}
