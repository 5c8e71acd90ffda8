"""Environment configuration shared with the TypeScript side (core/config.ts)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def temporal_address() -> str:
    return os.environ.get("TEMPORAL_ADDRESS") or "localhost:7233"


def temporal_namespace() -> str:
    return os.environ.get("TEMPORAL_NAMESPACE") or "default"


def data_dir() -> Path:
    return Path(os.environ.get("LLMLOOP_DATA_DIR") or REPO_ROOT / ".data").resolve()


def gpu_class() -> str:
    return os.environ.get("LLMLOOP_GPU_CLASS") or "cpu"


def gpu_task_queue(gpu_class_name: str) -> str:
    return f"llmloop-gpu-{gpu_class_name}"
