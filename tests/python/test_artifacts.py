import hashlib
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from trainers.artifact_cache import BoundedBlobCache
from trainers.artifacts import (
    ArtifactCorrupt,
    ArtifactNotFound,
    LocalArtifactStore,
    canonical_json,
)
from trainers.config import REPO_ROOT


def test_put_get_roundtrip_is_content_addressed(tmp_path):
    store = LocalArtifactStore(tmp_path)
    ref = store.put(b"hello", "text/plain")
    assert ref == {"sha256": hashlib.sha256(b"hello").hexdigest(), "bytes": 5, "media_type": "text/plain"}
    assert store.get(ref) == b"hello"
    assert store.put(b"hello", "text/plain") == ref
    assert not list(tmp_path.rglob("*.tmp-*"))


def test_tree_roundtrip(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.json").write_text("{}")
    (src / "sub" / "b.bin").write_bytes(b"\x00\x01")
    store = LocalArtifactStore(tmp_path / "store")
    ref = store.put_tree(src)
    out = store.get_tree(ref, tmp_path / "out")
    assert (out / "a.json").read_text() == "{}"
    assert (out / "sub" / "b.bin").read_bytes() == b"\x00\x01"


def test_canonical_json_matches_node(tmp_path):
    value = {"b": [1, 2, {"z": "中文", "a": None}], "a": True, "c": 1.5}
    node = subprocess.run(
        ["node", "-e", "const {canonicalJson}=require('./dist/core/artifacts.js');process.stdout.write(canonicalJson(JSON.parse(process.argv[1])))", json.dumps(value)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )
    assert node.stdout == canonical_json(value)


def test_a_missing_blob_or_tree_file_is_a_typed_non_retryable_failure(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(b"a")
    store = LocalArtifactStore(tmp_path / "store")
    tree = store.put_tree(src)
    store.blob_path(hashlib.sha256(b"a").hexdigest()).unlink()
    missing = {"sha256": hashlib.sha256(b"never stored").hexdigest(), "bytes": 12, "media_type": "text/plain"}
    for read in (lambda: store.get(missing), lambda: store.get_tree(tree, tmp_path / "out")):
        with pytest.raises(ApplicationError) as err:
            read()
        assert isinstance(err.value, ArtifactNotFound)
        assert err.value.type == "ArtifactNotFound" and err.value.non_retryable


def test_a_changed_stored_byte_is_artifact_corrupt_and_a_new_put_repairs_it(tmp_path):
    store = LocalArtifactStore(tmp_path / "store")
    ref = store.put(b"trusted", "text/plain")
    tree = store.put_json({"kind": "llmloop.tree/v1", "files": [{"path": "t.txt", "sha256": ref["sha256"], "bytes": ref["bytes"]}]})
    blob = store.blob_path(ref["sha256"])
    for read in (lambda: store.get_tree(tree, tmp_path / "out"), lambda: store.get(ref)):
        blob.write_bytes(b"Trusted")
        with pytest.raises(ArtifactCorrupt) as err:
            read()
        assert err.value.type == "ArtifactCorrupt" and err.value.non_retryable
    assert not (tmp_path / "out" / "t.txt").exists()
    assert list(blob.parent.glob(f"{blob.name}.corrupt-*"))  # moved aside, kept for inspection
    store.put(b"trusted", "text/plain")
    assert store.get(ref) == b"trusted"


def test_local_writes_fsync_the_file_and_every_folder_they_change(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(Path(os.readlink(f"/proc/self/fd/{fd}"))), real_fsync(fd))[1])
    store = LocalArtifactStore(tmp_path / "store")
    ref = store.put(b"durable", "text/plain")
    blob = store.blob_path(ref["sha256"])
    assert synced[0].name.startswith(f"{blob.name}.tmp-")  # the temp file, before its rename
    assert synced[1:] == [blob.parent, blob.parent.parent, store.root, tmp_path]  # its folder, then each new folder's parent


def test_the_cache_evicts_least_recently_used_blobs_past_its_limit(tmp_path):
    cache = BoundedBlobCache(tmp_path / "cache", max_bytes=1000)
    blobs = [bytes([i]) * 300 for i in range(4)]
    shas = [hashlib.sha256(b).hexdigest() for b in blobs]
    mismatch = lambda actual: AssertionError(actual)
    for sha, blob in zip(shas[:3], blobs[:3]):
        cache.fill(sha, io.BytesIO(blob), mismatch)
    for age, sha in enumerate(shas[:3]):
        os.utime(cache._store.blob_path(sha), (1000 + age, 1000 + age))
    assert cache.read(shas[0]) == blobs[0]  # a hit makes the oldest the most recent
    cache.fill(shas[3], io.BytesIO(blobs[3]), mismatch)  # 1200 bytes > 1000: evict down to 800
    assert [cache.read(sha) is not None for sha in shas] == [True, False, False, True]
    assert not cache.fits(801)
