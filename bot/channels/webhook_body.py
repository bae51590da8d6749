"""A webhook's body, read safely: a size limit enforced while reading, JSON of bounded depth.

Callers check what they can before reading (Telegram's secret header) and the signature
before parsing (WhatsApp signs the raw bytes), so an unsigned body is never parsed.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

MAX_DEPTH = 64  # Telegram's and Meta's notifications nest a dozen levels at most


class TooLarge(Exception):
    """The body is over the limit (HTTP 413)."""


class NotJson(ValueError):
    """The body is not JSON, or nests deeper than MAX_DEPTH (HTTP 400)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk: TooLarge as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `raw`; NotJson when it is not JSON or nests deeper than `max_depth`."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise NotJson(str(error)[:100]) from None
    if depth(value) > max_depth:
        raise NotJson(f"nested deeper than {max_depth}")
    return value


def depth(value: Any) -> int:
    """How deep containers nest in a JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            deepest = max(deepest, level + 1)
            stack.extend((item, level + 1) for item in current)
    return deepest
