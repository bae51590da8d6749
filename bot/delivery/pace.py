"""The deployment's sending pace: one row per channel that every sender advances atomically.

A sender reserves `count` send slots at `rate` a second: the row's `free_at` moves from
max(free_at, now) by count / rate, in one UPDATE ... RETURNING, so two processes never get the
same slot and together stay within the rate (a generic cell-rate algorithm without bursts).
A 429 or an outage stores a pause (`halt.py`) that every sender checks right before each call,
and pushes `free_at` past it: no slot is reserved inside it.

Within the slots, a sender also keeps its own sends to the platform's sliding window (`Window`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.delivery.halt import Halt
from bot.storage.db import Database
from bot.storage.models import SendPace

# Platforms count over a sliding window: a late send followed by on-time ones would put one
# too many in some window. A send waits until the one `rate` sends back is this much more
# than a window old (the margin covers the trip to the platform).
WINDOW_MARGIN = 1.02


@dataclass(frozen=True)
class Profile:
    """A channel's pace: messages a second overall, and the gap between two to one chat."""

    rate: float
    chat_gap: timedelta


class Pace:
    """Send slots of one channel, shared through the database."""

    def __init__(self, database: Database, channel: str, rate: float) -> None:
        self.database = database
        self.channel = channel
        self.interval = 1.0 / rate

    def reserve(self, count: int, now: float) -> float:
        """Reserves `count` consecutive slots; returns when the first one starts (epoch s)."""
        span = count * self.interval
        free_at = self._advance(now, span)
        if free_at is None:
            self._create(now)
            free_at = self._advance(now, span)
        assert free_at is not None
        return free_at - span

    def halt(self, session: Session) -> Halt:
        """The shared pause, locked for this transaction."""
        query = select(SendPace).where(SendPace.channel == self.channel).with_for_update()
        row = session.scalars(query).first()
        if row is None:
            return Halt()
        return Halt(row.paused_until, row.outage_since, row.outage_backoff)

    def store(self, session: Session, halt: Halt, resumed: bool = False) -> None:
        """Writes the shared pause; no slot is reserved inside it (after an outage, slots
        start now again)."""
        values = {
            "paused_until": halt.paused_until,
            "outage_since": halt.outage_since,
            "outage_backoff": halt.backoff,
        }
        later = case(
            (SendPace.free_at > halt.paused_until, SendPace.free_at), else_=halt.paused_until
        )
        free_at = halt.paused_until if resumed else later
        statement = update(SendPace).where(SendPace.channel == self.channel)
        if not session.execute(statement.values(free_at=free_at, **values)).rowcount:  # type: ignore[attr-defined]
            session.add(SendPace(channel=self.channel, free_at=halt.paused_until, **values))

    def _advance(self, now: float, span: float) -> float | None:
        later = case((SendPace.free_at > now, SendPace.free_at), else_=now) + span
        with self.database.transaction() as session:
            statement = (
                update(SendPace)
                .where(SendPace.channel == self.channel)
                .values(free_at=later)
                .returning(SendPace.free_at)
            )
            return session.scalars(statement).first()

    def _create(self, now: float) -> None:
        try:
            with self.database.transaction() as session:
                session.add(SendPace(channel=self.channel, free_at=now))
        except IntegrityError:
            pass  # another sender created it first


class Window:
    """When this process started its last sends to one channel."""

    def __init__(self) -> None:
        self._starts: deque[float] = deque()

    async def keep(self, rate: float) -> None:
        """Waits while starting now would make more than `rate` sends in a window."""
        count = max(1, int(rate))
        starts = self._starts
        if starts.maxlen != count:
            starts = self._starts = deque(starts, maxlen=count)
        span = count / rate * WINDOW_MARGIN
        # Other sends append meanwhile: look again after each sleep (a deadline, no event).
        while len(starts) == count and (wait := starts[0] + span - time.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        starts.append(time.time())
