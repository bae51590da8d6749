"""The deployment's sending pace: one row per channel that every sender advances atomically.

A sender reserves `count` send slots at `rate` a second: the row's `free_at` moves from
max(free_at, now) by count / rate, in one UPDATE ... RETURNING, so two processes never get the
same slot and together stay within the rate (a generic cell-rate algorithm without bursts).
A 429 pushes `free_at` past the pause Telegram asked for: every sender waits.
"""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database
from bot.storage.models import SendPace


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
