"""The transformers TrainerCallback of the training activities (imports transformers, so loaded lazily).

It updates the ProgressReporter every step, stores each checkpoint as a tree artifact (keeping the
best-validation-loss one while early stopping may still return to it), and stops
the run at the first step boundary after a cancellation arrives (cancellation reaches a
thread-pool activity through its heartbeats). In a distributed run every rank runs it; rank 0 alone
stores checkpoints, once every rank has written its part.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from accelerate import PartialState
from transformers import TrainerCallback

from ..artifacts import ArtifactStore
from .progress import ProgressReporter


class TemporalTrainerCallback(TrainerCallback):
    """Per-step progress, checkpoints into the artifact store, and cooperative cancellation."""

    def __init__(self, reporter: ProgressReporter, store: ArtifactStore, is_cancelled: Callable[[], bool]):
        self.reporter = reporter
        self.store = store
        self.is_cancelled = is_cancelled
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
        if self.is_cancelled():
            self.cancelled_at_step = state.global_step
            control.should_training_stop = True
            control.should_save = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs or "learning_rate" in logs:
            self.reporter.update(loss=logs.get("loss"), learning_rate=logs.get("learning_rate"))

    def on_save(self, args, state, control, **kwargs):
        # Every rank writes its own files (RNG state, FSDP shards) into the checkpoint: store it once all have.
        PartialState().wait_for_everyone()
        if not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        checkpoint = {"step": state.global_step, "tree": self.store.put_tree(folder)}
        self.reporter.update(checkpoint=checkpoint)
        # With early stopping the best checkpoint is kept (locally and in the heartbeat) until a better one comes.
        best = Path(args.output_dir) / f"checkpoint-{state.best_global_step}" if state.best_global_step else None
        if state.best_global_step == state.global_step:
            self.reporter.update(best_checkpoint=checkpoint)
        # Beat now: a crash right after this step should resume from this checkpoint, not the one before.
        self.reporter.beat()
        for older in Path(args.output_dir).glob("checkpoint-*"):
            if older not in (folder, best):
                shutil.rmtree(older, ignore_errors=True)
