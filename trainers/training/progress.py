"""What a training activity tells Temporal while it runs, and how it picks up after a crash.

A ticker thread heartbeats the latest TrainProgress at a fixed period (also while the model loads
or one slow step runs, so a live job is never mistaken for a dead one); the trainer callback
updates that progress every step, stores each checkpoint as a tree artifact, and stops the run
at the first step boundary after a cancellation arrives (cancellation reaches a thread-pool
activity through its heartbeats).
"""
from __future__ import annotations

import contextvars
import shutil
import threading
import time
from pathlib import Path

from temporalio import activity
from transformers import TrainerCallback

from ..artifacts import LocalArtifactStore

HEARTBEAT_PERIOD_SECONDS = 2.0


class ProgressReporter:
    """Holds the current TrainProgress and heartbeats it every HEARTBEAT_PERIOD_SECONDS."""

    def __init__(self, total_steps: int, resumed_from: dict | None):
        self._lock = threading.Lock()
        self._progress: dict = {"phase": "loading", "step": 0, "total_steps": total_steps}
        if resumed_from:
            self._progress.update(step=resumed_from["step"], checkpoint=resumed_from, resumed_from_step=resumed_from["step"])
        self._stopped = threading.Event()
        # The heartbeat function is bound to the activity's context; the ticker thread runs inside a copy of it.
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._tick,), daemon=True)

    def __enter__(self) -> "ProgressReporter":
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def update(self, **fields) -> None:
        with self._lock:
            self._progress.update(fields)

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._progress)

    def beat(self) -> None:
        activity.heartbeat(self.snapshot())

    def _tick(self) -> None:
        while not self._stopped.wait(HEARTBEAT_PERIOD_SECONDS):
            self.beat()


def checkpoint_to_resume() -> dict | None:
    """The CheckpointRef in the last heartbeat of an earlier attempt, if it stored one."""
    details = activity.info().heartbeat_details
    if not details or not isinstance(details[0], dict):
        return None
    return details[0].get("checkpoint")


def restore_checkpoint(checkpoint: dict, work_dir: Path) -> Path:
    """Unpacks a stored Trainer checkpoint where Trainer.train(resume_from_checkpoint=...) expects one."""
    return LocalArtifactStore.from_env().get_tree(checkpoint["tree"], work_dir / f"checkpoint-{checkpoint['step']}")


class TemporalTrainerCallback(TrainerCallback):
    """Per-step progress, checkpoints into the artifact store, and cooperative cancellation."""

    def __init__(self, reporter: ProgressReporter, store: LocalArtifactStore):
        self.reporter = reporter
        self.store = store
        self.cancelled_at_step: int | None = None
        self._started = time.monotonic()
        self._first_step: int | None = None
        self._tokens_at_start = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._started = time.monotonic()
        self._first_step = state.global_step
        self._tokens_at_start = state.num_input_tokens_seen or 0
        self.reporter.update(phase="training", step=state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        elapsed = max(time.monotonic() - self._started, 1e-9)
        done_here = state.global_step - (self._first_step or 0)
        tokens = (state.num_input_tokens_seen or 0) - self._tokens_at_start
        remaining = state.max_steps - state.global_step
        self.reporter.update(
            step=state.global_step,
            tokens_per_second=round(tokens / elapsed, 2) if tokens else None,
            eta_seconds=round(remaining * elapsed / done_here, 1) if done_here else None,
        )
        if activity.is_cancelled():
            self.cancelled_at_step = state.global_step
            control.should_training_stop = True
            control.should_save = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs or "learning_rate" in logs:
            self.reporter.update(loss=logs.get("loss"), learning_rate=logs.get("learning_rate"))

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        tree = self.store.put_tree(folder)
        self.reporter.update(checkpoint={"step": state.global_step, "tree": tree})
        # Beat now: a crash right after this step should resume from this checkpoint, not the one before.
        self.reporter.beat()
        for older in Path(args.output_dir).glob("checkpoint-*"):
            if older != folder:
                shutil.rmtree(older, ignore_errors=True)
