"""The outbox sender: claims due rows at the deployment's pace, sends them, records the outcome.

Per channel, a loop reserves a burst of send slots from the shared pace (`bot/pace.py`),
sleeps until the first one, claims that many rows (one per chat), and starts each send at its
own slot, so different chats go in parallel within the overall rate. A burst covers a fraction
of a second at the channel's rate, so a faster rate claims more rows per transaction. Rows are
`sending` only while their call is under way; no database lock is held during the call. The
outcomes of sends that end while another outcome is being written are written together, in
one transaction, each row with its own state. The database work runs on the sender's own
threads: a long broadcast never blocks the event loop nor the desk's threads.
Replies to users chatting are sent by the channel directly and never wait here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy import Select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import outbox
from bot.delivery.outbox import (
    BLOCKED,
    FAILED,
    MAX_ATTEMPTS,
    QUEUED,
    SENT,
    SKIPPED,
    UNCERTAIN,
    AnswerLost,
    Claimed,
    PermanentFailure,
    Skipped,
    Throttled,
)
from bot.delivery.pace import Pace
from bot.delivery.quiet_hours import WAITING_KINDS
from bot.storage.db import Database
from bot.storage.models import OutboxMessage
from bot.values.messages import Outbound

log = logging.getLogger(__name__)
Send = Callable[[str, Outbound], Awaitable[str | None]]  # returns the message's id, if known
RowSend = Callable[[Claimed], Awaitable[None]]  # a channel that needs the row (kind, id)
BlockedHook = Callable[[Session, int], None]  # (session, user id): e.g. unsubscribe them
BURST_SECONDS = 0.4  # a burst (slots reserved, rows claimed, at a time) lasts this long
MAX_IN_FLIGHT = 32  # PTB's pool has 256 connections: replies always find one free
SEND_TIMEOUT = 60.0  # a call still unanswered by then has an unknown fate
# Platforms count over a sliding window: a late send followed by on-time ones would put one
# too many in some window. A send waits until the one `rate` sends back is this much more
# than a window old (the margin covers the trip to the platform).
WINDOW_MARGIN = 1.02
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Profile:
    """A channel's pace: messages a second overall, and the gap between two to one chat."""

    rate: float
    chat_gap: timedelta


