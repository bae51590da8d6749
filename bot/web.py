"""One ASGI app for the webhooks (Telegram, WhatsApp), /healthz and /metrics."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.telegram import TelegramChannel
from bot.channels.webhook_body import TooLarge, parse_json, read_body
from bot.channels.whatsapp.channel import WhatsAppChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(webhook_url: str) -> str:
    """The path Telegram posts to: the path of WEBHOOK_URL, or /telegram."""
    path = urlparse(webhook_url).path.rstrip("/")
    return path or "/telegram"


def build_web_app(
    telegram: TelegramChannel | None,
    secret: str | None,
    path: str,
    whatsapp: WhatsAppChannel | None = None,
    health: Sequence[BaseRoute] = (),
) -> Starlette:
    """`health`: /healthz and /metrics (bot/delivery/health.py), served in every mode."""

    async def telegram_update(request: Request) -> Response:
        assert telegram is not None
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            raw = await read_body(request, telegram.settings.webhook_max_bytes)
            await telegram.receive(parse_json(raw))
        except TooLarge:
            log.warning("webhook: a body over WEBHOOK_MAX_BYTES")
            return PlainTextResponse("too large", status_code=413)
        except ValueError:
            log.warning("webhook: a body that is not an update")
            return PlainTextResponse("bad request", status_code=400)
        return Response(status_code=200)

    routes = list(health)
    if telegram is not None:
        routes.append(Route(path, telegram_update, methods=["POST"]))
    if whatsapp is not None:
        routes.extend(whatsapp.routes())  # /whatsapp/webhook
    return Starlette(routes=routes)
