"""Rule-based GRPO rewards per task type, each in [0, 1]. Plain functions: tested without a model.

Chinese has no spaces, so text is compared as CJK characters plus lower-cased latin words.
"""
from __future__ import annotations

import re
from collections import Counter

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[0-9a-z]+", re.IGNORECASE)
_TEMPLATE_LEAK = re.compile(r"<\|[a-z_]+\|>|<\|im_start\|>|<\|im_end\|>")


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def overlap_f1(candidate: str, reference: str) -> float:
    """Unigram F1 between candidate and reference (ROUGE-1 F)."""
    cand, ref = Counter(tokens(candidate)), Counter(tokens(reference))
    common = sum((cand & ref).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(cand.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def predicted_labels(completion: str, allowed: list[str]) -> set[str]:
    """The allowed labels the completion names (case-insensitive, whole words for latin labels)."""
    found = set()
    lowered = completion.lower()
    for label in allowed:
        needle = label.lower()
        if re.search(rf"(?<![0-9a-z]){re.escape(needle)}(?![0-9a-z])", lowered):
            found.add(label)
    return found


def label_f1(completion: str, allowed: list[str], gold: list[str]) -> float:
    predicted, expected = predicted_labels(completion, allowed), set(gold)
    if not predicted or not expected:
        return 0.0
    hits = len(predicted & expected)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(expected)
    return 2 * precision * recall / (precision + recall)


def format_ok(completion: str, task_type: str, allowed: list[str]) -> float:
    """1 when the answer is non-empty, leaks no template tokens and (classification) names only allowed labels."""
    text = completion.strip()
    if not text or _TEMPLATE_LEAK.search(text):
        return 0.0
    if task_type == "classification" and allowed and not predicted_labels(text, allowed):
        return 0.0
    return 1.0


def task_reward(completion: str, task_type: str, reference: str, labels: list[str], answer_labels: list[str]) -> float:
    """Correctness for the task type, gated by the format check."""
    if format_ok(completion, task_type, labels) == 0.0:
        return 0.0
    if task_type == "classification" and answer_labels:
        return label_f1(completion, labels, answer_labels)
    if reference:
        return overlap_f1(completion, reference)
    return 1.0


def completion_text(completion) -> str:
    """TRL hands conversational completions as message lists, standard ones as strings."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion)


def rule_rewards(prompts, completions, task_type, reference, labels, answer_labels, **_trl_kwargs) -> list[float]:
    """GRPOTrainer reward function: one score per completion from the row's own columns."""
    return [
        task_reward(completion_text(c), t, r, ls, gold)
        for c, t, r, ls, gold in zip(completions, task_type, reference, labels, answer_labels, strict=True)
    ]
