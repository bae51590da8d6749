"""A fake WhatsApp Cloud API on 127.0.0.1, and Meta's side of the webhook.

The Graph API half takes `POST /{version}/{phone_number_id}/messages` and `/media` with the
bearer token and refuses what WhatsApp refuses (3 reply buttons of 20 characters, 10 list rows
of 24 + 72, bodies of 1,024 and texts of 4,096 characters, unapproved templates, unsupported
document types); a free-form message to a user whose 24-hour window has closed is accepted and
then fails with 131047 in a status notification, as on WhatsApp. The webhook half signs each
notification with the app secret (`X-Hub-Signature-256`) and posts it to Sportello.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.storage.models import WhatsAppInbox
from tests.bot_runner import running_bot
from tests.fake_telegram import serve_asgi
from tests.settings import make_settings

VERSION, PHONE_NUMBER_ID, TOKEN = "v25.0", "109876543210", "EAAG-test-token"
APP_SECRET, VERIFY_TOKEN = "meta-app-secret", "verify-me"
DOCUMENT_TYPES = {"text/plain", "application/pdf", "application/vnd.ms-excel"}
IMAGE_TYPES = {"image/png", "image/jpeg"}
APPROVED = {  # (name, language): number of body parameters
    ("sportello_avviso", "it"): 1,
    ("sportello_notice", "en"): 1,
    ("sportello_evento", "it"): 3,
    ("sportello_event", "en"): 3,
    ("sportello_richiamata", "it"): 2,
}
FAILURE_STATUS = {130429: 429, 131000: 500}  # HTTP status of an injected failure; else 400
_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.HBgMMzkzMzMxMjM0NTY3FQIAERgS{next(_ids):020d}"


@dataclass
class Seen:
    """A message the bot sent, as the user sees it."""

    body: dict[str, Any]

    @property
    def kind(self) -> str:
        kind = str(self.body["type"])
        return f"{kind}:{self.body['interactive']['type']}" if kind == "interactive" else kind

    @property
    def text(self) -> str:
        kind = self.body["type"]
        if kind == "text":
            return str(self.body["text"]["body"])
        if kind == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        if kind == "template":
            params = self.body["template"].get("components", [{}])[0].get("parameters", [])
            return " | ".join(p["text"] for p in params)
        return str(self.body[kind].get("caption", ""))

    @property
    def choices(self) -> list[dict[str, str]]:
        """Reply buttons and list rows: id, title (and description)."""
        if self.body["type"] != "interactive":
            return []
        action = self.body["interactive"]["action"]
        if "buttons" in action:
            return [b["reply"] for b in action["buttons"]]
        return [row for section in action.get("sections", ()) for row in section["rows"]]

    @property
    def labels(self) -> list[str]:
        return [c["title"] for c in self.choices]


class Refused(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass
class FakeWhatsApp:
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    window: timedelta = timedelta(hours=24)
    statuses: bool = False  # post sent/delivered statuses for every message
    webhook_url: str = ""
    base_url: str = ""
    inbox: dict[str, list[Seen]] = field(default_factory=lambda: defaultdict(list))
    ids: dict[str, str] = field(default_factory=dict)  # wamid -> recipient
    refused: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    media: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)  # codes to answer the next sends with
    aliases: dict[str, str] = field(default_factory=dict)  # a BSUID -> the person's inbox
    marked_read: list[dict[str, Any]] = field(default_factory=list)  # read + typing requests
    calls: int = 0
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _http: httpx.AsyncClient | None = None
    _posting: set[asyncio.Task[Any]] = field(default_factory=set)
    _arrived: dict[str, asyncio.Event] = field(default_factory=dict)

    async def __aenter__(self) -> FakeWhatsApp:
        app = Starlette(
            routes=[
                Route("/{version}/{phone}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{phone}/media", self._media, methods=["POST"]),
                Route("/download/{media_id}", self._download, methods=["GET"]),
                Route("/{version}/{media_id}", self._media_url, methods=["GET"]),
            ]
        )
        self.base_url = await self._stack.enter_async_context(serve_asgi(app))
        # Like Meta, keeps connections open (the default keeps 20: more users would reconnect).
        self._http = httpx.AsyncClient(
            timeout=10, limits=httpx.Limits(max_keepalive_connections=100)
        )
        return self

    async def received(self, who: str, count: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Waits until `who` (a number or a BSUID) has been sent `count` messages in all."""
        key = self.aliases.get(who, who)
        async with asyncio.timeout(timeout):
            while len(self.inbox[key]) < count:
                arrived = self._arrived.setdefault(key, asyncio.Event())
                await arrived.wait()
                arrived.clear()

    async def __aexit__(self, *_exc: object) -> None:
        if self._posting:
            await asyncio.wait(self._posting, timeout=5)
        assert self._http is not None
        await self._http.aclose()
        await self._stack.aclose()

    def settings(self, port: int) -> dict[str, object]:
        self.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        return {
            "whatsapp_api_base_url": self.base_url,
            "whatsapp_api_version": VERSION,
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_access_token": TOKEN,
            "whatsapp_app_secret": APP_SECRET,
            "whatsapp_verify_token": VERIFY_TOKEN,
            "port": port,
        }

    def assert_no_refusals(self) -> None:
        assert not self.refused, self.refused

    # Meta's webhook ----------------------------------------------------------------

    async def notify(self, value: dict[str, Any], secret: str | None = APP_SECRET) -> int:
        """Posts one notification, signed like Meta's (or not: secret=None); its HTTP status."""
        raw = json.dumps(envelope(value)).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        assert self._http is not None
        response = await self._http.post(self.webhook_url, content=raw, headers=headers)
        return response.status_code

    def user_wrote(self, wa_id: str) -> None:
        self.last_inbound[wa_id] = self.clock()

    def status(self, message_id: str, state: str, code: int | None = None) -> dict[str, Any]:
        status: dict[str, Any] = {
            "id": message_id,
            "status": state,
            "timestamp": str(int(self.clock().timestamp())),
        }
        address = self.ids.get(message_id, "")
        status["recipient_user_id" if "." in address else "recipient_id"] = address
        if code is not None:
            status["errors"] = [{"code": code, "title": f"error {code}"}]
        return {"statuses": [status]}

    def _later(self, work: Awaitable[Any]) -> None:
        task = asyncio.get_running_loop().create_task(_after(0.05, work))
        self._posting.add(task)
        task.add_done_callback(self._posting.discard)

    # The Graph API -------------------------------------------------------------------

    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        if body.get("status") == "read":  # blue ticks and "typing…"
            self.marked_read.append(body)
            return JSONResponse({"success": True})
        self.calls += 1
        try:
            self._check_auth(request)
            if self.failures:  # told to fail: not a refusal of a bad request
                code = self.failures.pop(0)
                return _error(Refused(code, f"error {code}", FAILURE_STATUS.get(code, 400)))
            address = str(body.get("to") or body.get("recipient") or "")
            to = self.aliases.get(address, address)
            check_message(body, self.media)
        except Refused as refused:
            if refused.code not in (130429, 131056, 131047):
                self.refused.append((body, str(refused)))
            return _error(refused)
        message_id = wamid()
        self.ids[message_id] = address
        opened = self.last_inbound.get(to)
        closed = opened is None or self.clock() - opened > self.window
        if closed and body["type"] != "template":
            self._later(self.notify(self.status(message_id, "failed", 131047)))
        else:
            self.inbox[to].append(Seen(body))
            if to in self._arrived:  # someone waits for it: only they wake
                self._arrived[to].set()
            if self.statuses:
                self._later(self.notify(self.status(message_id, "delivered")))
        contact = {"input": address, "wa_id" if address == to else "user_id": address}
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": message_id}],
            }
        )

    async def _media(self, request: Request) -> Response:
        try:
            self._check_auth(request)
            fields = _multipart(request.headers["content-type"], await request.body())
            filename, content = fields["file"]
            mime = fields["type"][1].decode()
            if mime not in DOCUMENT_TYPES | IMAGE_TYPES:
                raise Refused(131053, f"media type {mime} not supported")
        except Refused as refused:
            self.refused.append(({"media": True}, str(refused)))
            return _error(refused)
        media_id = str(next(_ids))
        self.media[media_id] = (filename, mime, content)
        return JSONResponse({"id": media_id})

    async def _media_url(self, request: Request) -> Response:
        """GET /{version}/{media-id}: where to download a file (users' ones included)."""
        media_id = request.path_params["media_id"]
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(Refused(190, "invalid access token", 401))
        if media_id not in self.media:
            return _error(Refused(100, f"unknown media {media_id}"))
        _filename, mime, content = self.media[media_id]
        url = f"{self.base_url}/download/{media_id}"
        return JSONResponse(
            {"url": url, "mime_type": mime, "file_size": len(content), "id": media_id}
        )

    async def _download(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(status_code=401)
        found = self.media.get(request.path_params["media_id"])
        if found is None:
            return Response(status_code=404)
        return Response(found[2], media_type=found[1])

    def _check_auth(self, request: Request) -> None:
        params = request.path_params
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise Refused(190, "invalid access token", 401)
        if params["version"] != VERSION or params["phone"] != PHONE_NUMBER_ID:
            raise Refused(100, "unknown phone number id", 400)


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str, bytes]]:
    """A multipart/form-data body: field name -> (file name, bytes)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=default).parsebytes(head + raw)
    assert isinstance(message, EmailMessage)
    fields = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        fields[name] = (str(part.get_filename() or ""), payload)
    return fields


async def _after(delay: float, work: Awaitable[Any]) -> None:
    await asyncio.sleep(delay)
    await work


def _error(refused: Refused) -> Response:
    error = {"message": str(refused), "type": "OAuthException", "code": refused.code}
    return JSONResponse({"error": error}, status_code=refused.status)


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    """A notification as Meta posts it."""
    metadata = {"display_phone_number": "390121000000", "phone_number_id": PHONE_NUMBER_ID}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def check_message(body: dict[str, Any], media: dict[str, Any]) -> None:
    """Refuses what WhatsApp refuses."""
    if body.get("messaging_product") != "whatsapp" or not (body.get("to") or body.get("recipient")):
        raise Refused(100, "messaging_product and to (or recipient) are required")
    if body.get("to") and body.get("recipient"):
        raise Refused(100, "to and recipient: one or the other")
    kind = body.get("type")
    if kind == "text":
        _length(body["text"]["body"], 4096, "text body")
    elif kind == "interactive":
        _check_interactive(body["interactive"])
    elif kind == "template":
        _check_template(body["template"])
    elif kind in ("document", "image"):
        item = body[kind]
        if item.get("id") not in media:
            raise Refused(131053, "unknown media id")
        if "caption" in item:
            _length(item["caption"], 1024, "caption")
    else:
        raise Refused(100, f"unknown type {kind}")


def _check_interactive(interactive: dict[str, Any]) -> None:
    _length(interactive["body"]["text"], 1024, "interactive body")
    action = interactive["action"]
    if interactive["type"] == "button":
        buttons = [b["reply"] for b in action["buttons"]]
        if not 1 <= len(buttons) <= 3:
            raise Refused(131009, "1 to 3 buttons")
        for button in buttons:
            _length(button["title"], 20, "button title")
            _length(button["id"], 256, "button id")
        if len({b["title"] for b in buttons}) < len(buttons):
            raise Refused(131009, "button titles must be unique")
    elif interactive["type"] == "list":
        _length(action["button"], 20, "list button")
        rows = [row for section in action["sections"] for row in section["rows"]]
        if not 1 <= len(rows) <= 10:
            raise Refused(131009, "1 to 10 rows")
        for row in rows:
            _length(row["title"], 24, "row title")
            _length(row["id"], 200, "row id")
            if "description" in row:
                _length(row["description"], 72, "row description")
        if len({row["id"] for row in rows}) < len(rows):
            raise Refused(131009, "row ids must be unique")
    elif interactive["type"] == "cta_url":
        parameters = action["parameters"]
        _length(parameters["display_text"], 20, "link button text")
        if action.get("name") != "cta_url" or not parameters["url"].startswith(("http", "tel")):
            raise Refused(131009, "cta_url: name cta_url and an http(s) url")
    else:
        raise Refused(100, "unknown interactive type")


def _check_template(template: dict[str, Any]) -> None:
    key = (template["name"], template["language"]["code"])
    if key not in APPROVED:
        raise Refused(132001, f"template {key} does not exist")
    params = template.get("components", [{}])[0].get("parameters", [])
    if len(params) != APPROVED[key]:
        raise Refused(132000, "number of parameters does not match")
    for param in params:
        value = param["text"]
        if "\n" in value or "\t" in value or "     " in value:
            raise Refused(132018, "parameter with new lines, tabs or 4+ spaces")


def _length(value: str, limit: int, what: str) -> None:
    if not value or len(value) > limit:
        raise Refused(131009, f"{what}: 1 to {limit} characters, got {len(value)}")


@dataclass
class Phone:
    """A WhatsApp user: writes and taps, then reads what the bot answered once it is done.
    Since 2026 a user has a BSUID (`user_id`); one with a username may hide their number
    (`wa_id` empty)."""

    fake: FakeWhatsApp
    wa_id: str
    name: str
    settled: Callable[[str], Awaitable[None]]  # waits until the bot handled a message id
    read: int = 0
    user_id: str = ""
    username: str = ""

    def __post_init__(self) -> None:
        if self.user_id:
            self.fake.aliases[self.user_id] = self.inbox_key

    @property
    def inbox_key(self) -> str:
        return self.wa_id or self.user_id

    @property
    def seen(self) -> list[Seen]:
        return self.fake.inbox[self.inbox_key]

    async def says(self, text: str) -> list[Seen]:
        return await self._send({"type": "text", "text": {"body": text}})

    async def taps(self, label: str) -> list[Seen]:
        """Taps the newest reply button or list row with this title or description (exactly,
        else containing it)."""
        for exact in (True, False):
            for message in reversed(self.seen):
                for choice in message.choices:
                    shown = (choice["title"], choice.get("description") or "")
                    if label in shown if exact else any(label in text for text in shown):
                        return await self._tap(message, choice)
        raise AssertionError(f"no {label!r} among {[m.labels for m in self.seen]}")

    async def goes(self, command: str, *labels: str) -> list[Seen]:
        """Writes a command, then taps these labels in turn; what the last tap brought."""
        seen = await self.says(command)
        for label in labels:
            seen = await self.taps(label)
        return seen

    async def _tap(self, message: Seen, choice: dict[str, str]) -> list[Seen]:
        kind = "button_reply" if message.kind == "interactive:button" else "list_reply"
        reply = {"type": kind, kind: {"id": choice["id"], "title": choice["title"]}}
        return await self._send({"type": "interactive", "interactive": reply})

    async def sends_photo(self, content: bytes, caption: str = "") -> list[Seen]:
        """A photo from the phone's gallery: WhatsApp keeps it for the bot to download."""
        media_id = str(next(_ids))
        self.fake.media[media_id] = ("", "image/jpeg", content)
        image = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x", "caption": caption}
        return await self._send({"type": "image", "image": image})

    async def shares(self, **content: Any) -> list[Seen]:
        return await self._send(content)

    async def _send(self, content: dict[str, Any]) -> list[Seen]:
        message_id = wamid()
        message = {
            "id": message_id,
            "timestamp": str(int(self.fake.clock().timestamp())),
            **self._ids("from", "from_user_id"),
            **content,
        }
        profile = {"name": self.name, **({"username": self.username} if self.username else {})}
        contact = {"profile": profile, **self._ids("wa_id", "user_id")}
        self.fake.user_wrote(self.inbox_key)
        assert await self.fake.notify({"contacts": [contact], "messages": [message]}) == 200
        await self.settled(message_id)
        return self.new()

    def _ids(self, phone_field: str, bsuid_field: str) -> dict[str, str]:
        ids = {phone_field: self.wa_id, bsuid_field: self.user_id}
        return {name: value for name, value in ids.items() if value}

    def new(self) -> list[Seen]:
        """What arrived since the last look."""
        fresh = self.seen[self.read :]
        self.read = len(self.seen)
        return fresh


# Sportello on the fake ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def on_whatsapp(
    fake: FakeWhatsApp, database_url: str, clock: Callable[[], datetime], **extra: object
) -> AsyncIterator[App]:
    """Sportello running on the fake Graph API (no gap between queued messages to a user)."""
    settings = make_settings(
        database_url,
        quiet_hours="off",
        whatsapp_chat_gap=0,
        **{**fake.settings(free_port()), **extra},
    )
    async with running_bot(settings, clock) as running:  # type: ignore[arg-type]
        yield running


def phone(fake: FakeWhatsApp, app: App, wa_id: str, name: str, **ids: str) -> Phone:
    """A user by phone number (`wa_id`), and with `user_id=` (BSUID), `username=`."""
    return Phone(fake, wa_id, name, lambda message_id: handled(app, message_id), **ids)


async def handled(app: App, key: str) -> None:
    """Waits (10 s at most) until the inbox item is handled: its replies have all been sent."""
    query = select(WhatsAppInbox.done_at).where(WhatsAppInbox.key == key)
    for _ in range(2000):
        with app.database.transaction() as session:
            if session.scalars(query).first() is not None:
                return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{key} not handled within 10 s")
