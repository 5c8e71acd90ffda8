"""Training across the devices of a multi-GPU class: `accelerate launch` runs the stage in one process per device.

The activity stays the only thing Temporal talks to. It starts the launcher in a process group of its
own, turns rank 0's progress file into heartbeats (checkpoint refs included, so a retry on any host of
the class resumes from the artifact store), kills the group when the activity is cancelled, and reads
rank 0's outcome. Every rank runs run.train, the code a single-device worker runs in its thread.

Sharding is accelerate's: on CUDA, FSDP2 shards the frozen base and the adapter across the devices
(transformer blocks wrapped, sharded checkpoints, the base loaded once on rank 0's CPU memory). On CPU,
accelerate has no FSDP: the same launch runs data-parallel processes over gloo, which is how the CPU
tests exercise this path.

    python -m trainers.training.distributed launch ACCELERATE-LAUNCH-ARGS   the launcher (worker side)
    python -m trainers.training.distributed rank SPEC.json                  one rank (under the launcher)
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from ..catalog import load_catalog
from ..config import REPO_ROOT, gpu_task_queue
from ..errors import typed_failure
from ..generated.models import TrainingHyperparameters
from .progress import ProgressReporter
from .run import Stage, TrainingContext, import_training_libraries, train

# Each process dies with the one that started it (prctl PR_SET_PDEATHSIG): a killed worker takes its
# launcher along, a killed launcher its ranks (torch starts them in sessions of their own, out of reach
# of a kill of the launcher's group), so no orphan keeps training on devices a retry needs.
_PARENT_PID_ENV = "LLMLOOP_TRAINING_PARENT_PID"
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5
_STOP_GRACE_SECONDS = 15


def devices_of_this_worker() -> int:
    """The gpu_count of the catalog class whose queue this activity came from (1 off a class queue)."""
    prefix = gpu_task_queue("")
    queue = activity.info().task_queue
    if not queue.startswith(prefix):
        return 1
    for gpu_class in load_catalog().gpu_classes:
        if gpu_class.id == queue[len(prefix):]:
            return gpu_class.gpu_count
    return 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accelerate_launch_arguments(devices: int, cuda: bool, port: int) -> list[str]:
    """`accelerate launch` options: one process per device on this machine; FSDP2 on CUDA."""
    arguments = ["--num_processes", str(devices), "--num_machines", "1", "--main_process_port", str(port), "--dynamo_backend", "no"]
    if not cuda:
        # The torchrun launcher; each rank's Trainer (use_cpu) then joins a gloo process group.
        return [*arguments, "--multi_gpu", "--mixed_precision", "no"]
    return [
        *arguments,
        "--mixed_precision", "bf16",
        "--use_fsdp",
        "--fsdp_version", "2",
        "--fsdp_auto_wrap_policy", "TRANSFORMER_BASED_WRAP",
        "--fsdp_state_dict_type", "SHARDED_STATE_DICT",
        "--fsdp_reshard_after_forward", "true",
        # Rank 0 reads the weights, the others start on the meta device: one copy of a 70B base in host RAM, not eight.
        "--fsdp_cpu_ram_efficient_loading", "true",
    ]


def train_across_devices(devices: int, stage: Stage, job: dict, hp: TrainingHyperparameters, examples: list[dict], eval_examples: list[dict] | None, resume: dict | None, resume_dir: Path | None, reporter: ProgressReporter, work_dir: Path) -> dict:
    """Runs the stage in `devices` processes and returns rank 0's TrainJobResult, heartbeating meanwhile."""
    from ..models import device

    spec = work_dir / "spec.json"
    progress, outcome, log = work_dir / "progress.json", work_dir / "outcome.json", work_dir / "launcher.log"
    spec.write_text(json.dumps({
        "stage": stage.name, "job": job, "hp": hp.model_dump(mode="json", exclude_none=True), "examples": examples, "eval_examples": eval_examples,
        "resume": resume, "resume_best": reporter.snapshot().get("best_checkpoint"), "resume_dir": str(resume_dir) if resume_dir else None,
        "work_dir": str(work_dir), "progress": str(progress), "outcome": str(outcome), "attempt": activity.info().attempt,
    }))
    command = [sys.executable, "-m", __name__, "launch", *accelerate_launch_arguments(devices, device() == "cuda", _free_port()), "--module", __name__, "rank", str(spec)]
    env = {**os.environ, _PARENT_PID_ENV: str(os.getpid())}
    if hp.threads:
        env["OMP_NUM_THREADS"] = str(hp.threads)
    with log.open("wb") as log_file:
        launcher = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    activity.logger.info(f"training {job['model_id']} on {devices} devices: launcher pid {launcher.pid}, log {log}")
    try:
        _follow(launcher, progress, reporter)
    finally:
        _stop(launcher)
    if outcome.exists():
        ended = json.loads(outcome.read_text())
        if "result" in ended:
            return ended["result"]
        error = ended["error"]
        raise ApplicationError(error["message"], *error["details"], type=error["type"], non_retryable=error["non_retryable"])
    tail = log.read_text(errors="replace")[-2000:]
    # Retryable: a crashed or killed run resumes from the last heartbeaten checkpoint.
    raise typed_failure("DistributedTrainingFailed", f"accelerate launch exited with {launcher.returncode} before a result: {tail}", exit_code=launcher.returncode)


