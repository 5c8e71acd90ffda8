"""trainers/training/progress.py: heartbeats prove that training advances, and a stalled run stops beating."""

from __future__ import annotations

import time

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from trainers.training import progress
from trainers.training.progress import ProgressReporter

PERIOD = 0.05
WINDOW = 0.4


@pytest.fixture(autouse=True)
def fast_clock(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_PERIOD_SECONDS", PERIOD)
    monkeypatch.setenv("LLMLOOP_TRAIN_PROGRESS_WINDOW_SECONDS", str(WINDOW))
    monkeypatch.delenv("LLMLOOP_EXIT_ON_STALLED_TRAINING", raising=False)


def run_with_heartbeats(body):
    beats: list[tuple[float, dict]] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append((time.monotonic(), details[0]))
    env.run(body)
    return beats


def test_advancing_steps_keep_heartbeating_past_the_window():
    def train():
        with ProgressReporter(total_steps=20, resumed_from=None) as reporter:
            reporter.update(phase="training")
            for step in range(1, 21):
                time.sleep(WINDOW / 4)
                reporter.update(step=step, loss=1.0 / step)

    beats = run_with_heartbeats(train)
    # 2 s of training, five windows long: beats all the way, and they carry the advancing step.
    assert beats[-1][0] - beats[0][0] > 4 * WINDOW
    steps = [details["step"] for _, details in beats]
    assert steps == sorted(steps) and steps[-1] >= 19


def test_a_stalled_step_stops_the_heartbeats_and_fails_retryably():
    outcome: dict = {}

    def train():
        with ProgressReporter(total_steps=10, resumed_from=None) as reporter:
            reporter.update(phase="training", step=3)
            stalled_at = time.monotonic()
            # The step hangs: only the loss changes (what a stuck loop would still report), never the step.
            while time.monotonic() - stalled_at < 3 * WINDOW:
                time.sleep(PERIOD)
                if reporter._stalled_for is None:
                    reporter.update(loss=0.5)
            outcome["stalled_at"] = stalled_at
            with pytest.raises(ApplicationError) as stalled:
                reporter.update(step=4)
            outcome["error"] = stalled.value

    beats = run_with_heartbeats(train)
    last_beat = beats[-1][0] - outcome["stalled_at"]
    # Heartbeats went on while the step could still advance, then stopped for good: Temporal's heartbeat timeout takes over.
    assert WINDOW - 2 * PERIOD <= last_beat <= 2 * WINDOW
    assert beats[-1][1]["step"] == 3
    error = outcome["error"]
    assert error.type == "TrainingStalled" and not error.non_retryable
    assert "step 3 of 10" in str(error)


def test_a_new_phase_counts_as_progress_and_the_window_must_exceed_the_period(monkeypatch):
    def phases():
        with ProgressReporter(total_steps=5, resumed_from=None) as reporter:
            for phase in ("loading", "evaluating", "training", "saving"):
                reporter.update(phase=phase)
                time.sleep(WINDOW * 0.6)

    beats = run_with_heartbeats(phases)
    assert beats[-1][1]["phase"] == "saving"
    monkeypatch.setenv("LLMLOOP_TRAIN_PROGRESS_WINDOW_SECONDS", "1")
    monkeypatch.setattr(progress, "HEARTBEAT_PERIOD_SECONDS", 2.0)
    with pytest.raises(ApplicationError, match="must exceed"):
        ActivityEnvironment().run(lambda: ProgressReporter(total_steps=1, resumed_from=None).__enter__())


def test_waiting_for_the_training_slot_is_queued_not_stalled():
    import threading

    slot = threading.Lock()
    slot.acquire()  # another training holds the worker's slot for three progress windows
    threading.Timer(3 * WINDOW, slot.release).start()

    def train():
        with ProgressReporter(total_steps=5, resumed_from=None) as reporter, reporter.holding(slot):
            assert reporter.snapshot()["phase"] == "loading"  # back to where it was once it holds the slot
            reporter.update(phase="training", step=1)
            time.sleep(3 * PERIOD)

    beats = run_with_heartbeats(train)
    phases = [details["phase"] for _, details in beats]
    # Heartbeats never stopped while it queued (three windows: a stall would have stopped them after one).
    assert phases.count("queued") >= int(2 * WINDOW / PERIOD)
    assert phases[-1] == "training"
    assert not slot.locked()
