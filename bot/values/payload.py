"""Button data: a short typed payload the core packs, signs and verifies (64 bytes at most)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

MAX_BYTES = 64
_SIGNATURE_CHARS = 8


class BadPayload(Exception):
    """Button data that we did not make, or that no longer fits any action."""


@dataclass(frozen=True)
class Pressed:
    action: str
    args: tuple[str, ...]


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def pack(self, action: str, *args: object) -> str:
        parts = [action, *(str(arg) for arg in args)]
        if any(":" in part or "~" in part for part in parts):
            raise ValueError(f"payload parts may not contain ':' or '~': {parts}")
        body = ":".join(parts)
        data = f"{body}~{self._sign(body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"payload over {MAX_BYTES} bytes: {data}")
        return data

    def unpack(self, data: str) -> Pressed:
        body, _, signature = data.rpartition("~")
        if not body or not signature.isascii():  # ours are ASCII; compare_digest needs it
            raise BadPayload(data)
        if not hmac.compare_digest(signature, self._sign(body)):
            raise BadPayload(data)
        action, *args = body.split(":")
        return Pressed(action, tuple(args))

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]
