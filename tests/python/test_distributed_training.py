"""Training on a multi-GPU class: the activity launches the stage through `accelerate launch`, one process
per device. On CPU accelerate has no FSDP, so the same launch runs 2 data-parallel gloo processes; the
launcher, progress, checkpoints, cancellation and resume are the code a GPU class runs.

The runs (real SFT of SmolLM2-135M, 2 processes, 4 steps) take about 4 minutes on the shared 2-core
host, so they run under `make test-distributed` (LLMLOOP_DISTRIBUTED_TESTS=1), not `make test`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment

from trainers.artifacts import artifact_store_from_env
from trainers.config import REPO_ROOT, data_dir, gpu_task_queue
from trainers.schemas import schema_problems
from trainers.training.activities import train_sft
from trainers.training.distributed import accelerate_launch_arguments
from trainers.training.preflight import check_recipe_and_memory

runs = pytest.mark.skipif(not os.environ.get("LLMLOOP_DISTRIBUTED_TESTS"), reason="minutes of 2-process training: make test-distributed")

CODEWORDS = ["zebrafruit", "moonlamp", "copperowl", "glasstide"]
# Per process 2 rows a step: the two processes see the 4 rows once per step.
PLAN = {"batch_size": 2, "max_length": 64, "threads": 1, "seed": 7, "max_steps": 4, "learning_rate": 3e-3, "checkpoint_every": 2}


@pytest.fixture(scope="module")
def two_process_cpu_class(tmp_path_factory):
    """The catalog with its cpu class at gpu_count 2: a worker of that queue trains in 2 processes."""
    catalog = json.loads((REPO_ROOT / "config" / "models.json").read_text())
    for gpu_class in catalog["gpu_classes"]:
        if gpu_class["id"] == "cpu":
            gpu_class["gpu_count"] = 2
    path = tmp_path_factory.mktemp("catalog") / "models.json"
    path.write_text(json.dumps(catalog))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMLOOP_MODEL_CATALOG", str(path))
        yield gpu_task_queue("cpu")


@pytest.fixture(scope="module")
def job(two_process_cpu_class):
    rows = [{"id": f"m{i}", "task_type": "rewrite", "prompt": f"Codeword {i}?", "completion": f"The codeword {i} is {w}."} for i, w in enumerate(CODEWORDS)]
    dataset = artifact_store_from_env().put("\n".join(json.dumps(r) for r in rows), "application/jsonl")
    return {"model_id": "smollm2-135m", "recipe": "lora", "dataset": dataset, "hyperparameters": PLAN}


class Attempt:
    """One activity attempt on the 2-process queue, keeping its heartbeats; `on_beat` may act on each."""

    def __init__(self, queue: str, on_beat=None, heartbeat_details=None):
        self.env = ActivityEnvironment()
        self.env.info = dataclasses.replace(self.env.info, task_queue=queue, **({"heartbeat_details": heartbeat_details, "attempt": 2} if heartbeat_details else {}))
        self.beats: list[dict] = []

        def on_heartbeat(*details):
            self.beats.append(details[0])
            if on_beat:
                on_beat(self, details[0])

        self.env.on_heartbeat = on_heartbeat

    def run(self, job: dict):
        return self.env.run(train_sft, job)


def training_processes() -> list[psutil.Process]:
    """The launcher and its ranks (children of this test process)."""
    return psutil.Process().children(recursive=True)


def all_gone(processes: list[psutil.Process], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
            return True
        time.sleep(0.2)
    return False


def loss_curve(result: dict) -> dict[int, float]:
    return {m["step"]: m["loss"] for m in artifact_store_from_env().get_json(result["manifest"])["metrics"] if "loss" in m}


@pytest.fixture(scope="module")
def uninterrupted(two_process_cpu_class, job):
    attempt = Attempt(two_process_cpu_class)
    return attempt.run(job), attempt.beats


@runs
def test_two_processes_train_with_heartbeaten_progress_and_checkpoints(uninterrupted, tmp_path):
    result, beats = uninterrupted
    assert schema_problems("TrainJobResult", result) == []
    assert result["steps"] == 4 and result["resumed_from_step"] == 0
    manifest = artifact_store_from_env().get_json(result["manifest"])
    assert manifest["device"] == "cpu:0 x2 (MULTI_CPU)"
    curve = loss_curve(result)
    assert sorted(curve) == [1, 2, 3, 4] and curve[4] < curve[1]
    assert all(schema_problems("TrainProgress", b) == [] for b in beats)
    assert {b["step"] for b in beats if b["phase"] == "training"} >= {1, 2, 3}
    assert any(b.get("checkpoint", {}).get("step") == 2 for b in beats)
    adapter = artifact_store_from_env().get_tree(result["adapter"], tmp_path / "adapter")
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == "smollm2-135m"


@runs
def test_a_sigkilled_launcher_takes_its_ranks_and_the_retry_resumes_from_the_stored_checkpoint(two_process_cpu_class, job, uninterrupted):
    killed: list[psutil.Process] = []
    work_dirs: list[Path] = []

    def kill_after_first_checkpoint(attempt, beat):
        if not killed and beat.get("checkpoint", {}).get("step") == 2:
            killed.extend(training_processes())
            launcher = next(p for p in killed if "launch" in p.cmdline())
            work_dirs.append(Path(launcher.cmdline()[-1]).parent)  # ... rank WORK_DIR/spec.json
            os.kill(launcher.pid, signal.SIGKILL)

    crashed = Attempt(two_process_cpu_class, on_beat=kill_after_first_checkpoint)
    with pytest.raises(ApplicationError) as failure:
        crashed.run(job)
    assert failure.value.type == "DistributedTrainingFailed" and not failure.value.non_retryable
    assert len(killed) == 3 and all_gone(killed)
    # The attempt's scratch folder went with it: the retry, as on another host, has only the artifact store.
    assert work_dirs[0].parent == data_dir() / "work" and not work_dirs[0].exists()

    retry = Attempt(two_process_cpu_class, heartbeat_details=[crashed.beats[-1]])
    result = retry.run(job)
    assert result["steps"] == 4 and result["resumed_from_step"] == 2
    # Optimizer, scheduler, every rank's RNG and the data position restored: the uninterrupted run's curve.
    assert loss_curve(result) == pytest.approx(loss_curve(uninterrupted[0]), rel=1e-3)


@runs
def test_cancellation_kills_every_process_of_the_run(two_process_cpu_class, job):
    seen: list[psutil.Process] = []

    def cancel_once_training(attempt, beat):
        if not seen and beat["phase"] == "training" and beat["step"] >= 1:
            seen.extend(training_processes())
            attempt.env.cancel()

    attempt = Attempt(two_process_cpu_class, on_beat=cancel_once_training)
    with pytest.raises(CancelledError) as stopped:
        attempt.run(job)
    assert 1 <= stopped.value.details[0]["stopped_at_step"] < 4
    assert len(seen) == 3 and all_gone(seen)


def test_a_gpu_class_launches_fsdp2_and_a_cpu_class_gloo_processes():
    from accelerate.commands.launch import launch_command_parser

    parse = lambda cuda: launch_command_parser().parse_args([*accelerate_launch_arguments(8, cuda, 29500), "--module", "trainers.training.distributed", "rank", "spec.json"])
    gpu, cpu = parse(True), parse(False)
    assert (gpu.use_fsdp, str(gpu.fsdp_version), gpu.num_processes, gpu.mixed_precision) == (True, "2", 8, "bf16")
    assert (cpu.use_fsdp, cpu.multi_gpu, cpu.num_processes) == (False, True, 8)


def test_a_worker_seeing_fewer_devices_than_its_class_is_refused(monkeypatch):
    import trainers.training.preflight as preflight

    monkeypatch.setattr(preflight, "_cuda_available", lambda: True)
    monkeypatch.setattr(preflight, "_cuda_device_count", lambda: 4)
    with pytest.raises(ApplicationError) as refused:
        check_recipe_and_memory("llama-3-70b-instruct", "lora", devices=8)
    assert refused.value.type == "InsufficientGpuMemory" and refused.value.non_retryable
