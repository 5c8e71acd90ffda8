"""Content-addressed artifact store; the same layout, checks and canonical JSON as core/artifacts.ts.

Every store keeps a blob under `sha256/<aa>/<hex>` (below its folder or key prefix) and checks the hash
on every read. `artifact_store_from_env()` picks the store LLMLOOP_ARTIFACTS names: a folder
(LocalArtifactStore) or `s3://bucket/prefix` (trainers/artifact_s3.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cache
from itertools import takewhile
from pathlib import Path
from typing import Any, BinaryIO, TypedDict

from temporalio.exceptions import ApplicationError

from . import config

TREE_MEDIA_TYPE = "application/vnd.llmloop.tree+json"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class ArtifactRef(TypedDict):
    sha256: str
    bytes: int
    media_type: str


class ArtifactNotFound(ApplicationError):
    """A ref this store does not hold. Typed and non-retryable (core/errors.ts, trainers/errors.py), so an
    activity can let it propagate: every activity reading a ref reports a missing one the same way."""

    def __init__(self, message: str):
        super().__init__(message, type="ArtifactNotFound", non_retryable=True)


class ArtifactCorrupt(ApplicationError):
    """The stored bytes do not hash to their address: tampering or media corruption. Non-retryable:
    reading the same bytes again gives the same answer; the content must be put again."""

    def __init__(self, sha256: str, actual: str, where: str):
        super().__init__(
            f"artifact {sha256} in {where} hashes to {actual}: the stored bytes are corrupt",
            {"sha256": sha256, "actual": actual},
            type="ArtifactCorrupt",
            non_retryable=True,
        )


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: equal values hash equally in Python and Node."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def blob_key(sha256: str) -> str:
    """`sha256/<aa>/<hex>`: the relative location of a blob in every store."""
    if not _HEX64.match(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256}")
    return f"sha256/{sha256[:2]}/{sha256}"


def changed_while_stored(path: Path) -> Callable[[str], Exception]:
    """The source file changed between hashing and storing: a retry hashes it again."""
    return lambda actual: RuntimeError(f"{path} changed while it was stored (now hashes to {actual}); retry")


def copy_verified(source: BinaryIO, target: BinaryIO, expected: str, mismatch: Callable[[str], Exception]) -> int:
    """Copies a stream and raises `mismatch(actual)` at its end, before the caller commits the copy,
    when the bytes do not hash to `expected`. Returns the byte count."""
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    if digest.hexdigest() != expected:
        raise mismatch(digest.hexdigest())
    return size


def verified_bytes(raw: bytes, sha256: str, where: str) -> bytes:
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise ArtifactCorrupt(sha256, actual, where)
    return raw


class ArtifactStore(ABC):
    """Everything but the blob primitives, shared by every store: hashing on put, the tree layout, JSON.
    A store implements where blobs live; reads of a blob always come back verified."""

    @abstractmethod
    def _has_blob(self, sha256: str) -> bool: ...

    @abstractmethod
    def _write_blob(self, ref: ArtifactRef, raw: bytes) -> None:
        """Stores bytes the caller has just hashed."""

    @abstractmethod
    def _write_blob_from_file(self, ref: ArtifactRef, path: Path) -> None:
        """Stores a file's bytes; fails (and stores nothing) if they no longer hash to `ref["sha256"]`."""

    @abstractmethod
    def _read_blob(self, sha256: str) -> bytes:
        """The blob's bytes, verified; ArtifactNotFound / ArtifactCorrupt otherwise."""

    @abstractmethod
    def copy_blob_to_file(self, sha256: str, target: Path) -> None:
        """Writes the blob to `target` atomically, verified; ArtifactNotFound / ArtifactCorrupt otherwise."""

    def has(self, ref: dict) -> bool:
        return self._has_blob(ref["sha256"])

    def put(self, data: bytes | str, media_type: str) -> ArtifactRef:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        ref: ArtifactRef = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw), "media_type": media_type}
        if not self._has_blob(ref["sha256"]):
            self._write_blob(ref, raw)
        return ref

    def put_file(self, path: Path, media_type: str) -> ArtifactRef:
        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
        ref: ArtifactRef = {"sha256": digest.hexdigest(), "bytes": size, "media_type": media_type}
        if not self._has_blob(ref["sha256"]):
            self._write_blob_from_file(ref, Path(path))
        return ref

    def put_json(self, value: Any, media_type: str = "application/json") -> ArtifactRef:
        return self.put(canonical_json(value), media_type)

    def get(self, ref: dict) -> bytes:
        return self._read_blob(ref["sha256"])

    def get_json(self, ref: dict) -> Any:
        return json.loads(self.get(ref).decode("utf-8"))

    def put_tree(self, directory: Path) -> ArtifactRef:
        directory = Path(directory)
        files = []
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            rel = path.relative_to(directory).as_posix()
            ref = self.put_file(path, "application/octet-stream")
            files.append({"path": rel, "sha256": ref["sha256"], "bytes": ref["bytes"]})
        files.sort(key=lambda f: f["path"])
        return self.put_json({"kind": "llmloop.tree/v1", "files": files}, TREE_MEDIA_TYPE)

    def get_tree(self, ref: dict, dest: Path) -> Path:
        manifest = self.get_json(ref)
        if manifest.get("kind") != "llmloop.tree/v1":
            raise ValueError(f"artifact {ref['sha256']} is not a tree")
        dest = Path(dest).resolve()
        for entry in manifest["files"]:
            target = (dest / entry["path"]).resolve()
            if dest not in target.parents:
                raise ValueError(f"tree entry escapes its folder: {entry['path']}")
            target.parent.mkdir(parents=True, exist_ok=True)
            self.copy_blob_to_file(entry["sha256"], target)
        return dest


