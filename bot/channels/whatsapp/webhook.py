"""The webhook: Meta's verification handshake, and notifications checked by their signature,
stored in the inbox and answered 200 at once (the inbox worker handles them later)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.whatsapp.inbound import items, signature_ok
from bot.channels.whatsapp.inbox import INBOX
from bot.config import ConfigError, Settings
from bot.core.desk import Clock
from bot.storage.db import Database

log = logging.getLogger(__name__)
PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"


class Webhook:
    """GET and POST /whatsapp/webhook; `wake` tells the worker that items were stored."""

    def __init__(
        self, settings: Settings, database: Database, clock: Clock, wake: Callable[[], None]
    ) -> None:
        if not settings.whatsapp_app_secret:
            raise ConfigError("WHATSAPP_APP_SECRET: required to verify WhatsApp notifications")
        self.settings = settings
        self.secret = settings.whatsapp_app_secret
        self.database = database
        self.clock = clock
        self.wake = wake

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self.verify, methods=["GET"]),
            Route(PATH, self.receive, methods=["POST"]),
        ]

    async def verify(self, request: Request) -> Response:
        """Meta's verification handshake: echoes hub.challenge to the right verify token."""
        params = request.query_params
        token = self.settings.whatsapp_verify_token or ""
        given = params.get("hub.verify_token", "")
        if (
            params.get("hub.mode") == "subscribe"
            and token
            and hmac.compare_digest(given.encode(), token.encode())
        ):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(self, request: Request) -> Response:
        """A notification: verified, stored, answered 200; the worker handles it later."""
        raw = await request.body()
        if not signature_ok(self.secret, raw, request.headers.get(SIGNATURE_HEADER)):
            log.warning("whatsapp: a notification with a missing or wrong signature")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            found = items(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("whatsapp: a signed notification that cannot be read")
            return PlainTextResponse("bad request", status_code=400)
        if found:
            await asyncio.to_thread(self._store, found)
            self.wake()
        return Response(status_code=200)

    def _store(self, found: list[tuple[str, dict[str, Any]]]) -> None:
        with self.database.transaction() as session:
            INBOX.store(session, found, self.clock())
