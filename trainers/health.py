"""The Python half of the cross-language health check."""
from __future__ import annotations

import hashlib
import platform
import socket

from temporalio import activity

from .artifacts import artifact_store_from_env
from .errors import typed_failure
from .schemas import validate


def _accelerator() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda:{torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return "cpu"


@activity.defn
def probe_python_worker(request: dict) -> dict:
    """Reads back the Node worker's artifact (checking its hash), writes one, describes this worker."""
    validate("PythonProbeRequest", request)
    info = activity.info()
    mode = request["simulate_failure"]
    if mode == "invalid_request":
        raise typed_failure("InvalidRequest", "the health check asked for an InvalidRequest failure")
    if mode == "transient_once" and info.attempt == 1:
        raise RuntimeError("simulated transient failure on the first attempt")

    store = artifact_store_from_env()
    ref = request["node_artifact"]
    content = store.get(ref)  # a missing artifact is already a typed, non-retryable ArtifactNotFound
    if hashlib.sha256(content).hexdigest() != ref["sha256"]:
        raise typed_failure("ArtifactNotFound", f"artifact {ref['sha256']} is corrupt")

    own = store.put_json({"written_by": "python", "read": ref["sha256"]})
    return validate(
        "WorkerProbe",
        {
            "language": "python",
            "runtime_version": f"python {platform.python_version()}",
            "task_queue": info.task_queue,
            "host": socket.gethostname(),
            "attempt": info.attempt,
            "accelerator": _accelerator(),
            "artifact": own,
        },
    )
