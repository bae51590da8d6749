"""What became of each claimed row: sent, failed, blocked, uncertain, tried again or given back.

The outcomes of sends that end while another outcome is being written are written together,
in one transaction, each row with its own state. Only rows still in the hands of this sender
are touched: recovery may have marked them `uncertain` meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.delivery.outbox import (
    BLOCKED,
    FAILED,
    QUEUED,
    SENT,
    SKIPPED,
    UNCERTAIN,
    Claimed,
    PermanentFailure,
    Skipped,
)
from bot.delivery.threads import Threads
from bot.storage.batches import Batches
from bot.storage.db import Database
from bot.storage.models import OutboxMessage

log = logging.getLogger(__name__)
BlockedHook = Callable[[Session, int], None]  # (session, user id): e.g. unsubscribe them


class Outcomes:
    """Writes the outcome of each attempt on a row that sender `instance` claimed."""

    def __init__(
        self, database: Database, clock: Callable[[], datetime], instance: int, threads: Threads
    ) -> None:
        self.database = database
        self.clock = clock
        self.instance = instance
        self.threads = threads
        self.on_blocked: list[BlockedHook] = []
        self._batches = Batches(self._write_all)  # ended sends, written together

    async def sent(self, claimed: Claimed, ref: str | None = None) -> None:
        """Delivered; `ref` is the platform's id of the message (to redact it later)."""
        await self._record(claimed, SENT, None, ref)

    async def uncertain(self, claimed: Claimed, error: str) -> None:
        """The platform may have it: never sent again."""
        await self._record(claimed, UNCERTAIN, error)

    async def failed(self, claimed: Claimed, failure: PermanentFailure) -> None:
        await self.threads.run(self._fail, claimed, failure)

    async def give_back(
        self, claimed: Claimed, error: str | None = None, due_at: datetime | None = None
    ) -> None:
        await self.threads.run(self._give_back, claimed, error, due_at)

    async def _record(
        self, claimed: Claimed, state: str, error: str | None, ref: str | None = None
    ) -> None:
        """Writes the outcome, with those of the sends that ended while the last was written."""
        sent_at = datetime.now(UTC) if state == SENT else None  # real time: the pace's
        outcome = outbox.Outcome(claimed.id, claimed.attempts + 1, state, error, sent_at, ref)
        await self._batches.add(outcome)

    async def _write_all(self, outcomes: list[outbox.Outcome]) -> None:
        await self.threads.run(self._write, outcomes)

    # Rows (on the sender's threads) -------------------------------------------------

    def _write(self, outcomes: list[outbox.Outcome]) -> None:
        with self.database.transaction() as session:
            outbox.record(session, outcomes, self.instance)

    def _finish(self, claimed: Claimed, state: str, error: str | None) -> None:
        sent_at = datetime.now(UTC) if state == SENT else None  # real time: the pace's
        self._mark(claimed, state=state, last_error=error, sent_at=sent_at)

    def _fail(self, claimed: Claimed, failure: PermanentFailure) -> None:
        """Failed for good; a user who blocked the bot is handed to the `on_blocked` hooks."""
        if not failure.blocked:
            self._finish(claimed, SKIPPED if isinstance(failure, Skipped) else FAILED, str(failure))
            return
        with self.database.transaction() as session:
            self._update(session, claimed, state=BLOCKED, last_error=str(failure))
            if claimed.user_id is not None:
                self._run_hooks(session, claimed.user_id)

    def _run_hooks(self, session: Session, user_id: int) -> None:
        for hook in self.on_blocked:
            try:
                with session.begin_nested():
                    hook(session, user_id)
            except Exception:
                log.exception("outbox: on_blocked hook %r failed for user %s", hook, user_id)

    def _give_back(
        self, claimed: Claimed, error: str | None, due_at: datetime | None = None
    ) -> None:
        """Back to the queue as if never claimed: it was not sent."""
        later = {"due_at": due_at} if due_at is not None else {}
        with self.database.transaction() as session:
            statement = update(OutboxMessage).where(outbox.mine(claimed, self.instance))
            session.execute(statement.values(state=QUEUED, last_error=error, **later))

    def _mark(self, claimed: Claimed, **values: object) -> None:
        """Records the outcome of one attempt on the claimed row."""
        with self.database.transaction() as session:
            self._update(session, claimed, **values)

    def _update(self, session: Session, claimed: Claimed, **values: object) -> None:
        statement = update(OutboxMessage).where(outbox.mine(claimed, self.instance))
        session.execute(statement.values(attempts=claimed.attempts + 1, **values))
