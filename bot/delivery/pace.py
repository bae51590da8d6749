"""The deployment's sending pace: one row per channel that every sender advances atomically.

A sender reserves `count` send slots at `rate` a second: the row's `free_at` moves from
max(free_at, now) by count / rate, in one UPDATE ... RETURNING, so two processes never get the
same slot and together stay within the rate (a generic cell-rate algorithm without bursts).
A 429 pushes `free_at` past the pause Telegram asked for: every sender waits.

Within the slots, a sender also keeps its own sends to the platform's sliding window (`Window`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError

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

    def pause(self, until: float) -> None:
        """No slot starts before `until` (Telegram asked to wait)."""
        self._advance(until, 0.0)

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
