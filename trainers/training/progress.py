"""What a training activity tells Temporal while it runs, and how it picks up after a crash.

A ticker thread heartbeats the latest TrainProgress at a fixed period from the activity's first
moment: while the ML libraries import, the model loads or one slow step runs, a live job is never
mistaken for a dead one. The trainer callback (callback.py) feeds it per-step progress.

Heartbeats prove progress, not just a live thread: the phase or the step must change within
LLMLOOP_TRAIN_PROGRESS_WINDOW_SECONDS (default 900). When neither does, the ticker stops beating, so
Temporal's heartbeat timeout ends the attempt and retries it (from the last checkpoint) instead of
waiting out the 48 h start-to-close limit; the next update from the stuck code raises a retryable
TrainingStalled. A step hung for good (a stuck CUDA call) cannot be interrupted from Python: with
LLMLOOP_EXIT_ON_STALLED_TRAINING=1 (compose sets it on GPU workers) the worker process exits one more
window later, so its GPU is freed and the container restarts.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from ..artifacts import artifact_store_from_env
from ..errors import typed_failure

HEARTBEAT_PERIOD_SECONDS = 2.0
STALL_EXIT_CODE = 75  # EX_TEMPFAIL: the container's restart policy brings the worker back
_log = logging.getLogger(__name__)


def progress_window_seconds(env=os.environ) -> float:
    """How long the phase or step may stay the same before the run counts as stalled."""
    value = float(env.get("LLMLOOP_TRAIN_PROGRESS_WINDOW_SECONDS") or 900)
    if value <= HEARTBEAT_PERIOD_SECONDS:
        raise typed_failure("InvalidRequest", f"LLMLOOP_TRAIN_PROGRESS_WINDOW_SECONDS must exceed the {HEARTBEAT_PERIOD_SECONDS} s heartbeat period, got {value}")
    return value


class ProgressReporter:
    """Holds the current TrainProgress and publishes it every HEARTBEAT_PERIOD_SECONDS: as the activity's
    heartbeat, or, in a rank of a distributed run (distributed.py), into the file its activity heartbeats from."""

    def __init__(self, total_steps: int, resumed_from: dict | None, resumed_best: dict | None = None, publish: Callable[[dict], None] = activity.heartbeat):
        self._lock = threading.Lock()
        self._progress: dict = {"phase": "loading", "step": 0, "total_steps": total_steps}
        if resumed_from:
            self._progress.update(step=resumed_from["step"], checkpoint=resumed_from, resumed_from_step=resumed_from["step"])
        if resumed_best:
            self._progress.update(best_checkpoint=resumed_best)
        self._publish = publish
        self._stopped = threading.Event()
        # The heartbeat function is bound to the activity's context; the ticker thread runs inside a copy of it.
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._tick,), daemon=True)

    def __enter__(self) -> "ProgressReporter":
        self._window = progress_window_seconds()
        self._exit_on_stall = os.environ.get("LLMLOOP_EXIT_ON_STALLED_TRAINING") == "1"
        self._last_advance = time.monotonic()
        self._stalled_for: float | None = None
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def update(self, **fields) -> None:
        """Records progress. A new phase or step is an advance; anything else (loss, rates) is not."""
        self.raise_if_stalled()
        with self._lock:
            before = (self._progress.get("phase"), self._progress.get("step"))
            self._progress.update(fields)
            if (self._progress.get("phase"), self._progress.get("step")) != before:
                self._last_advance = time.monotonic()

    @contextlib.contextmanager
    def holding(self, slot: threading.Lock):
        """Holds `slot` for the block. While it waits for it the phase is `queued`, the heartbeats go on and
        the wait counts as progress (queueing is not a stall); a cancellation ends the wait."""
        if not slot.acquire(blocking=False):
            phase = self.snapshot()["phase"]
            self.update(phase="queued")
            while not slot.acquire(timeout=HEARTBEAT_PERIOD_SECONDS):
                if activity.is_cancelled():
                    raise CancelledError("training cancelled while waiting for the worker's training slot")
                with self._lock:
                    self._last_advance = time.monotonic()
            self.update(phase=phase)
        try:
            yield
        finally:
            slot.release()

    def raise_if_stalled(self) -> None:
        """A retryable TrainingStalled once the ticker gave up on this attempt (Temporal has timed it out by now)."""
        if self._stalled_for is not None:
            snapshot = self.snapshot()
            raise ApplicationError(
                f"training made no progress for {self._stalled_for:.0f} s (phase {snapshot.get('phase')}, step {snapshot.get('step')} of {snapshot.get('total_steps')}); the attempt is retried from its last checkpoint",
                {"phase": snapshot.get("phase"), "step": snapshot.get("step"), "window_seconds": self._window},
                type="TrainingStalled",
            )

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._progress)

    def beat(self) -> None:
        self._publish(self.snapshot())

    def _tick(self) -> None:
        while not self._stopped.wait(HEARTBEAT_PERIOD_SECONDS):
            idle = time.monotonic() - self._last_advance
            if idle <= self._window:
                self.beat()
                continue
            if self._stalled_for is None:
                snapshot = self.snapshot()
                _log.error("training stalled: no new phase or step for %.0f s (phase %s, step %s); heartbeats stop so Temporal retries the attempt", idle, snapshot.get("phase"), snapshot.get("step"))
            self._stalled_for = idle
            if self._exit_on_stall and idle > 2 * self._window:
                _log.critical("training still stalled after %.0f s: exiting the worker process to free its devices", idle)
                os._exit(STALL_EXIT_CODE)


def _last_heartbeat_field(name: str) -> dict | None:
    details = activity.info().heartbeat_details
    if not details or not isinstance(details[0], dict):
        return None
    return details[0].get(name)


def checkpoint_to_resume() -> dict | None:
    """The CheckpointRef in the last heartbeat of an earlier attempt, if it stored one."""
    return _last_heartbeat_field("checkpoint")


def best_checkpoint_to_resume() -> dict | None:
    """The best-validation-loss CheckpointRef in the last heartbeat of an earlier attempt (early stopping)."""
    return _last_heartbeat_field("best_checkpoint")


def restore_checkpoint(checkpoint: dict, work_dir: Path, best: dict | None = None) -> Path:
    """Unpacks a stored Trainer checkpoint where Trainer.train(resume_from_checkpoint=...) expects one.

    With early stopping, the best checkpoint is unpacked beside it and the trainer state pointed at
    it: the state names the earlier attempt's folder, which is gone (transformers would then forget
    the best and end on the last step's weights).
    """
    store = artifact_store_from_env()
    folder = store.get_tree(checkpoint["tree"], work_dir / f"checkpoint-{checkpoint['step']}")
    if best:
        best_folder = folder if best["step"] == checkpoint["step"] else store.get_tree(best["tree"], work_dir / f"checkpoint-{best['step']}")
        state_file = folder / "trainer_state.json"
        state = json.loads(state_file.read_text())
        state["best_model_checkpoint"] = str(best_folder)
        state_file.write_text(json.dumps(state))
    return folder
