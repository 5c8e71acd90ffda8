import hashlib
import json
import subprocess

import pytest
from temporalio.exceptions import ApplicationError

from trainers.artifacts import ArtifactNotFound, LocalArtifactStore, canonical_json
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
