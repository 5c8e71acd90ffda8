"""Content-addressed artifact store; the same layout and canonical JSON as core/artifacts.ts."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any, TypedDict

from temporalio.exceptions import ApplicationError

from . import config

TREE_MEDIA_TYPE = "application/vnd.llmloop.tree+json"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ArtifactRef(TypedDict):
    sha256: str
    bytes: int
    media_type: str


class ArtifactNotFound(ApplicationError):
    """A ref this store does not hold. Typed and non-retryable (core/errors.ts, trainers/errors.py), so an
    activity can let it propagate: every activity reading a ref reports a missing one the same way."""

    def __init__(self, message: str):
        super().__init__(message, type="ArtifactNotFound", non_retryable=True)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: equal values hash equally in Python and Node."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class LocalArtifactStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def from_env(cls) -> "LocalArtifactStore":
        return cls(config.data_dir() / "artifacts")

    def blob_path(self, sha256: str) -> Path:
        if not _HEX64.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256}")
        return self.root / "sha256" / sha256[:2] / sha256

    def has(self, ref: dict) -> bool:
        return self.blob_path(ref["sha256"]).exists()

    def put(self, data: bytes | str, media_type: str) -> ArtifactRef:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        sha = hashlib.sha256(raw).hexdigest()
        ref: ArtifactRef = {"sha256": sha, "bytes": len(raw), "media_type": media_type}
        if not self.has(ref):
            self._write_atomically(sha, lambda f: f.write(raw))
        return ref

    def put_file(self, path: Path, media_type: str) -> ArtifactRef:
        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        ref: ArtifactRef = {"sha256": sha, "bytes": size, "media_type": media_type}
        if not self.has(ref):
            def copy(out):
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            self._write_atomically(sha, copy)
        return ref

    def put_json(self, value: Any, media_type: str = "application/json") -> ArtifactRef:
        return self.put(canonical_json(value), media_type)

    def get(self, ref: dict) -> bytes:
        path = self.blob_path(ref["sha256"])
        try:
            return path.read_bytes()
        except FileNotFoundError as err:
            raise ArtifactNotFound(f"artifact {ref['sha256']} is not in {self.root}") from err

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
            try:
                shutil.copyfile(self.blob_path(entry["sha256"]), target)
            except FileNotFoundError as err:
                raise ArtifactNotFound(f"file {entry['path']} ({entry['sha256']}) of tree {ref['sha256']} is not in {self.root}") from err
        return dest

    def _write_atomically(self, sha: str, write) -> None:
        """Temp file + fsync + rename: a killed writer never leaves a half-written blob."""
        final = self.blob_path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
        try:
            with open(tmp, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
