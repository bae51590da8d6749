"""Messages due at a moment: rows written with what they remind of, moved to the outbox then.

A feature schedules a reminder in the same transaction as the booking or event it belongs
to, and cancels it with it. The periodic job renders each due row in the user's language
and queues it in the outbox under a key of its own, in one transaction: a restart loses
none and queues none twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import outbox
from bot.storage.db import Database
from bot.storage.models import Reminder, User
from bot.values.i18n import use_locale
from bot.values.messages import Address, Delivery, Outbound
from bot.values.payload import Signer

log = logging.getLogger(__name__)
PENDING, QUEUED, CANCELLED, DROPPED = "pending", "queued", "cancelled", "dropped"
BATCH = 200


@dataclass(frozen=True)
class Due:
    """A reminder that came due, as its renderer sees it."""

    reminder: Reminder
    user: User
    session: Session
    settings: Settings
    signer: Signer
    now: datetime


Render = Callable[[Due], Outbound | None]  # None: nothing to remind any more


def schedule(
    session: Session,
    *,
    key: str,
    kind: str,
    ref: str,
    user_id: int,
    due_at: datetime,
    expires_at: datetime | None = None,
) -> Reminder:
    """Adds a pending reminder (the caller's transaction makes it durable with its cause)."""
    reminder = Reminder(
        key=key,
        kind=kind,
        ref=ref,
        user_id=user_id,
        due_at=due_at,
        expires_at=expires_at,
        state=PENDING,
    )
    session.add(reminder)
    return reminder


def cancel(session: Session, ref: str) -> int:
    """Cancels the pending reminders of one booking or event; returns how many."""
    statement = (
        update(Reminder)
        .where(Reminder.ref == ref, Reminder.state == PENDING)
        .values(state=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


class Reminders:
    """The periodic job: moves due reminders into the outbox, rendered by their feature."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        signer: Signer,
        renderers: Mapping[str, Render],
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.settings = settings
        self.signer = signer
        self.renderers = dict(renderers)
        self.clock = clock

    async def run(self) -> int:
        """Queues what is due; returns how many were queued."""
        queued = 0
        while moved := await asyncio.to_thread(self._move_due):
            queued += moved[0]
            if moved[1] < BATCH:
                break
        return queued

    def _move_due(self) -> tuple[int, int] | None:
        """One batch: (queued, seen), or None when nothing is due."""
        now = self.clock()
        with self.database.transaction() as session:
            due = session.scalars(
                select(Reminder)
                .where(Reminder.state == PENDING, Reminder.due_at <= now)
                .order_by(Reminder.due_at, Reminder.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not due:
                return None
            queued = sum(self._move(session, reminder, now) for reminder in due)
            return queued, len(due)

    def _move(self, session: Session, reminder: Reminder, now: datetime) -> int:
        user = session.get(User, reminder.user_id) if reminder.user_id else None
        render = self.renderers.get(reminder.kind)
        if user is None or render is None or _too_late(reminder, now):
            if render is None:
                log.warning("reminder %s: no renderer for kind %s", reminder.id, reminder.kind)
            reminder.state = DROPPED
            return 0
        with use_locale(user.locale, self.settings.zone):
            message = render(Due(reminder, user, session, self.settings, self.signer, now))
        if message is None:
            reminder.state = DROPPED
            return 0
        address = Address(user.channel, user.chat_id)
        delivery = Delivery(address, message, f"reminder:{reminder.key}", kind="reminder")
        outbox.enqueue(session, delivery, now)
        reminder.state = QUEUED
        return 1


def _too_late(reminder: Reminder, now: datetime) -> bool:
    """A reminder that came due while the bot was down goes only if it still makes sense."""
    return reminder.expires_at is not None and now >= reminder.expires_at
