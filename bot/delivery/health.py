"""/healthz and /metrics: is this instance fit to serve, and what has it done."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.delivery.outbox import QUEUED, UNCERTAIN
from bot.ops import metrics
from bot.storage.db import Database, driver_url
from bot.storage.models import OutboxMessage, WhatsAppInbox

DATABASE_TIMEOUT = 2.0  # seconds: a health check must answer before the prober gives up
MAX_TICK_AGE = 60.0  # seconds: the outbox job ticks every 2 s; a minute of silence is a hang


@dataclass(frozen=True)
class Health:
    database: bool
    tick_age: float | None  # seconds since the scheduler last ticked; None before its first
    backlog: int  # queued messages already due
    uncertain: int  # messages of unknown fate, for staff to check (deploy/README.md)

    @property
    def healthy(self) -> bool:
        return self.database and self.tick_age is not None and self.tick_age <= MAX_TICK_AGE

    def body(self) -> dict[str, object]:
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "database": "ok" if self.database else "unreachable",
            "scheduler_tick_age_seconds": self.tick_age and round(self.tick_age, 1),
            "outbox_backlog": self.backlog,
            "outbox_uncertain": self.uncertain,
        }


class Checkup:
    """Looks at the database (with a short timeout) and at the scheduler's last tick."""

    def __init__(
        self,
        database: Database,
        last_tick: Callable[[], float | None],
        timeout: float = DATABASE_TIMEOUT,
    ) -> None:
        self.database = database
        self.last_tick = last_tick
        self.timeout = timeout

    async def examine(self) -> Health:
        tick = self.last_tick()
        tick_age = None if tick is None else time.monotonic() - tick
        try:
            counts = await asyncio.wait_for(asyncio.to_thread(self.outbox_counts), self.timeout)
        except Exception:  # unreachable, gone, locked for too long: all say "not fit"
            return Health(database=False, tick_age=tick_age, backlog=0, uncertain=0)
        backlog, per_state, inbox_since = counts
        metrics.outbox_rows(per_state)
        lag = (datetime.now(UTC) - inbox_since).total_seconds() if inbox_since else 0.0
        metrics.whatsapp_inbox_lag(lag)
        return Health(True, tick_age, backlog, per_state.get(UNCERTAIN, 0))

    def outbox_counts(self) -> tuple[int, dict[str, int], datetime | None]:
        """Queued messages already due, the outbox's rows per state, and since when the
        oldest WhatsApp notification waits to be handled."""
        file = sqlite_file(self.database.url)
        if file is not None and not file.exists():  # an open connection would not notice
            raise FileNotFoundError(file)
        now = datetime.now(UTC)
        with self.database.transaction() as session:
            per_state = session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            ).all()
            backlog = session.scalar(
                select(func.count()).where(
                    OutboxMessage.state == QUEUED, OutboxMessage.due_at <= now
                )
            )
            inbox_since = session.scalar(
                select(func.min(WhatsAppInbox.received_at)).where(WhatsAppInbox.done_at.is_(None))
            )
        return backlog or 0, {state: count for state, count in per_state}, inbox_since


def sqlite_file(url: str) -> Path | None:
    database = make_url(driver_url(url))
    if database.get_backend_name() != "sqlite" or database.database in (None, "", ":memory:"):
        return None
    return Path(str(database.database))


def routes(checkup: Checkup, metrics_token: str | None = None) -> list[Route]:
    """GET /healthz (200 or 503, JSON) and GET /metrics (Prometheus text)."""

    async def healthz(_request: Request) -> Response:
        health = await checkup.examine()
        return JSONResponse(health.body(), status_code=200 if health.healthy else 503)

    async def metrics_page(request: Request) -> Response:
        if metrics_token and not bearer_matches(request, metrics_token):
            return PlainTextResponse("unauthorized", status_code=401)
        await checkup.examine()  # refreshes the outbox gauges
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    return [Route("/healthz", healthz), Route("/metrics", metrics_page)]


def bearer_matches(request: Request, token: str) -> bool:
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())
