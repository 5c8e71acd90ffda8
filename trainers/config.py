"""Environment configuration shared with the TypeScript side (core/config.ts)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Queue names are written once, in schemas/constants.json.
from .generated.constants import gpu_task_queue as gpu_task_queue

REPO_ROOT = Path(__file__).resolve().parent.parent


def temporal_address() -> str:
    return os.environ.get("TEMPORAL_ADDRESS") or "localhost:7233"


def temporal_namespace() -> str:
    return os.environ.get("TEMPORAL_NAMESPACE") or "default"


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("LLMLOOP_DATA_DIR") or REPO_ROOT / ".data").resolve()


def gpu_class() -> str:
    return os.environ.get("LLMLOOP_GPU_CLASS") or "cpu"



_MIB = 1024 * 1024
_S3_MIN_PART_BYTES = 5 * _MIB


@dataclass(frozen=True)
class ArtifactStoreLocation:
    """Where artifacts live (LLMLOOP_ARTIFACTS): a folder, default `<data_dir>/artifacts`, or
    `s3://bucket/prefix`; the same reading as artifactStoreLocation in core/config.ts."""

    kind: Literal["local", "s3"]
    root: Path | None = None
    bucket: str = ""
    prefix: str = ""  # without slashes at either end; '' for the bucket root
    endpoint: str | None = None  # AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: MinIO or another S3 API
    region: str = "us-east-1"
    cache_dir: Path | None = None  # bounded read-through cache of downloaded blobs
    cache_max_bytes: int = 0
    part_size_bytes: int = 0  # multipart part size, at least S3's 5 MiB


def artifact_store_location(env: Mapping[str, str] = os.environ) -> ArtifactStoreLocation:
    data = data_dir(env)
    where = env.get("LLMLOOP_ARTIFACTS") or str(data / "artifacts")
    if not where.startswith("s3://"):
        if re.match(r"^[a-z][a-z0-9+.-]*://", where, re.I):
            raise ValueError(f"LLMLOOP_ARTIFACTS: unsupported store {where} (a folder or s3://bucket/prefix)")
        return ArtifactStoreLocation(kind="local", root=Path(where).resolve())
    bucket, _, prefix = where[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"LLMLOOP_ARTIFACTS: no bucket in {where}")
    part_size = _byte_count(env, "LLMLOOP_ARTIFACT_PART_BYTES", 64 * _MIB)
    if part_size < _S3_MIN_PART_BYTES:
        raise ValueError(f"LLMLOOP_ARTIFACT_PART_BYTES: S3 parts are at least {_S3_MIN_PART_BYTES} bytes")
    return ArtifactStoreLocation(
        kind="s3",
        bucket=bucket,
        prefix="/".join(p for p in prefix.split("/") if p),
        endpoint=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        cache_dir=data / "artifact-cache",
        cache_max_bytes=_byte_count(env, "LLMLOOP_ARTIFACT_CACHE_BYTES", 10 * 1024 * _MIB),
        part_size_bytes=part_size,
    )


def _byte_count(env: Mapping[str, str], name: str, fallback: int) -> int:
    raw = env.get(name)
    if not raw:
        return fallback
    if not raw.isdigit():
        raise ValueError(f"{name}: expected a byte count, got {raw}")
    return int(raw)