class LocalArtifactStore(ArtifactStore):
    """The store as a folder: a shared mount for several hosts, or the read cache of S3ArtifactStore."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def blob_path(self, sha256: str) -> Path:
        return self.root.joinpath(*blob_key(sha256).split("/"))

    def _has_blob(self, sha256: str) -> bool:
        return self.blob_path(sha256).exists()

    def _write_blob(self, ref: ArtifactRef, raw: bytes) -> None:
        write_atomically(self.blob_path(ref["sha256"]), lambda f: f.write(raw), durable=True)

    def _write_blob_from_file(self, ref: ArtifactRef, path: Path) -> None:
        with open(path, "rb") as source:
            self.write_stream(ref["sha256"], source, changed_while_stored(path))

    def write_stream(self, sha256: str, source: BinaryIO, mismatch: Callable[[str], Exception]) -> int:
        """Stores a stream under `sha256`, committed only when its bytes hash to it (`mismatch` otherwise)."""
        sizes: list[int] = []
        write_atomically(self.blob_path(sha256), lambda f: sizes.append(copy_verified(source, f, sha256, mismatch)), durable=True)
        return sizes[0]

    def _read_blob(self, sha256: str) -> bytes:
        return self._quarantining_corrupt(sha256, lambda: verified_bytes(self.blob_path(sha256).read_bytes(), sha256, str(self.root)))

    def copy_blob_to_file(self, sha256: str, target: Path) -> None:
        def copy(out: BinaryIO) -> None:
            with open(self.blob_path(sha256), "rb") as source:
                copy_verified(source, out, sha256, lambda actual: ArtifactCorrupt(sha256, actual, str(self.root)))

        # The target is a working copy, rebuilt from the store after a crash: atomic, not fsynced.
        self._quarantining_corrupt(sha256, lambda: write_atomically(Path(target), copy, durable=False))

    def _quarantining_corrupt(self, sha256: str, read: Callable[[], Any]) -> Any:
        """Maps a missing blob to ArtifactNotFound, and moves a corrupt one aside (kept for inspection as
        `<hex>.corrupt-<time>`) so that putting the content again repairs the store instead of finding
        the bad copy and skipping the write."""
        try:
            return read()
        except FileNotFoundError as err:
            raise ArtifactNotFound(f"artifact {sha256} is not in {self.root}") from err
        except ArtifactCorrupt:
            blob = self.blob_path(sha256)
            try:
                blob.rename(blob.with_name(f"{blob.name}.corrupt-{int(time.time() * 1000)}"))
            except OSError:
                pass
            raise


def write_atomically(target: Path, write: Callable[[BinaryIO], Any], *, durable: bool) -> None:
    """Temp file + rename in the target's folder: a killed writer never leaves a half-written file. When
    durable, the file is fsynced before the rename and the folder after it (and any folder created for
    it), so a power loss cannot leave a name pointing at missing or partial bytes either."""
    folder = target.parent
    created = list(takewhile(lambda p: not p.exists(), (folder, *folder.parents)))
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, target)
        if durable:
            for path in (folder, *(p.parent for p in created)):
                _fsync_folder(path)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@cache
def _store_at(location: config.ArtifactStoreLocation) -> ArtifactStore:
    if location.kind == "local":
        return LocalArtifactStore(location.root)
    # Imported here: boto3 adds about 0.25 s to every start, which only processes that use S3 should pay.
    from .artifact_s3 import S3ArtifactStore

    return S3ArtifactStore.at(location)


def artifact_store_from_env() -> ArtifactStore:
    """The store LLMLOOP_ARTIFACTS names (trainers/config.py); every reader and writer gets it here. One
    per location and process, so an S3 store's connections and cache accounting are shared."""
    return _store_at(config.artifact_store_location())
