"""The Python worker's metrics interceptor reads training and evaluation figures from heartbeats."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from trainers import metrics


class _Sink:
    def heartbeat(self, *details):
        pass


def _sample(name: str, labels: dict | None = None) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
def outbound(monkeypatch):
    monkeypatch.setattr(metrics.activity, "info", lambda: SimpleNamespace(activity_type="train_sft"))
    return metrics._MetricsOutbound(_Sink())


def test_training_heartbeats_give_tokens_per_second_and_step_time(outbound):
    before_count = _sample("llmloop_training_step_seconds_count", {"activity": "train_sft"})
    before_sum = _sample("llmloop_training_step_seconds_sum", {"activity": "train_sft"})
    outbound.observe({"phase": "loading", "step": 0}, now=0.0)
    outbound.observe({"phase": "training", "step": 1, "tokens_per_second": 120.5}, now=10.0)
    outbound.observe({"phase": "training", "step": 1, "tokens_per_second": 121.0}, now=11.0)  # same step: no observation
    outbound.observe({"phase": "training", "step": 3, "tokens_per_second": 130.0}, now=14.0)
    assert _sample("llmloop_training_tokens_per_second", {"activity": "train_sft"}) == 130.0
    assert _sample("llmloop_training_step_seconds_count", {"activity": "train_sft"}) - before_count == 2
    assert _sample("llmloop_training_step_seconds_sum", {"activity": "train_sft"}) - before_sum == pytest.approx(4.0)


def test_evaluation_heartbeats_give_samples_and_rate(outbound):
    before = _sample("llmloop_evaluation_samples_total")
    outbound.observe({"model": "m", "loading": True}, now=0.0)
    outbound.observe({"model": "m", "done": 0, "of": 10}, now=5.0)
    outbound.observe({"model": "m", "done": 4, "of": 10}, now=7.0)
    outbound.observe({"model": "m", "done": 10, "of": 10}, now=8.0)
    assert _sample("llmloop_evaluation_samples_total") - before == 10
    assert _sample("llmloop_evaluation_samples_per_second") == pytest.approx(10 / 3)


def test_metrics_are_off_unless_a_port_is_set():
    assert metrics.metrics_port_from_env({}) is None
    assert metrics.metrics_port_from_env({"LLMLOOP_METRICS_PORT": "9400"}) == 9400
    with pytest.raises(ValueError):
        metrics.metrics_port_from_env({"LLMLOOP_METRICS_PORT": "70000"})
