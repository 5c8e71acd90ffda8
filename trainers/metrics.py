"""Prometheus metrics of a Python worker, on one port (LLMLOOP_METRICS_PORT; unset: off), the Node
worker's counterpart (workers/metrics.ts): llmloop's own (training tokens/s and step time, evaluation
samples/s, heartbeat timeouts seen) and the Temporal SDK's (task latencies, slots, sticky cache).

The SDK serves its metrics on a loopback port of its own; a collector re-exports them, so Prometheus
scrapes one target per worker. llmloop's figures come from what the activities already heartbeat
(TrainProgress: step, tokens_per_second; evaluation: done of of), read by a worker interceptor, so the
training and evaluation code carries no metrics code of its own.
"""
from __future__ import annotations

import os
import socket
import time
import urllib.request
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

REGISTRY = CollectorRegistry()

TRAINING_TOKENS_PER_SECOND = Gauge(
    "llmloop_training_tokens_per_second", "Input tokens per second of the running training activity, since it started", ["activity"], registry=REGISTRY
)
TRAINING_STEP_SECONDS = Histogram(
    "llmloop_training_step_seconds",
    "Wall time per optimizer step (between heartbeats that report a new step, divided by the steps between them)",
    ["activity"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
EVALUATION_SAMPLES = Counter("llmloop_evaluation_samples_total", "Samples a candidate has answered in evaluate_model", registry=REGISTRY)
EVALUATION_SAMPLES_PER_SECOND = Gauge(
    "llmloop_evaluation_samples_per_second", "Samples per second of the running evaluate_model, since its first answered batch", registry=REGISTRY
)
HEARTBEAT_TIMEOUTS = Counter(
    "llmloop_activity_heartbeat_timeouts_total",
    "Activities of this worker cancelled because the server's heartbeat timeout fired while it was still running",
    ["activity", "task_queue"],
    registry=REGISTRY,
)


def metrics_port_from_env(env: Any = os.environ) -> int | None:
    """The port from LLMLOOP_METRICS_PORT, or None when metrics are off."""
    value = env.get("LLMLOOP_METRICS_PORT")
    if not value:
        return None
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(f"LLMLOOP_METRICS_PORT must be a port number, got {value}")
    return port


def start_worker_metrics(port: int, host: str | None = None) -> int:
    """Makes the SDK export Prometheus metrics (the default Runtime, so call it before any client
    connects) and serves both kinds at /metrics on `port` (0: any free port). Returns the port."""
    sdk_address = f"127.0.0.1:{_free_port()}"
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=sdk_address))), error_if_already_set=True)
    REGISTRY.register(_SdkMetrics(sdk_address))
    server, _thread = start_http_server(port, addr=host or os.environ.get("LLMLOOP_METRICS_HOST") or "0.0.0.0", registry=REGISTRY)
    return server.server_port


class _SdkMetrics:
    """The SDK exporter's metric families, read at each scrape (none until the first worker poll)."""

    def __init__(self, address: str):
        self._url = f"http://{address}/metrics"

    def describe(self) -> list:
        # Families appear as the SDK records them; an empty description keeps registration from scraping.
        return []

    def collect(self):
        try:
            with urllib.request.urlopen(self._url, timeout=5) as response:
                text = response.read().decode("utf-8")
        except OSError:
            return
        yield from text_string_to_metric_families(text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MetricsInterceptor(Interceptor):
    """Reads llmloop's figures from the heartbeats activities send, and counts heartbeat timeouts."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _MetricsInbound(next)


class _MetricsInbound(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        super().init(_MetricsOutbound(outbound))

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except BaseException:
            details = activity.cancellation_details()
            if details is not None and details.timed_out:
                info = activity.info()
                HEARTBEAT_TIMEOUTS.labels(info.activity_type, info.task_queue).inc()
            raise


class _MetricsOutbound(ActivityOutboundInterceptor):
    """One per activity execution: remembers the last training step and evaluation count it saw."""

    def __init__(self, next: ActivityOutboundInterceptor):
        super().__init__(next)
        self._last_step: tuple[int, float] | None = None
        self._evaluation_start: tuple[int, float] | None = None
        self._evaluated = 0

    def heartbeat(self, *details: Any) -> None:
        if details and isinstance(details[0], dict):
            self.observe(details[0], time.monotonic())
        super().heartbeat(*details)

    def observe(self, beat: dict, now: float) -> None:
        name = activity.info().activity_type
        if beat.get("tokens_per_second"):
            TRAINING_TOKENS_PER_SECOND.labels(name).set(beat["tokens_per_second"])
        step = beat.get("step")
        if isinstance(step, int) and beat.get("phase") == "training" and (self._last_step is None or step != self._last_step[0]):
            if self._last_step is not None and step > self._last_step[0]:
                steps = step - self._last_step[0]
                for _ in range(steps):
                    TRAINING_STEP_SECONDS.labels(name).observe((now - self._last_step[1]) / steps)
            self._last_step = (step, now)
        done = beat.get("done")
        if isinstance(done, int) and "of" in beat:
            EVALUATION_SAMPLES.inc(max(0, done - self._evaluated))
            self._evaluated = max(self._evaluated, done)
            if self._evaluation_start is None:
                self._evaluation_start = (done, now)
            elif now > self._evaluation_start[1]:
                EVALUATION_SAMPLES_PER_SECOND.set((done - self._evaluation_start[0]) / (now - self._evaluation_start[1]))
