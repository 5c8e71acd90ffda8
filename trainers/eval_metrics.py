"""Per-task-type scoring of model outputs against references, with bootstrap confidence intervals.

Scores come from maintained libraries: sacrebleu (BLEU, `tokenize='zh'` for Chinese), rouge-score
(ROUGE-L and ROUGE-1, with a script-aware tokenizer: its default one drops every non-Latin
character, which scored every Korean, Russian or Chinese answer 0 whatever the document's language
tag said) and scikit-learn (micro/macro F1 over the explicit label list).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

TEXT_GENERATION_TYPES = ("summary", "rewrite")
ANSWER_TYPES = ("reasoning", "ranking")


class ScriptAwareTokenizer:
    """rouge-score tokenizer for every script: `text_tokens` (lower-cased words, each CJK character a
    token), with rouge-score's Porter stemming of longer ASCII words so English scores are unchanged."""

    def __init__(self):
        from rouge_score.tokenizers import DefaultTokenizer

        self._stem = DefaultTokenizer(use_stemmer=True).tokenize

    def tokenize(self, text: str) -> list[str]:
        return [self._stem(token)[0] if token.isascii() and len(token) > 3 else token for token in text_tokens(text)]


@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rougeL"], tokenizer=ScriptAwareTokenizer())


def rouge(hypothesis: str, reference: str) -> dict[str, float]:
    """ROUGE-L and ROUGE-1 F; the tokenizer reads the script itself (documents mix languages, tags can be wrong)."""
    scores = _rouge_scorer().score(reference, hypothesis)
    return {"rouge_l": scores["rougeL"].fmeasure, "rouge_1": scores["rouge1"].fmeasure}


def sentence_bleu(hypothesis: str, reference: str, language: str) -> float:
    """sacrebleu sentence BLEU (exponential smoothing) scaled to [0, 1]."""
    import sacrebleu

    return sacrebleu.sentence_bleu(hypothesis, [reference], tokenize="zh" if language == "zh" else "13a").score / 100.0


def normalise_answer(text: str) -> str:
    """NFKC, lower case, punctuation dropped, whitespace collapsed: 'The answer: 42.' == 'the answer 42'."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def labels_in(text: str, labels: Sequence[str]) -> list[str]:
    """The labels of the explicit label list that the text names (case-insensitive), in list order."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    return [label for label in labels if unicodedata.normalize("NFKC", label).lower() in lowered]


@dataclass
class SampleScore:
    """Scores of one output. `quality` is the per-sample primary score the cell's quality averages."""

    quality: float
    metrics: dict[str, float] = field(default_factory=dict)
    predicted_labels: list[str] | None = None
    gold_labels: list[str] | None = None


def text_tokens(text: str) -> list[str]:
    """scripts/score-corpus.ts's tokens: lower-cased words, each CJK character a token."""
    return re.findall(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", text.lower())


def text_token_f1(predicted: str, truth: str) -> float:
    """Bag-of-tokens F1 of a text read back (parsed, OCR'd) against the text it should be."""
    p, t = Counter(text_tokens(predicted)), Counter(text_tokens(truth))
    overlap = sum((p & t).values())
    return 0.0 if not overlap else 2 * overlap / (sum(p.values()) + sum(t.values()))


def score_sample(task: dict, output: str) -> SampleScore:
    """Scores one model output against the task's reference, by task type."""
    task_type, language, reference = task["task_type"], task["language"], task["reference"]
    if task_type == "classification":
        labels = task.get("labels") or []
        gold, predicted = labels_in(reference, labels), labels_in(output, labels)
        match = float(set(gold) == set(predicted) and bool(gold))
        return SampleScore(quality=match, metrics={"label_exact_match": match}, predicted_labels=predicted, gold_labels=gold)
    overlap = rouge(output, reference)
    if task_type in TEXT_GENERATION_TYPES:
        return SampleScore(quality=overlap["rouge_l"], metrics={"rouge_l": overlap["rouge_l"], "bleu": sentence_bleu(output, reference, language)})
    exact = float(normalise_answer(output) == normalise_answer(reference))
    # ROUGE-1 F is the token-overlap F1 of SQuAD-style answer scoring (characters for Chinese).
    return SampleScore(quality=overlap["rouge_1"], metrics={"exact_match": exact, "token_f1": overlap["rouge_1"]})


def classification_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]) -> dict[str, float]:
    """Micro and macro F1 over the explicit label list (multi-label indicator matrices, scikit-learn)."""
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer(classes=list(labels))
    y_true, y_pred = binarizer.fit_transform(gold), binarizer.transform(predicted)
    return {
        "f1_micro": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def bootstrap(n: int, statistic: Callable[[np.ndarray], float], resamples: int, rng: np.random.Generator) -> dict:
    """Percentile bootstrap 95% interval of statistic(indices) over n samples resampled with replacement."""
    point = statistic(np.arange(n))
    if n < 2:
        return {"mean": point, "ci_low": point, "ci_high": point, "n": n}
    draws = np.array([statistic(rng.integers(0, n, n)) for _ in range(resamples)])
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"mean": point, "ci_low": float(min(low, point)), "ci_high": float(max(high, point)), "n": n}


def cell_metrics(tasks: Sequence[dict], scores: Sequence[SampleScore], resamples: int, seed: int) -> tuple[dict, dict]:
    """(quality estimate, {metric: estimate}) of one cluster x model cell, every one with a bootstrap CI."""
    rng = np.random.default_rng(seed)
    quality = np.array([s.quality for s in scores], dtype=float)
    quality_estimate = bootstrap(len(scores), lambda idx: float(quality[idx].mean()), resamples, rng)
    metrics: dict[str, dict] = {}
    names = sorted({name for s in scores for name in s.metrics})
    for name in names:
        values = np.array([s.metrics[name] for s in scores if name in s.metrics], dtype=float)
        metrics[name] = bootstrap(len(values), lambda idx, v=values: float(v[idx].mean()), resamples, rng)
    classified = [(t, s) for t, s in zip(tasks, scores) if t["task_type"] == "classification"]
    if classified:
        label_list = sorted({label for t, _ in classified for label in t.get("labels") or []})
        gold = [s.gold_labels or [] for _, s in classified]
        predicted = [s.predicted_labels or [] for _, s in classified]
        for name in ("f1_micro", "f1_macro"):
            metrics[name] = bootstrap(
                len(classified),
                lambda idx, name=name: classification_f1([gold[i] for i in idx], [predicted[i] for i in idx], label_list)[name],
                resamples,
                rng,
            )
    return quality_estimate, metrics