def _follow(launcher: subprocess.Popen, progress: Path, reporter: ProgressReporter) -> None:
    """Until the launcher exits: rank 0's progress into the heartbeat (at once when it names a new
    checkpoint), and on cancellation the whole run killed."""
    seen: dict | None = None
    while True:
        running = launcher.poll() is None
        latest = _read_progress(progress)
        if latest is not None and latest != seen:
            new_checkpoint = latest.get("checkpoint") != reporter.snapshot().get("checkpoint")
            reporter.update(**latest)
            seen = latest
            if new_checkpoint:
                reporter.beat()
        if not running:
            return
        # Ranks that stopped advancing stop the heartbeats (progress.py); this attempt then fails, retryable.
        reporter.raise_if_stalled()
        if activity.is_cancelled():
            step = reporter.snapshot()["step"]
            _stop(launcher)
            message = f"training cancelled: every process of the run killed at step {step} of {reporter.snapshot()['total_steps']}"
            activity.logger.info(message)
            raise CancelledError(message, {"cancel_seen_at_step": step, "stopped_at_step": step})
        time.sleep(_POLL_SECONDS)


def _read_progress(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _stop(launcher: subprocess.Popen) -> None:
    """SIGTERM to the launcher's group (torch forwards it to the ranks), SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGTERM, _STOP_GRACE_SECONDS), (signal.SIGKILL, None)):
        if launcher.poll() is not None:
            return
        try:
            os.killpg(launcher.pid, sig)
        except ProcessLookupError:
            return
        try:
            launcher.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def _die_with_parent() -> None:
    """SIGKILL this process when the one that started it dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _exit_if_orphaned() -> None:
    """After _die_with_parent: the parent may have died before that request was made."""
    expected = os.environ.get(_PARENT_PID_ENV)
    if expected and os.getppid() != int(expected):
        os._exit(1)


def _write_atomically(path: Path, value: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value))
    partial.replace(path)


def _launch(arguments: list[str]) -> None:
    _die_with_parent()
    _exit_if_orphaned()
    os.environ[_PARENT_PID_ENV] = str(os.getpid())
    from accelerate.commands.launch import launch_command, launch_command_parser

    launch_command(launch_command_parser().parse_args(arguments))


def _rank(spec_path: str) -> None:
    _die_with_parent()
    _exit_if_orphaned()
    from .activities import STAGES

    spec = json.loads(Path(spec_path).read_text())
    hp, lead = TrainingHyperparameters.model_validate(spec["hp"]), int(os.environ.get("RANK", "0")) == 0
    logging.basicConfig(level=logging.INFO)
    publish = (lambda progress: _write_atomically(Path(spec["progress"]), progress)) if lead else (lambda progress: None)
    with ProgressReporter(hp.max_steps, spec["resume"], spec["resume_best"], publish=publish) as reporter:
        try:
            import_training_libraries(hp)
            resume_dir = Path(spec["resume_dir"]) if spec["resume_dir"] else None
            context = TrainingContext(spec["attempt"], lambda: False, logging.getLogger(__name__))
            result = train(STAGES[spec["stage"]], spec["job"], hp, spec["examples"], spec["eval_examples"], spec["resume"], resume_dir, reporter, Path(spec["work_dir"]), context)
        except ApplicationError as err:
            # Typed failures (EmptyDataset...) reach the workflow as they would from a single-device run.
            if lead:
                _write_atomically(Path(spec["outcome"]), {"error": {"type": err.type, "message": err.message, "details": list(err.details), "non_retryable": err.non_retryable}})
            raise
    if lead:
        _write_atomically(Path(spec["outcome"]), {"result": result})


if __name__ == "__main__":
    if sys.argv[1] == "launch":
        _launch(sys.argv[2:])
    else:
        _rank(sys.argv[2])
