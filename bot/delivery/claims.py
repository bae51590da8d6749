"""Which outbox rows of a channel may go now, and claiming them (on the sender's threads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select

from bot.config import Settings
from bot.delivery import outbox
from bot.delivery.outbox import Claimed
from bot.delivery.pace import Profile
from bot.delivery.quiet_hours import WAITING_KINDS
from bot.storage.db import Database


@dataclass(frozen=True)
class Claims:
    """A channel's due rows, one per chat: counted, looked for, claimed for sender `instance`."""

    database: Database
    clock: Callable[[], datetime]
    settings: Settings
    instance: int

    def sendable(self, channel: str, profile: Profile, limit: int) -> int:
        """How many rows may go now, up to `limit`."""
        with self.database.transaction() as session:
            rows = session.execute(self._candidates(channel, profile.chat_gap).limit(limit * 4))
            return len(outbox.one_per_chat(rows, limit))

    def paced(self, channel: str) -> bool:
        """Are due rows waiting only because their chat just got a message?"""
        with self.database.transaction() as session:
            return (
                session.execute(self._candidates(channel, timedelta(0)).limit(1)).first()
                is not None
            )

    def claim(self, channel: str, profile: Profile, limit: int) -> list[Claimed]:
        """Marks up to `limit` rows that may go now `sending` for this sender."""
        with self.database.transaction() as session:
            candidates = self._candidates(channel, profile.chat_gap)
            return outbox.claim(session, candidates, limit, self.instance)

    def _candidates(self, channel: str, chat_gap: timedelta) -> Select[int, str]:
        now = self.clock()
        quiet = self.settings.quiet
        waiting = WAITING_KINDS if quiet and quiet.contains(now, self.settings.zone) else ()
        return outbox.due(channel, now, chat_gap, waiting, wall_now=datetime.now(UTC))
