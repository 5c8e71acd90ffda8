"""What a training activity tells Temporal while it runs, and how it picks up after a crash.

A ticker thread heartbeats the latest TrainProgress at a fixed period from the activity's first
moment: while the ML libraries import, the model loads or one slow step runs, a live job is never
mistaken for a dead one. The trainer callback (callback.py) feeds it per-step progress.
"""
from __future__ import annotations

import contextvars
import json
import threading
from pathlib import Path

from temporalio import activity

from ..artifacts import artifact_store_from_env

HEARTBEAT_PERIOD_SECONDS = 2.0


class ProgressReporter:
    """Holds the current TrainProgress and heartbeats it every HEARTBEAT_PERIOD_SECONDS."""

    def __init__(self, total_steps: int, resumed_from: dict | None, resumed_best: dict | None = None):
        self._lock = threading.Lock()
        self._progress: dict = {"phase": "loading", "step": 0, "total_steps": total_steps}
        if resumed_from:
            self._progress.update(step=resumed_from["step"], checkpoint=resumed_from, resumed_from_step=resumed_from["step"])
        if resumed_best:
            self._progress.update(best_checkpoint=resumed_best)
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
