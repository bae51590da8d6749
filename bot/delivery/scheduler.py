"""The clock: one APScheduler owned by the app; periodic jobs act on rows in the database."""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.delivery import outbox, redaction
from bot.delivery.leader import Leadership
from bot.delivery.sender import OutboxSender
from bot.storage import personal_data
from bot.storage.db import Database
from bot.storage.models import InboundEvent
from bot.values.messages import Delivery

# Before retention erases a user: what to send elsewhere (e.g. delete their topic for staff).
ErasureHook = Callable[[Session, int], Iterable[Delivery]]

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[object]]
LEADER_CHECK_SECONDS = 2  # how soon another instance takes over from a dead leader


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's end)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


class Clock:
    def __init__(self, is_leader: Callable[[], bool] = lambda: True) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.is_leader = is_leader
        self._running: set[asyncio.Task[None]] = set()
        self.last_tick: float | None = None  # time.monotonic() of the last tick (/healthz)

    def every(self, seconds: float, job: Job, name: str, leader_only: bool = True) -> None:
        """Runs `job` every few seconds; a missed or slow tick is coalesced, never doubled.

        A `leader_only` job runs on one instance of the deployment only (see bot/leader.py)."""

        async def run() -> None:
            if leader_only and not self.is_leader():
                return
            try:
                await job()
            except Exception:
                log.exception("periodic job %s failed", name)

        async def guarded() -> None:
            self.last_tick = time.monotonic()
            # Shielded, so stopping the scheduler lets a job finish what it claimed.
            task = asyncio.ensure_future(run())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            with contextlib.suppress(asyncio.CancelledError):  # stop() awaits the task
                await asyncio.shield(task)

        self.scheduler.add_job(
            guarded,
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now().astimezone(),
        )

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self) -> None:
        """Stops ticking, then waits for the jobs under way."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.gather(*self._running, return_exceptions=True)


class Housekeeping:
    """Retention of personal data and pruning of old update ids."""

    def __init__(
        self,
        database: Database,
        retention_months: int,
        clock: Callable[[], datetime],
        staff_locale: str = "it",
    ) -> None:
        self.database = database
        self.retention_months = retention_months
        self.clock = clock
        self.before_erase: list[ErasureHook] = []
        self.staff_locale = staff_locale  # of the redacted staff cards

    async def erase_inactive(self) -> int:
        cutoff = months_before(self.clock(), self.retention_months)
        erased = await asyncio.to_thread(self._erase_inactive, cutoff)
        if erased:
            log.info("retention: erased %d inactive users", erased)
        return erased

    def _erase_inactive(self, cutoff: datetime) -> int:
        with self.database.transaction() as session:
            return personal_data.erase_inactive(session, cutoff, self._before_erase)

    def _before_erase(self, session: Session, user_id: int) -> None:
        for hook in self.before_erase:
            outbox.enqueue_deliveries(session, hook(session, user_id), self.clock())
        redaction.redact_sent(session, user_id, self.staff_locale, self.clock())

    async def prune_outbox(self) -> int:
        """Delivered messages keep their state, not their words."""
        return await asyncio.to_thread(self._prune_outbox)

    def _prune_outbox(self) -> int:
        with self.database.transaction() as session:
            return outbox.prune_final(session)

    async def prune_events(self) -> None:
        cutoff = self.clock() - timedelta(days=7)
        await asyncio.to_thread(self._prune_events, cutoff)

    def _prune_events(self, cutoff: datetime) -> None:
        with self.database.transaction() as session:
            session.execute(delete(InboundEvent).where(InboundEvent.received_at < cutoff))


def install_jobs(
    clock: Clock,
    sender: OutboxSender,
    housekeeping: Housekeeping,
    leadership: Leadership,
    recover: Job,
) -> None:
    """The periodic jobs; every instance keeps its lock and sends, the leader does the rest."""
    clock.every(LEADER_CHECK_SECONDS, leadership.watch, "leader", leader_only=False)
    clock.every(2, sender.drain, "outbox", leader_only=False)
    clock.every(10, recover, "outbox-recovery")  # rows of instances that died
    clock.every(3600, housekeeping.erase_inactive, "retention")
    clock.every(60, housekeeping.prune_outbox, "prune-outbox")
    clock.every(6 * 3600, housekeeping.prune_events, "prune-events")
