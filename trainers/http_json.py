"""The base of llmloop's small Python HTTP servers (embeddings, the adapter model server).

What every route gets from here: a body read only after its Content-Length is checked (a missing one
is an empty body; a negative, non-numeric or oversized one is refused, since `rfile.read(-1)` would
wait for the client to close), a JSON parse that refuses rather than crashes, an optional bearer key
compared in constant time, a socket timeout so a stalled client frees its thread, and a catch-all
500: a failing handler answers in OpenAI's error shape instead of dropping the connection.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import select
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Seconds a client may leave a request half-sent (or a kept-alive connection idle) before its thread is freed.
DEFAULT_SOCKET_TIMEOUT_S = 30.0


class HttpError(Exception):
    """A refusal the client sees as an OpenAI-style error body."""

    def __init__(self, status: int, message: str, error_type: str = "invalid_request_error", code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.error_type, self.code, self.param = status, message, error_type, code, param

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}}


def key_matches(presented: str, expected: str) -> bool:
    """Constant-time comparison; hashing first makes the compared lengths equal whatever was sent."""
    return hmac.compare_digest(hashlib.sha256(presented.encode()).digest(), hashlib.sha256(expected.encode()).digest())


class JsonRequestHandler(BaseHTTPRequestHandler):
    """Keep-alive JSON replies. Clients (the gateway, the evaluator) reuse their connection, so a
    request pays no TCP handshake; headers and body go out as two writes, and without TCP_NODELAY
    Nagle's algorithm holds the body until the client's delayed ACK (~40 ms a request).

    Servers set `api_key` (None: no key asked) and `max_body_bytes` on their subclass."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = DEFAULT_SOCKET_TIMEOUT_S
    max_body_bytes = DEFAULT_MAX_BODY_BYTES
    api_key: str | None = None
    _responded = False

    def send_response(self, code: int, message: str | None = None) -> None:
        self._responded = True
        super().send_response(code, message)

    def send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_http_error(self, err: HttpError) -> None:
        self.send_json(err.status, err.body())

    def read_body(self) -> bytes:
        """The request body, after checking its declared length; refused bodies close the connection,
        since the next request on it would start in the middle of their bytes."""
        declared = self.headers.get("content-length")
        if declared is None:
            return b""
        if not re.fullmatch(r"[0-9]{1,18}", declared.strip()):
            self.close_connection = True
            raise HttpError(400, f"Content-Length must be a non-negative integer, got {declared[:32]!r}", code="invalid_content_length")
        length = int(declared)
        if length > self.max_body_bytes:
            self.close_connection = True
            raise HttpError(413, f"request body exceeds {self.max_body_bytes} bytes", code="body_too_large")
        return self.rfile.read(length)

    def read_json(self) -> Any:
        raw = self.read_body()
        try:
            return json.loads(raw or b"null")
        except (ValueError, RecursionError) as err:  # not JSON, not UTF-8, or nested past the parser's stack
            raise HttpError(400, f"request body is not valid JSON: {str(err)[:200]}", code="invalid_json") from err

    def client_gone(self) -> bool:
        """Whether the client closed its end: the socket reads as end-of-file (pipelined bytes are left in place)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def require_key(self) -> None:
        """401 unless the bearer key matches (when the server has one)."""
        if self.api_key is None:
            return
        scheme, _, token = (self.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key_matches(token.strip(), self.api_key):
            raise HttpError(401, "missing or invalid API key (Authorization: Bearer <key>)", code="invalid_api_key")

    def handle_one_request(self) -> None:
        self._responded = False
        try:
            super().handle_one_request()
        except HttpError as err:
            self._answer_failure(err)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        except Exception as err:  # never a stack trace on the wire, never a silent drop
            self.log_error("request failed: %r", err)
            self._answer_failure(HttpError(500, "the server failed to handle the request", "server_error", "internal_error"))

    def _answer_failure(self, err: HttpError) -> None:
        if self._responded:  # the status is out: all that is left is to end the connection
            self.close_connection = True
            return
        try:
            self.send_http_error(err)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base-class signature); request lines are noise in worker logs
        pass
