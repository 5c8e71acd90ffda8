"""A size-bounded local copy of remote blobs; the same policy and folder layout as core/artifacts-cache.ts."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .artifacts import ArtifactCorrupt, ArtifactNotFound, LocalArtifactStore

# After an eviction the cache holds at most this share of its limit, so the next fills do not each rescan.
_EVICT_TO = 0.8


class BoundedBlobCache:
    """Least recently used first out. Recency is the file's mtime (touched on each hit), so the Node and
    Python workers of one host can share the folder. Entries are verified like any LocalArtifactStore
    read; a corrupt entry is dropped, and the caller fetches the blob again."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._store = LocalArtifactStore(self.folder)
        self._approx_bytes: int | None = None  # as this process last counted them, plus what it added since

    def fits(self, size: int) -> bool:
        """Whether a blob of this size is cached at all: one larger than the whole cache streams past it."""
        return size <= self.max_bytes * _EVICT_TO

    def read(self, sha256: str) -> bytes | None:
        return self._hitting(sha256, lambda: self._store.get({"sha256": sha256}))

    def copy_to(self, sha256: str, target: Path) -> bool:
        """Copies a cached blob to `target`; False when it is not cached."""
        return bool(self._hitting(sha256, lambda: self._store.copy_blob_to_file(sha256, target) or True))

    def fill(self, sha256: str, source: BinaryIO, mismatch: Callable[[str], Exception]) -> None:
        """Caches a stream, committed only when it hashes to `sha256` (`mismatch` otherwise)."""
        if self._approx_bytes is None:
            self._approx_bytes = self._count_bytes()
        self._approx_bytes += self._store.write_stream(sha256, source, mismatch)
        if self._approx_bytes > self.max_bytes:
            self._evict()

    def _hitting(self, sha256: str, read):
        try:
            value = read()
        except (ArtifactNotFound, ArtifactCorrupt):
            return None  # not cached, or cached corrupt (the local store has moved that copy aside): fetch again
        try:
            os.utime(self._store.blob_path(sha256))
        except FileNotFoundError:
            pass  # evicted meanwhile by another process: fine
        return value

    def _entries(self) -> list[tuple[float, int, Path]]:
        out = []
        for path in (self.folder / "sha256").glob("*/*"):
            if ".tmp-" in path.name:
                continue  # another process is writing it
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            out.append((stat.st_mtime, stat.st_size, path))
        return out

    def _count_bytes(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _evict(self) -> None:
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= self.max_bytes * _EVICT_TO:
                break
            path.unlink(missing_ok=True)
            total -= size
        self._approx_bytes = total
