"""An OpenAI-compatible chat server for a catalog base model plus a trained PEFT LoRA adapter.

    python -m trainers.serve --model-id ID [--adapter-dir DIR] [--served-name NAME] [--host H] [--port N]
                             [--max-queue N] [--threads N]

llama.cpp cannot load PEFT safetensors adapters, so adapters trained here are served with transformers
until they are merged or handed to vLLM (multi-LoRA) in production. Same wire format as
serving/model-server.ts: POST /v1/chat/completions (streaming as SSE ending in `data: [DONE]`, `usage`,
`max_tokens`, `temperature`, `top_p`, `seed`, `stop`), GET /v1/models, GET /health, errors as
`{"error": {"message", "type", "code", "param"}}`. One generation runs at a time (torch already uses
every core for one); up to --max-queue requests wait, more get 503. `response_format` other than text
is refused with 400: transformers has no grammar-constrained decoding, and pretending would let
invalid JSON through; the llama.cpp server and vLLM enforce it.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Callable, Iterator

from .http_json import HttpError, JsonRequestHandler

DEFAULT_TEMPERATURE = 1.0
MAX_STOP_SEQUENCES = 4
MAX_BODY_BYTES = 8 * 1024 * 1024
# Far above any real conversation this server's context holds; bounds the work of parsing one request.
MAX_MESSAGES = 1024
API_KEY_ENV = "LLMLOOP_MODEL_SERVER_API_KEY"


class OpenAIError(Exception):
    def __init__(self, status: int, error_type: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.error_type, self.code, self.param = status, error_type, code, param

    def body(self) -> dict:
        return {"error": {"message": str(self), "type": self.error_type, "code": self.code, "param": self.param}}


def _invalid(message: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(400, "invalid_request_error", message, "invalid_request", param)


@dataclass
class ChatRequest:
    messages: list[dict]
    model: str | None = None
    max_tokens: int | None = None
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage_in_stream: bool = False


def _number(body: dict, name: str, low: float, high: float, integer: bool = False) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high or (integer and value != int(value)):
        kind = "an integer" if integer else "a number"
        raise _invalid(f"'{name}' must be {kind} in [{low}, {high}]", name)
    return value


def _message_text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
        return "".join(p["text"] for p in content)
    raise _invalid(f"messages[{index}].content must be a string or an array of text parts", f"messages[{index}].content")


def parse_chat_request(body: Any) -> ChatRequest:
    """The same validation rules as serving/chat-request.ts, so clients see one behaviour."""
    if not isinstance(body, dict):
        raise _invalid("request body must be a JSON object")
    if body.get("model") is not None and not isinstance(body["model"], str):
        raise _invalid("'model' must be a string", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid("'messages' must be a non-empty array", "messages")
    if len(messages) > MAX_MESSAGES:
        raise _invalid(f"'messages' holds {len(messages)} messages; at most {MAX_MESSAGES}", "messages")
    parsed_messages = []
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        role = "system" if role == "developer" else role
        if role not in ("system", "user", "assistant"):
            raise _invalid(f"messages[{index}].role must be one of system, developer, user, assistant", f"messages[{index}].role")
        parsed_messages.append({"role": role, "content": _message_text(message.get("content"), index)})
    _number(body, "n", 1, 1)
    for unsupported in ("tools", "functions", "logprobs"):
        if body.get(unsupported) not in (None, False):
            raise _invalid(f"'{unsupported}' is not supported by this server", unsupported)
    response_format = body.get("response_format")
    if response_format is not None and (not isinstance(response_format, dict) or response_format.get("type") != "text"):
        raise _invalid("only response_format text is served by the transformers server; use the llama.cpp server or vLLM for JSON output", "response_format")
    stop = body.get("stop")
    stops = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or len(stops) > MAX_STOP_SEQUENCES or not all(isinstance(s, str) and s for s in stops):
        raise _invalid(f"'stop' must be a non-empty string or up to {MAX_STOP_SEQUENCES} of them", "stop")
    if not isinstance(body.get("stream", False), bool):
        raise _invalid("'stream' must be a boolean", "stream")
    max_tokens = _number(body, "max_completion_tokens", 1, 1_000_000, integer=True) or _number(body, "max_tokens", 1, 1_000_000, integer=True)
    temperature = _number(body, "temperature", 0, 2)
    seed = _number(body, "seed", -(2**53), 2**53, integer=True)
    stream_options = body.get("stream_options")
    return ChatRequest(
        messages=parsed_messages,
        model=body.get("model"),
        max_tokens=None if max_tokens is None else int(max_tokens),
        temperature=DEFAULT_TEMPERATURE if temperature is None else float(temperature),
        top_p=_number(body, "top_p", 0, 1),
        seed=None if seed is None else int(seed),
        stop=stops,
        stream=body.get("stream", False),
        include_usage_in_stream=isinstance(stream_options, dict) and stream_options.get("include_usage") is True,
    )


class StopFilter:
    """Cuts generated text at the first stop sequence, holding back any tail that could still become one."""

    def __init__(self, stops: list[str]):
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.text = ""
        self.emitted = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.text += piece
        hits = [i for i in (self.text.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.stopped = True
            return self._emit_to(min(hits))
        return self._emit_to(max(self.emitted, len(self.text) - self.hold))

    def finish(self) -> str:
        return "" if self.stopped else self._emit_to(len(self.text))

    def _emit_to(self, end: int) -> str:
        out = self.text[self.emitted:end]
        self.emitted = max(self.emitted, end)
        return out


@dataclass
class Generation:
    """Closing `pieces` early (the client left) stops the generation and frees the model."""

    pieces: Iterator[str]
    prompt_tokens: int
    # Filled once `pieces` is exhausted.
    completion_tokens: int = 0
    finish_reason: str = "stop"


def default_threads() -> int:
    """torch's CPU threads spin while they wait, like llama.cpp's: on a shared 2-core host one thread
    generated 10 tokens in ~3 s where two took 16-24 s. Half the cores is the default."""
    return max(1, (os.cpu_count() or 1) // 2)


class AdapterEngine:
    """The base model with its adapter; generations run one at a time behind a bounded wait."""

    def __init__(self, model, tokenizer, max_queued: int):
        self.model, self.tokenizer = model, tokenizer
        self.max_queued = max_queued
        self._lock = threading.Lock()
        self._admission = threading.Lock()
        self._waiting = 0

    @classmethod
    def load(cls, model_id: str, adapter_dir: str | None, max_queued: int) -> "AdapterEngine":
        from .models import load_model_and_tokenizer

        model, tokenizer = load_model_and_tokenizer(model_id, adapter_dir=adapter_dir)
        return cls(model, tokenizer, max_queued)

    def _enter(self) -> None:
        with self._admission:
            if self._waiting >= self.max_queued and self._lock.locked():
                raise OpenAIError(503, "server_overloaded", f"one generation is running and {self.max_queued} requests are queued; retry later", "queue_full")
            self._waiting += 1
        self._lock.acquire()
        with self._admission:
            self._waiting -= 1

    def generate(self, request: ChatRequest) -> Generation:
        """Admits the request (or raises 503) and returns its text as an iterator of pieces; the generation holds the model until they are exhausted or closed."""
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        inputs = self.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        self._enter()
        try:
            room = self.model.config.max_position_embeddings - prompt_tokens
            if room <= 0:
                raise OpenAIError(400, "invalid_request_error", f"the prompt has {prompt_tokens} tokens; the model holds {self.model.config.max_position_embeddings}", "context_length_exceeded", "messages")
            max_new_tokens = min(request.max_tokens or room, room)
            sampling = {"do_sample": False}
            if request.temperature > 0:
                sampling = {"do_sample": True, "temperature": request.temperature, **({"top_p": request.top_p} if request.top_p is not None else {})}
            if request.seed is not None:
                torch.manual_seed(request.seed)
            streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
            outputs: dict = {}
            cancelled = threading.Event()

            def run() -> None:
                try:
                    with torch.no_grad():
                        outputs["ids"] = self.model.generate(
                            **inputs.to(self.model.device),
                            max_new_tokens=max_new_tokens,
                            streamer=streamer,
                            stopping_criteria=StoppingCriteriaList([_UntilCancelled(cancelled)]),
                            pad_token_id=self.tokenizer.pad_token_id,
                            **({"stop_strings": request.stop, "tokenizer": self.tokenizer} if request.stop else {}),
                            **sampling,
                        )
                except BaseException as err:  # surfaced to the request thread below
                    outputs["error"] = err
                    streamer.end()

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
        except BaseException:
            self._lock.release()
            raise
        generation = Generation(pieces=iter(()), prompt_tokens=prompt_tokens)

        def pieces() -> Iterator[str]:
            stops = StopFilter(request.stop)
            try:
                for piece in streamer:
                    if text := stops.feed(piece):
                        yield text
                worker.join()
                if "error" in outputs:
                    raise outputs["error"]
                if tail := stops.finish():
                    yield tail
                generated = int(outputs["ids"].shape[1]) - prompt_tokens
                generation.completion_tokens = generated
                # generate() stops at any of these: EOS and the chat template's turn end (trainers/models.py).
                ended_on_eos = generated > 0 and int(outputs["ids"][0, -1]) in self.model.generation_config.eos_token_id
                generation.finish_reason = "length" if generated >= max_new_tokens and not stops.stopped and not ended_on_eos else "stop"
            finally:
                cancelled.set()  # a no-op once generation ended; otherwise the consumer left and the model is wanted back
                worker.join()
                self._lock.release()

        generation.pieces = pieces()
        return generation


class _UntilCancelled:
    """A stopping criterion: generation ends at the next token once the event is set."""

    def __init__(self, cancelled: threading.Event):
        self.cancelled = cancelled

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.cancelled.is_set(), dtype=torch.bool, device=input_ids.device)


def _handler(engine: AdapterEngine, model_id: str) -> type[JsonRequestHandler]:
    created = int(time.time())

    class Handler(JsonRequestHandler):
        max_body_bytes = MAX_BODY_BYTES

        def _guarded(self, handle: Callable[[], None]) -> None:
            try:
                handle()
            except OpenAIError as err:
                self.send_json(err.status, err.body())
            except HttpError as err:
                self.send_http_error(err)
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception as err:  # never a stack trace on the wire
                self.log_error("generation failed: %r", err)
                self.send_json(500, OpenAIError(500, "server_error", "the model server failed to generate a response", "internal_error").body())

        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path == "/health":
                self._guarded(lambda: self.send_json(200, {"status": "ok", "model": model_id}))
            elif path == "/v1/models":
                self._guarded(self._models)
            else:
                self._guarded(self._not_found)

        def do_POST(self) -> None:
            if self.path.split("?")[0].rstrip("/") == "/v1/chat/completions":
                self._guarded(self._chat)
            else:
                self._guarded(self._not_found)

        def _models(self) -> None:
            self.require_key()
            self.send_json(200, {"object": "list", "data": [{"id": model_id, "object": "model", "created": created, "owned_by": "llmloop"}]})

        def _not_found(self) -> None:
            self.read_body()
            raise OpenAIError(404, "not_found_error", f"no route {self.command} {self.path}", "unknown_url")

        def _chat(self) -> None:
            body = self.read_json()
            self.require_key()
            request = parse_chat_request(body)
            if request.model is not None and request.model != model_id:
                raise OpenAIError(404, "not_found_error", f"model '{request.model}' is not served here; this server serves '{model_id}'", "model_not_found", "model")
            identity = {"id": f"chatcmpl-{uuid.uuid4()}", "created": int(time.time()), "model": model_id}
            generation = engine.generate(request)
            try:
                if request.stream:
                    self._stream(identity, generation, request.include_usage_in_stream)
                else:
                    self._complete(identity, generation)
            finally:
                generation.pieces.close()  # stops a generation its client left, and frees the model for the next one

        def _complete(self, identity: dict, generation: Generation) -> None:
            content = ""
            for piece in generation.pieces:
                # Nothing is written before the end, so a client that left is only seen by looking.
                if self.client_gone():
                    self.close_connection = True
                    return
                content += piece
            self.send_json(200, {
                **identity,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": generation.finish_reason, "logprobs": None}],
                "usage": _usage(generation),
            })

        def _stream(self, identity: dict, generation: Generation, include_usage: bool) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("cache-control", "no-cache")
            # No content-length: the connection closing ends the stream.
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True

            def chunk(delta: dict, finish_reason: str | None) -> dict:
                return {**identity, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}

            def send(payload: dict | str) -> None:
                data = payload if isinstance(payload, str) else json.dumps(payload)
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

            send(chunk({"role": "assistant", "content": ""}, None))
            try:
                for piece in generation.pieces:
                    send(chunk({"content": piece}, None))
            except Exception as err:  # headers are out: report as a final event, as OpenAI does
                self.log_error("generation failed mid-stream: %r", err)
                send(OpenAIError(500, "server_error", "the model server failed while streaming", "internal_error").body())
                send("[DONE]")
                return
            send(chunk({}, generation.finish_reason))
            if include_usage:
                send({**identity, "object": "chat.completion.chunk", "choices": [], "usage": _usage(generation)})
            send("[DONE]")

    return Handler


def _usage(generation: Generation) -> dict:
    return {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.prompt_tokens + generation.completion_tokens,
    }


def create_server(engine: AdapterEngine, model_id: str, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> ThreadingHTTPServer:
    """`api_key`: the bearer key every route but /health asks for (None: none asked)."""
    handler = _handler(engine, model_id)
    handler.api_key = api_key
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-id", required=True, help="catalog id of the base model (config/models.json)")
    parser.add_argument("--adapter-dir", default=None, help="folder of a PEFT adapter (adapter_config.json + weights); base model alone when omitted")
    parser.add_argument("--served-name", default=None, help="model name clients send (default: the model id)")
    parser.add_argument("--host", default="127.0.0.1", help=f"bind address (default loopback only); the bearer key, if any, is read from ${API_KEY_ENV}")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--max-queue", type=int, default=16, help="requests allowed to wait while one generates")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: half the cores)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads or default_threads())
    engine = AdapterEngine.load(args.model_id, args.adapter_dir, args.max_queue)
    name = args.served_name or args.model_id
    server = create_server(engine, name, args.host, args.port, os.environ.get(API_KEY_ENV) or None)
    print(f"[serve] serving {name} at http://{args.host}:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