class OutboxSender:
    """Delivers the outbox rows of the channels it serves, at most once each."""

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        settings: Settings,
        instance: int = 0,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.instance = instance  # written on claimed rows: recovery spares live senders
        self.senders: dict[str, Send] = {}
        self.row_senders: dict[str, RowSend] = {}
        self.profiles: dict[str, Profile] = {}
        self.on_blocked: list[BlockedHook] = []
        self.chat_gap = timedelta(seconds=1 / settings.outbox_chat_rate)
        self._paces: dict[str, Pace] = {}
        self._starts: dict[str, deque[float]] = {}  # recent send times per channel
        self._paused_until = 0.0
        self._closing = asyncio.Event()
        self._running = asyncio.Lock()
        self._again = False  # rows were queued while a drain was running
        self._outcomes: list[outbox.Outcome] = []  # ended sends, waiting to be written
        self._recording = asyncio.Lock()
        self._threads = ThreadPoolExecutor(4, thread_name_prefix="outbox")

    def serve(self, senders: Mapping[str, Send]) -> None:
        """Delivers, from now on, the rows of these channels (the ones running here)."""
        self.senders.update(senders)

    def serve_rows(self, channel: str, send: RowSend, profile: Profile | None = None) -> None:
        """Delivers this channel's rows by handing `send` the whole row, at its own pace."""
        self.row_senders[channel] = send
        if profile is not None:
            self.profiles[channel] = profile

    def profile(self, channel: str) -> Profile:
        default = Profile(self.settings.outbox_rate, self.chat_gap)
        return self.profiles.get(channel, default)

    async def drain(self) -> int:
        """Sends everything that may go now; returns how many were sent."""
        if self._closing.is_set():
            return 0
        if self._running.locked():
            self._again = True  # the running drain looks once more before it stops
            return 0
        async with self._running:
            sent = 0
            self._again = True
            while self._again and not self._closing.is_set():
                self._again = False
                counts = await asyncio.gather(
                    *(self._drain(channel) for channel in self._channels())
                )
                sent += sum(counts)
            return sent

    def _channels(self) -> list[str]:
        return [*self.senders, *(c for c in self.row_senders if c not in self.senders)]

    def close(self) -> None:
        """Claims nothing more; rows claimed and not yet started go back to the queue."""
        self._closing.set()

    def shutdown(self) -> None:
        self.close()
        self._threads.shutdown(wait=True)

    # The loop --------------------------------------------------------------------

    async def _drain(self, channel: str) -> int:
        sends: set[asyncio.Task[int]] = set()
        sent = 0
        burst = burst_of(self.profile(channel).rate)
        full = False  # the last claim got all it asked for: more rows are likely waiting
        while not self._closing.is_set():
            room = outbox_room(len(sends), burst)
            if room < burst:  # whole bursts only: fewer, larger transactions
                count = 0
            elif full:  # no need to look first
                count = room
            else:
                count = await self._db(self._sendable, channel, room)
            if not count and sends:
                done, sends = await asyncio.wait(sends, return_when=asyncio.FIRST_COMPLETED)
                sent += sum(task.result() for task in done)
                continue
            if not count:
                if not await self._db(self._paced, channel):
                    break
                gap = self.profile(channel).chat_gap.total_seconds()
                await self._sleep_until(time.time() + min(gap, 1.0))
                continue
            start = await self._db(self._pace(channel).reserve, count, self._now_or_later())
            if not await self._sleep_until(start):
                break
            claimed_rows = await self._db(self._claim, channel, count)
            full = len(claimed_rows) == count  # if not, the slots left over go unused
            for index, claimed in enumerate(claimed_rows):
                at = start + index / self.profile(channel).rate
                sends.add(asyncio.create_task(self._send_at(at, channel, claimed)))
        results = await asyncio.gather(*sends)
        return sent + sum(results)

    async def _send_at(self, at: float, channel: str, claimed: Claimed) -> int:
        """Sends one claimed row at its slot (or gives it back if sending stopped meanwhile)."""
        await self._sleep_until(at)
        await self._keep_window(channel)
        if self._closing.is_set() or time.time() < self._paused_until:
            await self._db(self._give_back, claimed, None)
            return 0
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                ref = await self._send(channel, claimed)
        except Throttled as throttled:
            await self._throttled(channel, claimed, throttled)
        except PermanentFailure as failure:
            await self._db(self._fail, claimed, failure)
        except (AnswerLost, TimeoutError) as lost:
            log.warning("outbox %s: fate unknown, not resent: %r", claimed.key, lost)
            await self._record(claimed, UNCERTAIN, repr(lost))
        except Exception as error:
            log.warning("outbox %s: send failed: %s", claimed.key, error)
            await self._db(self._retry, claimed, str(error))
        else:
            await self._record(claimed, SENT, None, ref)
            return 1
        return 0

    async def _record(
        self, claimed: Claimed, state: str, error: str | None, ref: str | None = None
    ) -> None:
        """Writes the outcome, with those of the sends that ended while the last was written.

        Whoever holds the lock writes everything gathered so far; a send's outcome is written
        when its own turn comes, at the latest.
        """
        sent_at = datetime.now(UTC) if state == SENT else None  # real time: the pace's
        outcome = outbox.Outcome(claimed.id, claimed.attempts + 1, state, error, sent_at, ref)
        self._outcomes.append(outcome)
        async with self._recording:
            outcomes, self._outcomes = self._outcomes, []
            if outcomes:
                await self._db(self._write_outcomes, outcomes)

    async def _send(self, channel: str, claimed: Claimed) -> str | None:
        if channel in self.row_senders:
            await self.row_senders[channel](claimed)
            return None
        return await self.senders[channel](claimed.chat_id, claimed.message)

    async def _throttled(self, channel: str, claimed: Claimed, throttled: Throttled) -> None:
        """Everyone waits as long as asked; the row goes back, its attempts untouched."""
        if throttled.chat_only:  # only this chat waits: the row goes back, due later
            due_at = self.clock() + timedelta(seconds=throttled.retry_after)
            log.warning(
                "outbox: %s asks to wait %.1f s for one chat", channel, throttled.retry_after
            )
            await self._db(self._give_back, claimed, str(throttled), due_at)
            return
        until = time.time() + throttled.retry_after
        self._paused_until = max(self._paused_until, until)
        log.warning("outbox: %s asks to wait %.1f s", channel, throttled.retry_after)
        await self._db(self._pace(channel).pause, until)
        await self._db(self._give_back, claimed, str(throttled))

    async def _keep_window(self, channel: str) -> None:
        """Waits while starting now would make more than `rate` sends in a window."""
        rate = self.profile(channel).rate
        count = max(1, int(rate))
        starts = self._starts.setdefault(channel, deque(maxlen=count))
        if starts.maxlen != count:
            starts = self._starts[channel] = deque(starts, maxlen=count)
        span = count / rate * WINDOW_MARGIN
        # Other sends append meanwhile: look again after each sleep (a deadline, no event).
        while len(starts) == count and (wait := starts[0] + span - time.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        starts.append(time.time())

    def _now_or_later(self) -> float:
        return max(time.time(), self._paused_until)

    async def _sleep_until(self, moment: float) -> bool:
        """Sleeps until `moment` (epoch s); False if the sender was closed meanwhile."""
        delay = moment - time.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        return not self._closing.is_set()

    async def _db(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, lambda: work(*args, **kwargs))

    def _pace(self, channel: str) -> Pace:
        if channel not in self._paces:
            self._paces[channel] = Pace(self.database, channel, self.profile(channel).rate)
        return self._paces[channel]

    # Rows (on the sender's threads) -------------------------------------------------

    def _candidates(self, channel: str, chat_gap: timedelta | None = None) -> Select[int, str]:
        now = self.clock()
        quiet = self.settings.quiet
        waiting = WAITING_KINDS if quiet and quiet.contains(now, self.settings.zone) else ()
        gap = self.profile(channel).chat_gap if chat_gap is None else chat_gap
        return outbox.due(channel, now, gap, waiting, wall_now=datetime.now(UTC))

    def _sendable(self, channel: str, limit: int) -> int:
        with self.database.transaction() as session:
            rows = session.execute(self._candidates(channel).limit(limit * 4))
            return len(outbox.one_per_chat(rows, limit))

    def _paced(self, channel: str) -> bool:
        """Are due rows waiting only because their chat just got a message?"""
        with self.database.transaction() as session:
            return (
                session.execute(self._candidates(channel, timedelta(0)).limit(1)).first()
                is not None
            )

    def _claim(self, channel: str, limit: int) -> list[Claimed]:
        with self.database.transaction() as session:
            return outbox.claim(session, self._candidates(channel), limit, self.instance)

    def _write_outcomes(self, outcomes: list[outbox.Outcome]) -> None:
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

    def _retry(self, claimed: Claimed, error: str) -> None:
        if claimed.attempts + 1 >= MAX_ATTEMPTS:
            self._finish(claimed, FAILED, error)
            return
        due_at = self.clock() + outbox.backoff(claimed.attempts + 1)
        self._mark(claimed, state=QUEUED, last_error=error, due_at=due_at)

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


def burst_of(rate: float) -> int:
    """Rows claimed at a time: a fraction of a second's worth, half the sends in the air at
    most (the next burst is claimed while the last one is still out)."""
    return max(1, min(MAX_IN_FLIGHT // 2, round(rate * BURST_SECONDS)))


def outbox_room(in_flight: int, burst: int) -> int:
    """How many more rows may be claimed now."""
    return max(0, min(burst, MAX_IN_FLIGHT - in_flight))
