"""The outbox sender: claims due rows at the deployment's pace, sends them, records the outcome.

Per channel, a loop reserves a burst of send slots from the shared pace (`pace.py`), sleeps
until the first one, claims that many rows (one per chat, `claims.py`), and starts each send at
its own slot, so different chats go in parallel within the overall rate. A burst covers a
fraction of a second at the channel's rate, so a faster rate claims more rows per transaction.
Rows are `claimed` in the burst and marked `sending` right before their own call, when the
shared pause (`outage.py`: a 429, an outage) is checked too; no database lock is held during
the call. A 5xx or a network error pauses every sender (the row goes back, its attempts
untouched); a row fails only on its own errors. What became of each is written by
`outcomes.py`. The database work runs on the sender's own threads: a long broadcast never
blocks the event loop nor the desk's threads. Replies to users chatting are sent by the
channel directly and wait here only when that failed (`replies.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.config import Settings
from bot.delivery.claims import Claims
from bot.delivery.gate import Gate
from bot.delivery.outage import Outages, Started
from bot.delivery.outbox import AnswerLost, Claimed, PermanentFailure, Skipped, Throttled
from bot.delivery.outcomes import BlockedHook, Outcomes
from bot.delivery.pace import Pace, Profile, Window
from bot.delivery.threads import Threads
from bot.ops import metrics
from bot.storage.batches import Batches
from bot.storage.db import Database
from bot.values.messages import Outbound

log = logging.getLogger(__name__)
Send = Callable[[str, Outbound], Awaitable[str | None]]  # returns the message's id, if known
RowSend = Callable[[Claimed], Awaitable[None]]  # a channel that needs the row (kind, id)
BURST_SECONDS = 0.4  # a burst (slots reserved, rows claimed, at a time) lasts this long
MAX_IN_FLIGHT = 32  # PTB's pool has 256 connections: replies always find one free
SEND_TIMEOUT = 60.0  # a call still unanswered by then has an unknown fate


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
        self.chat_gap = timedelta(seconds=1 / settings.outbox_chat_rate)
        self.gate = Gate()
        self.threads = Threads(4, "outbox")
        self.claims = Claims(database, clock, settings, instance)
        self.outcomes = Outcomes(database, clock, instance, self.threads)
        self.outages = Outages(database, settings, clock, instance)
        self._starts: Batches[tuple[str, int]] = Batches(self._write_starts)
        self._started: dict[int, Started] = {}  # by row id, until its send takes it
        self._paces: dict[str, Pace] = {}
        self._windows: dict[str, Window] = {}
        self._running = asyncio.Lock()
        self._again = False  # rows were queued while a drain was running

    @property
    def on_blocked(self) -> list[BlockedHook]:
        """Called when a user blocked the bot, in the transaction that marks their row."""
        return self.outcomes.on_blocked

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
        """Sends everything that may go now; returns how many this call sent. When another
        drain is running, it is asked to look once more, and this call returns when it ends:
        either way, on return what may go has gone."""
        if self.gate.closed:
            return 0
        if self._running.locked():
            self._again = True  # the running drain looks once more before it stops
            async with self._running:
                return 0
        async with self._running:
            sent = 0
            self._again = True
            while self._again and not self.gate.closed:
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
        self.gate.close()

    def shutdown(self) -> None:
        self.close()
        self.threads.shutdown()

    # A channel's bursts ---------------------------------------------------------------

    async def _drain(self, channel: str) -> int:
        sends: set[asyncio.Task[int]] = set()
        sent = 0
        profile = self.profile(channel)
        burst = burst_of(profile.rate)
        full = False  # the last claim got all it asked for: more rows are likely waiting
        while not self.gate.closed:
            room = outbox_room(len(sends), burst)
            if room < burst:  # whole bursts only: fewer, larger transactions
                count = 0
            elif full:  # no need to look first
                count = room
            else:
                count = await self.threads.run(self.claims.sendable, channel, profile, room)
            if not count and sends:
                done, sends = await asyncio.wait(sends, return_when=asyncio.FIRST_COMPLETED)
                sent += sum(task.result() for task in done)
                continue
            if not count:
                if not await self.threads.run(self.claims.paced, channel):
                    break
                gap = profile.chat_gap.total_seconds()
                await self.gate.sleep_until(time.time() + min(gap, 1.0))
                continue
            pace = self._pace(channel)
            start = await self.threads.run(pace.reserve, count, self.gate.earliest())
            if not await self.gate.sleep_until(start):
                break
            claimed_rows = await self.threads.run(self.claims.claim, channel, profile, count)
            full = len(claimed_rows) == count  # if not, the slots left over go unused
            for index, claimed in enumerate(claimed_rows):
                at = start + index / profile.rate
                sends.add(asyncio.create_task(self._send_at(at, channel, claimed)))
        results = await asyncio.gather(*sends)
        return sent + sum(results)

    async def _send_at(self, at: float, channel: str, claimed: Claimed) -> int:
        """Sends one claimed row at its slot (or gives it back if sending stopped meanwhile,
        or a pause holds: every instance checks the shared one right before each call)."""
        await self.gate.sleep_until(at)
        await self._window(channel).keep(self.profile(channel).rate)
        started = await self._start(channel, claimed) if self.gate.open else None
        go = started is not None and claimed.id in started.ids
        if started is not None and not go:
            self.gate.pause(started.paused_until)
        if not go or not self.gate.open or started is None:  # a 429 came meanwhile: not now
            await self.outcomes.give_back(claimed)
            return 0
        probe, pace = started.probe, self._pace(channel)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                ref = await self._counted(channel, claimed)
        except Throttled as throttled:
            await self._throttled(channel, claimed, throttled, probe)
        except PermanentFailure as failure:
            await self.outcomes.failed(claimed, failure)
            await self._answered(pace, probe)
        except (AnswerLost, TimeoutError) as lost:
            log.warning("outbox %s: fate unknown, not resent: %r", claimed.key, lost)
            await self.outcomes.uncertain(claimed, repr(lost))
        except Exception as error:  # 5xx, no connection: the platform is away, not the row
            log.warning("outbox %s: send failed, sending pauses: %s", claimed.key, error)
            await self.outcomes.give_back(claimed, str(error))
            self.gate.pause(await self.threads.run(self.outages.failed, pace, probe, str(error)))
        else:
            await self.outcomes.sent(claimed, ref)
            await self._answered(pace, probe)
            return 1
        return 0

    async def _counted(self, channel: str, claimed: Claimed) -> str | None:
        """`_send`, its result counted for /metrics; the message's id, if known."""
        try:
            ref = await self._send(channel, claimed)
        except BaseException as error:
            metrics.send_result(channel, send_result(error))
            raise
        metrics.send_result(channel, "sent")
        return ref

    async def _answered(self, pace: Pace, probe: bool) -> None:
        """The platform answered: after an outage's probe, sending resumes."""
        if probe:
            await self.threads.run(self.outages.answered, pace, probe)

    async def _start(self, channel: str, claimed: Claimed) -> Started:
        """Marks the row `sending` right before its call, with the rows of the same moment."""
        await self._starts.add((channel, claimed.id))
        return self._started.pop(claimed.id)

    async def _write_starts(self, items: list[tuple[str, int]]) -> None:
        for channel in {channel for channel, _id in items}:
            ids = [row_id for each, row_id in items if each == channel]
            pace = self._pace(channel)
            started = await self.threads.run(self.outages.start, pace, ids)
            self._started.update(dict.fromkeys(ids, started))

    async def _send(self, channel: str, claimed: Claimed) -> str | None:
        if channel in self.row_senders:
            await self.row_senders[channel](claimed)
            return None
        return await self.senders[channel](claimed.chat_id, claimed.message)

    async def _throttled(
        self, channel: str, claimed: Claimed, throttled: Throttled, probe: bool
    ) -> None:
        """Everyone waits as long as asked; the row goes back, its attempts untouched."""
        if throttled.chat_only:  # only this chat waits: the row goes back, due later
            due_at = self.clock() + timedelta(seconds=throttled.retry_after)
            log.warning(
                "outbox: %s asks to wait %.1f s for one chat", channel, throttled.retry_after
            )
            await self.outcomes.give_back(claimed, str(throttled), due_at)
            return
        until = time.time() + throttled.retry_after
        self.gate.pause(until)
        log.warning("outbox: %s asks to wait %.1f s", channel, throttled.retry_after)
        await self.threads.run(self.outages.throttled, self._pace(channel), until, probe)
        await self.outcomes.give_back(claimed, str(throttled))

    def _pace(self, channel: str) -> Pace:
        if channel not in self._paces:
            self._paces[channel] = Pace(self.database, channel, self.profile(channel).rate)
        return self._paces[channel]

    def _window(self, channel: str) -> Window:
        return self._windows.setdefault(channel, Window())


def send_result(error: BaseException) -> str:
    """How a failed send is counted: `429`, `blocked`, `skipped`, `failed`, `uncertain`
    (no answer: cancelled by the send timeout) or `retry`."""
    if isinstance(error, Throttled):
        return "429"
    if isinstance(error, Skipped):
        return "skipped"
    if isinstance(error, PermanentFailure):
        return "blocked" if error.blocked else "failed"
    if isinstance(error, AnswerLost | TimeoutError | asyncio.CancelledError):
        return "uncertain"
    return "retry"


def burst_of(rate: float) -> int:
    """Rows claimed at a time: a fraction of a second's worth, half the sends in the air at
    most (the next burst is claimed while the last one is still out)."""
    return max(1, min(MAX_IN_FLIGHT // 2, round(rate * BURST_SECONDS)))


def outbox_room(in_flight: int, burst: int) -> int:
    """How many more rows may be claimed now."""
    return max(0, min(burst, MAX_IN_FLIGHT - in_flight))
