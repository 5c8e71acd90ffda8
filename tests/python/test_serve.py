"""trainers/serve.py: request rules and stop handling without a model, then the real server with
SmolLM2-135M plus a (randomly initialised, so output-changing) LoRA adapter over HTTP."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.python.lora_fixture import BASE_MODEL, make_lora_adapter
from trainers.serve import AdapterEngine, OpenAIError, StopFilter, create_server, default_threads, parse_chat_request

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_requests_follow_openai_defaults_and_rules():
    request = parse_chat_request({"messages": [{"role": "developer", "content": [{"type": "text", "text": "be brief"}]}, QUESTION[0]], "stop": "END"})
    assert request.messages[0] == {"role": "system", "content": "be brief"}
    assert (request.temperature, request.max_tokens, request.stop, request.stream) == (1.0, None, ["END"], False)
    for body, param in [
        ({"messages": []}, "messages"),
        ({"messages": QUESTION, "temperature": 3}, "temperature"),
        ({"messages": QUESTION, "max_tokens": 2.5}, "max_tokens"),
        ({"messages": QUESTION, "response_format": {"type": "json_object"}}, "response_format"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ]:
        with pytest.raises(OpenAIError) as caught:
            parse_chat_request(body)
        assert (caught.value.status, caught.value.param) == (400, param)


def test_stop_filter_cuts_at_the_first_stop_even_across_pieces():
    stops = StopFilter(["</end>", "STOP"])
    emitted = "".join(stops.feed(piece) for piece in ["Hello wor", "ld</e", "nd> ignored"]) + stops.finish()
    assert emitted == "Hello world"
    plain = StopFilter([])
    assert "".join(plain.feed(p) for p in ["a", "b"]) + plain.finish() == "ab"


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory) -> Path:
    from trainers.artifacts import artifact_store_from_env

    return artifact_store_from_env().get_tree(make_lora_adapter(), tmp_path_factory.mktemp("adapter"))


@pytest.fixture(scope="module")
def engine(adapter_dir: Path):
    import torch

    # As `python -m trainers.serve` does; restored so later tests in this process keep their setting.
    threads = torch.get_num_threads()
    torch.set_num_threads(default_threads())
    yield AdapterEngine.load(BASE_MODEL, str(adapter_dir), max_queued=4)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def served(engine: AdapterEngine):
    server = create_server(engine, "smollm2-135m-sft")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def post(base: str, body: dict | bytes) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}/v1/chat/completions", data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_completion_and_its_stream_agree_and_count_tokens(served):
    status, raw = post(served, {"model": "smollm2-135m-sft", "messages": QUESTION, "max_tokens": 10, "temperature": 0})
    assert status == 200
    completion = json.loads(raw)
    text = completion["choices"][0]["message"]["content"]
    assert text
    assert completion["usage"]["prompt_tokens"] > 5 and 0 < completion["usage"]["completion_tokens"] <= 10

    status, raw = post(served, {"messages": QUESTION, "max_tokens": 10, "temperature": 0, "stream": True, "stream_options": {"include_usage": True}})
    events = [e for e in raw.decode().split("\n\n") if e]
    assert status == 200 and events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == text
    assert chunks[-1]["usage"] == completion["usage"]


def test_the_adapter_changes_what_the_base_model_says(served, engine: AdapterEngine):
    # Greedy answers to easy questions survive a small random adapter; seeded sampling of open text does not.
    sampled = {"messages": [{"role": "user", "content": "Write a poem about the sea."}], "max_tokens": 12, "temperature": 1.2, "seed": 3}
    _, raw = post(served, sampled)
    with_adapter = json.loads(raw)["choices"][0]["message"]["content"]
    with engine.model.disable_adapter():
        base_text = "".join(engine.generate(parse_chat_request(sampled)).pieces)
    _, raw = post(served, sampled)
    assert json.loads(raw)["choices"][0]["message"]["content"] == with_adapter  # seeded sampling repeats
    assert base_text and with_adapter and with_adapter != base_text


def test_errors_have_openai_shape(served):
    status, raw = post(served, b'{"messages": [')
    assert status == 400 and json.loads(raw)["error"]["code"] == "invalid_json"
    status, raw = post(served, {"model": "gpt-4o", "messages": QUESTION})
    assert status == 404 and json.loads(raw)["error"]["code"] == "model_not_found"
    with urllib.request.urlopen(f"{served}/v1/models") as response:
        assert [m["id"] for m in json.loads(response.read())["data"]] == ["smollm2-135m-sft"]


def _host_port(base: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    address = urlsplit(base)
    return address.hostname, address.port


@pytest.mark.parametrize("length", ["-1", "abc"])
def test_a_malformed_content_length_gets_a_400_not_a_dropped_connection(served, length: str):
    import socket

    with socket.create_connection(_host_port(served), timeout=5) as sock:
        sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "invalid_content_length"


def test_a_model_that_is_not_a_string_is_a_400(served):
    status, raw = post(served, {"model": [1], "messages": QUESTION})
    assert status == 400 and json.loads(raw)["error"]["param"] == "model"


def test_the_server_asks_for_its_key_when_it_has_one(engine: AdapterEngine):
    server = create_server(engine, "smollm2-135m-sft", api_key="sk-serve-test-key")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, raw = post(base, {"messages": QUESTION, "max_tokens": 1})
        assert status == 401 and json.loads(raw)["error"]["code"] == "invalid_api_key"
        request = urllib.request.Request(f"{base}/v1/models", headers={"authorization": "Bearer sk-serve-test-key"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_that_leaves_stops_its_generation_and_frees_the_model(served, engine: AdapterEngine, stream: bool):
    import socket
    import time

    # Sampled open text for up to 2000 tokens: a minute of generation on this CPU if nothing stops it.
    body = json.dumps({"messages": [{"role": "user", "content": "Write a very long story about the sea."}], "max_tokens": 2000, "temperature": 1.5, "seed": 11, "stream": stream}).encode()
    sock = socket.create_connection(_host_port(served), timeout=30)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    waited = time.monotonic()
    while not engine._lock.locked() and time.monotonic() - waited < 30:
        time.sleep(0.02)
    assert engine._lock.locked()
    time.sleep(1.0)
    sock.close()
    left = time.monotonic()
    while engine._lock.locked() and time.monotonic() - left < 60:
        time.sleep(0.05)
    assert time.monotonic() - left < 5
