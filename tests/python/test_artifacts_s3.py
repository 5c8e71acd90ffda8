"""S3ArtifactStore against a real S3 API: npm s3rver, started through tests/helpers/s3-server.mjs."""
import hashlib
import json
import os
import subprocess

import pytest

from trainers.artifact_s3 import S3ArtifactStore
from trainers.artifacts import (
    ArtifactCorrupt,
    ArtifactNotFound,
    LocalArtifactStore,
    artifact_store_from_env,
)
from trainers.config import REPO_ROOT, artifact_store_location

BUCKET = "llmloop-test"
PART = 5 * 1024 * 1024


def start_server(folder, port=0, exit_after_parts=None):
    args = ["node", "tests/helpers/s3-server.mjs", "--dir", str(folder), "--bucket", BUCKET, "--port", str(port)]
    if exit_after_parts is not None:
        args += ["--exit-after-parts", str(exit_after_parts)]
    process = subprocess.Popen(args, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    endpoint = json.loads(process.stdout.readline())["endpoint"]
    return process, endpoint


def stop(process):
    process.kill()
    process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("s3")
    process, endpoint = start_server(folder)
    yield folder, endpoint
    stop(process)


def s3_env(endpoint, data_dir):
    return {
        "LLMLOOP_ARTIFACTS": f"s3://{BUCKET}/team/artifacts",
        "LLMLOOP_DATA_DIR": str(data_dir),
        "LLMLOOP_ARTIFACT_PART_BYTES": str(PART),
        "LLMLOOP_ARTIFACT_CACHE_BYTES": str(64 * 1024 * 1024),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "S3RVER",
        "AWS_SECRET_ACCESS_KEY": "S3RVER",
        "AWS_REGION": "us-east-1",
    }


@pytest.fixture
def fresh_store(server, tmp_path, monkeypatch):
    """Stores with their own empty caches, as the deployment's environment selects them."""
    count = iter(range(1000))

    def make(endpoint=server[1]) -> S3ArtifactStore:
        for name, value in s3_env(endpoint, tmp_path / f"data-{next(count)}").items():
            monkeypatch.setenv(name, value)
        store = artifact_store_from_env()
        assert isinstance(store, S3ArtifactStore)
        return store

    return make


def object_file(folder, store, sha):
    return folder / BUCKET / f"{store.object_key(sha)}._S3rver_object"


def test_same_layout_as_the_local_store_and_trees_round_trip(fresh_store, tmp_path):
    store = fresh_store()
    ref = store.put_json({"b": 1, "a": "x"})
    local = LocalArtifactStore(tmp_path / "local")
    assert store.object_key(ref["sha256"]) == "team/artifacts/" + local.blob_path(ref["sha256"]).relative_to(local.root).as_posix()
    assert fresh_store().get_json(ref) == {"a": "x", "b": 1}
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.bin").write_bytes(b"\x00\x01")
    tree = store.put_tree(src)
    assert tree == local.put_tree(src)
    out = fresh_store().get_tree(tree, tmp_path / "out")
    assert (out / "a.txt").read_text() == "A" and (out / "sub" / "b.bin").read_bytes() == b"\x00\x01"


def test_large_file_goes_up_in_parts_and_is_cached_on_read(fresh_store, server, tmp_path):
    data = os.urandom(12 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    store = fresh_store()
    calls = []
    store._client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    ref = store.put_file(tmp_path / "big.bin", "application/octet-stream")
    assert ref["sha256"] == hashlib.sha256(data).hexdigest()
    assert [c for c in calls if c != "HeadObject"] == ["CreateMultipartUpload", "UploadPart", "UploadPart", "UploadPart", "CompleteMultipartUpload"]
    reader = fresh_store()
    assert reader.get(ref) == data
    object_file(server[0], store, ref["sha256"]).unlink()  # the second read is served from the local cache
    assert reader.get(ref) == data


def test_missing_key_is_artifact_not_found(fresh_store, tmp_path):
    with pytest.raises(ArtifactNotFound) as err:
        fresh_store().get({"sha256": hashlib.sha256(b"never stored").hexdigest()})
    assert err.value.non_retryable


def test_a_changed_stored_byte_is_artifact_corrupt_and_a_corrupt_cache_entry_is_refetched(fresh_store, server, tmp_path):
    store = fresh_store()
    ref = store.put(b"trusted content", "text/plain")
    cached = fresh_store()
    cached.get(ref)
    cache_file = cached._cache.folder / "sha256" / ref["sha256"][:2] / ref["sha256"]
    cache_file.write_bytes(b"tampered cache")
    assert cached.get(ref) == b"trusted content"

    stored = object_file(server[0], store, ref["sha256"])
    tampered = bytearray(stored.read_bytes())
    tampered[0] ^= 0xFF
    stored.write_bytes(bytes(tampered))
    with pytest.raises(ArtifactCorrupt) as err:
        fresh_store().get(ref)
    assert err.value.type == "ArtifactCorrupt" and err.value.non_retryable
    tree = store.put_json({"kind": "llmloop.tree/v1", "files": [{"path": "x.txt", "sha256": ref["sha256"], "bytes": ref["bytes"]}]})
    with pytest.raises(ArtifactCorrupt):
        fresh_store().get_tree(tree, tmp_path / "corrupt-tree")
    assert not (tmp_path / "corrupt-tree" / "x.txt").exists()


def test_an_upload_whose_bytes_do_not_match_their_address_is_never_visible(fresh_store, tmp_path):
    store = fresh_store()
    data = os.urandom(11 * 1024 * 1024)
    wrong = {"sha256": hashlib.sha256(b"other").hexdigest(), "bytes": len(data), "media_type": "x"}
    (tmp_path / "f.bin").write_bytes(data)
    with pytest.raises(RuntimeError, match="changed while it was stored"):
        store._write_blob_from_file(wrong, tmp_path / "f.bin")
    assert not store.has(wrong)


def test_server_going_away_mid_upload_fails_retryably_shows_nothing_and_the_retry_completes(fresh_store, tmp_path):
    folder = tmp_path / "s3-flaky"
    flaky, endpoint = start_server(folder, exit_after_parts=1)
    data = os.urandom(12 * 1024 * 1024)
    (tmp_path / "flaky.bin").write_bytes(data)
    store = fresh_store(endpoint)
    try:
        with pytest.raises(Exception) as err:
            store.put_file(tmp_path / "flaky.bin", "application/octet-stream")
        assert not getattr(err.value, "non_retryable", False)
        assert flaky.wait(timeout=10) == 3  # it died on the second part, as told
        restarted, _ = start_server(folder, port=int(endpoint.rsplit(":", 1)[1]))
        try:
            ref = {"sha256": hashlib.sha256(data).hexdigest()}
            assert not store.has(ref)  # never half-visible
            assert store.put_file(tmp_path / "flaky.bin", "application/octet-stream")["sha256"] == ref["sha256"]  # the activity's retry
            assert fresh_store(endpoint).get(ref) == data
        finally:
            stop(restarted)
    finally:
        stop(flaky)


def test_location_reads_the_url_and_refuses_parts_below_the_s3_minimum():
    location = artifact_store_location({"LLMLOOP_ARTIFACTS": "s3://bucket//a/b/", "LLMLOOP_DATA_DIR": "/d", "AWS_ENDPOINT_URL": "http://minio:9000"})
    assert (location.kind, location.bucket, location.prefix, location.endpoint) == ("s3", "bucket", "a/b", "http://minio:9000")
    assert str(location.cache_dir) == "/d/artifact-cache"
    with pytest.raises(ValueError, match="at least"):
        artifact_store_location({"LLMLOOP_ARTIFACTS": "s3://bucket", "LLMLOOP_ARTIFACT_PART_BYTES": "1024"})
    with pytest.raises(ValueError, match="unsupported"):
        artifact_store_location({"LLMLOOP_ARTIFACTS": "gs://bucket"})
