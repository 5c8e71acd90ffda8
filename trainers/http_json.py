"""The base of llmloop's small Python HTTP servers (embeddings, the adapter model server)."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


class JsonRequestHandler(BaseHTTPRequestHandler):
    """Keep-alive JSON replies. Clients (the gateway, the evaluator) reuse their connection, so a
    request pays no TCP handshake; headers and body go out as two writes, and without TCP_NODELAY
    Nagle's algorithm holds the body until the client's delayed ACK (~40 ms a request)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base-class signature); request lines are noise in worker logs
        pass
