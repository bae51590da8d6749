"""The WhatsApp Cloud API (Graph API) client: all network I/O of the channel goes through here."""

from __future__ import annotations

from typing import Any

import httpx

from bot.channels.whatsapp.identity import is_bsuid
from bot.channels.whatsapp.render import Upload
from bot.config import Settings

# Graph API error codes the channel acts on.
RE_ENGAGEMENT = 131047  # more than 24 hours since the user wrote: templates only
THROUGHPUT = 130429  # too many messages a second from this number
PAIR_RATE = 131056  # too many messages to the same user
SPAM_RATE = 131048
RATE_CODES = frozenset({THROUGHPUT, PAIR_RATE, SPAM_RATE, 4, 80007})
MARKETING_CAP = 131049  # Meta's cap on marketing messages to this user: skipped, not retried
MARKETING_STOPPED = 131050  # the user stopped marketing messages from us
# The user cannot receive this message (not on WhatsApp, blocked us, unsupported app).
UNDELIVERABLE = frozenset({131026, MARKETING_CAP, MARKETING_STOPPED, 131021})


class GraphError(Exception):
    """The Graph API refused a call; `code` is its error code (0 if none came back)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code


class GraphClient:
    """POST /{version}/{phone_number_id}/messages and /media, with the bearer token."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        base = settings.whatsapp_api_base_url.rstrip("/")
        self.graph = f"{base}/{settings.whatsapp_api_version}"
        self.root = f"{self.graph}/{settings.whatsapp_phone_number_id}"
        self.http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {settings.whatsapp_access_token}"},
            timeout=httpx.Timeout(30.0, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=transport,
        )

    async def send(self, to: str, body: dict[str, Any]) -> str:
        """Sends one message; returns its WhatsApp message id."""
        field = "recipient" if is_bsuid(to) else "to"  # a BSUID when there is no number
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", field: to}
        answer = await self._call("messages", json={**payload, **body})
        return str(answer["messages"][0]["id"])

    async def mark_read(self, message_id: str) -> None:
        """Blue ticks on the user's message, and "typing…" until the answer (25 s at most)."""
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
            "typing_indicator": {"type": "text"},
        }
        await self._call("messages", json=body)

    async def upload(self, upload: Upload) -> str:
        """Uploads a file; returns the media id to send it with."""
        files = {"file": (upload.filename, upload.content, upload.mime_type)}
        data = {"messaging_product": "whatsapp", "type": upload.mime_type}
        answer = await self._call("media", data=data, files=files)
        return str(answer["id"])

    async def download(self, media_id: str) -> bytes:
        """A file a user sent: its address first, then its bytes (both with the token)."""
        found = await self.http.get(f"{self.graph}/{media_id}")
        if found.is_error:
            raise GraphError(found.status_code, 0, found.reason_phrase)
        content = await self.http.get(str(found.json()["url"]))
        if content.is_error:
            raise GraphError(content.status_code, 0, content.reason_phrase)
        return content.content

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, path: str, **request: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.root}/{path}", **request)
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            answer = {}
        if response.is_error or "error" in answer:
            error = answer.get("error") or {}
            message = str(error.get("message") or response.reason_phrase)
            raise GraphError(response.status_code, int(error.get("code") or 0), message)
        return answer
