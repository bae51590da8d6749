"""The webhook: Meta's verification handshake, and notifications checked by their signature,
stored in the inbox and answered 200 at once (the inbox worker handles them later)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.webhook_body import TooLarge, parse_json, read_body
from bot.channels.whatsapp import inbox
from bot.channels.whatsapp.inbound import items, signature_ok
from bot.channels.whatsapp.offload import Offload
from bot.channels.whatsapp.worker import InboxWorker
from bot.config import ConfigError, Settings
from bot.core.desk import Clock
from bot.storage.db import Database

log = logging.getLogger(__name__)
PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def app_secret(settings: Settings) -> str:
    """The secret Meta signs notifications with: without it, no channel."""
    if not settings.whatsapp_app_secret:
        raise ConfigError("WHATSAPP_APP_SECRET: required to verify WhatsApp notifications")
    return settings.whatsapp_app_secret


class Webhook:
    """GET and POST /whatsapp/webhook; stored items go to this instance's worker at once."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        clock: Clock,
        worker: InboxWorker,
        offload: Offload,
    ) -> None:
        self.settings = settings
        self.secret = app_secret(settings)
        self.offload = offload
        self.database = database
        self.clock = clock
        self.worker = worker

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
        """A notification: verified, stored, answered 200; the worker handles it later.
        Its size is limited while it is read; it is parsed only once its signature holds."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            log.warning("whatsapp: a notification without a signature")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            raw = await read_body(request, self.settings.whatsapp_webhook_max_bytes)
        except TooLarge:
            log.warning("whatsapp: a notification over WHATSAPP_WEBHOOK_MAX_BYTES")
            return PlainTextResponse("too large", status_code=413)
        if not signature_ok(self.secret, raw, signature):
            log.warning("whatsapp: a notification with a wrong signature")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            found = items(parse_json(raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("whatsapp: a signed notification that cannot be read")
            return PlainTextResponse("bad request", status_code=400)
        if found:
            claim = self.worker.room > 0  # else left to any instance's worker
            stored = await self.offload(self._store, found, claim)
            if claim:
                self.worker.take(stored)
            else:
                self.worker.wake()
        return Response(status_code=200)

    def _store(
        self, found: list[tuple[str, dict[str, Any]]], claim: bool
    ) -> list[tuple[int, dict[str, Any]]]:
        with self.database.transaction() as session:
            return inbox.store(session, found, self.clock(), claim)
