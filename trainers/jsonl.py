"""JSONL as the TypeScript side writes it: one JSON document per '\\n'-terminated line.

str.splitlines() also splits on U+0085, U+2028 and U+2029, which JSON.stringify leaves raw inside
strings, so it would cut a valid row in two; only '\\n' separates rows.
"""
from __future__ import annotations

from collections.abc import Iterator


def jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) for every non-blank line."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line.rstrip("\r")
