"""The durable outbox: messages are rows first, then a sender delivers them, once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import codec
from bot.db import Database
from bot.messages import Delivery, Outbound
from bot.models import OutboxMessage, User

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, FAILED, BLOCKED, UNCERTAIN = (
    "queued",
    "sending",
    "sent",
    "failed",
    "blocked",
    "uncertain",
)
MAX_ATTEMPTS = 5
BATCH = 50


class PermanentFailure(Exception):
    """The platform will never take this message (e.g. the user blocked the bot)."""

    def __init__(self, reason: str, blocked: bool = False) -> None:
        super().__init__(reason)
        self.blocked = blocked


Send = Callable[[str, Outbound], Awaitable[None]]


def enqueue(
    session: Session, delivery: Delivery, now: datetime, due_at: datetime | None = None
) -> bool:
    """Queues one message; False when a message with the same key is already queued."""
    user_id = session.scalars(
        select(User.id).where(
            User.channel == delivery.to.channel, User.chat_id == delivery.to.chat_id
        )
    ).first()
    row = OutboxMessage(
        key=delivery.key or f"once:{uuid.uuid4().hex}",
        channel=delivery.to.channel,
        chat_id=delivery.to.chat_id,
        user_id=user_id,
        body=codec.encode(delivery.message),
        due_at=due_at or now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def enqueue_deliveries(session: Session, deliveries: Iterable[Delivery], now: datetime) -> None:
    for delivery in deliveries:
        enqueue(session, delivery, now)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, 600))


@dataclass
class Claimed:
    id: int
    chat_id: str
    message: Outbound
    attempts: int


class OutboxSender:
    """Claims due rows, marks them `sending`, sends with no lock held, records the outcome."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.senders: dict[str, Send] = {}
        self.clock = clock
        self._running = asyncio.Lock()

    def serve(self, senders: Mapping[str, Send]) -> None:
        """Delivers, from now on, the rows of these channels (the ones running here)."""
        self.senders.update(senders)

    async def drain(self) -> int:
        """Sends everything due now; returns how many were sent."""
        if self._running.locked():
            return 0
        async with self._running:
            sent = 0
            while batch := await asyncio.to_thread(self._claim):
                for channel, claimed in batch:
                    sent += await self._send(channel, claimed)
            return sent

    def recover(self) -> int:
        """After a crash, rows left `sending` may or may not have gone out: mark them."""
        with self.database.transaction() as session:
            result = session.execute(
                update(OutboxMessage).where(OutboxMessage.state == SENDING).values(state=UNCERTAIN)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def _claim(self) -> list[tuple[str, Claimed]]:
        with self.database.transaction() as session:
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.state == QUEUED,
                    OutboxMessage.due_at <= self.clock(),
                    OutboxMessage.channel.in_(self.senders),
                )
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
            rows = session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(state=SENDING)
                .returning(OutboxMessage)
            ).all()
            return [
                (row.channel, Claimed(row.id, row.chat_id, codec.decode(row.body), row.attempts))
                for row in rows
            ]

    async def _send(self, channel: str, claimed: Claimed) -> int:
        try:
            await self.senders[channel](claimed.chat_id, claimed.message)
        except PermanentFailure as failure:
            state = BLOCKED if failure.blocked else FAILED
            await asyncio.to_thread(self._finish, claimed, state, str(failure))
            return 0
        except Exception as error:
            log.warning("outbox %s: send failed: %s", claimed.id, error)
            await asyncio.to_thread(self._retry, claimed, str(error))
            return 0
        await asyncio.to_thread(self._finish, claimed, SENT, None)
        return 1

    def _finish(self, claimed: Claimed, state: str, error: str | None) -> None:
        sent_at = self.clock() if state == SENT else None
        self._mark(claimed, state=state, last_error=error, sent_at=sent_at)

    def _retry(self, claimed: Claimed, error: str) -> None:
        if claimed.attempts + 1 >= MAX_ATTEMPTS:
            self._finish(claimed, FAILED, error)
            return
        due_at = self.clock() + backoff(claimed.attempts + 1)
        self._mark(claimed, state=QUEUED, last_error=error, due_at=due_at)

    def _mark(self, claimed: Claimed, **values: object) -> None:
        """Records the outcome of one attempt on the claimed row."""
        with self.database.transaction() as session:
            statement = update(OutboxMessage).where(OutboxMessage.id == claimed.id)
            session.execute(statement.values(attempts=claimed.attempts + 1, **values))
