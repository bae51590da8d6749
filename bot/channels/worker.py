"""An inbox worker: takes the stored items, oldest first, and handles many at once, each
user's in the order they came; marks them done in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy.orm import Session

from bot.channels.inbox import Inbox, Item
from bot.core.desk import Clock
from bot.storage.batches import Batches
from bot.storage.db import Database

log = logging.getLogger(__name__)
IN_FLIGHT = 64  # inbox items handled at once (each user's in order)
# Done marks wait this long for others, so that they take the turns' one writer (SQLite) once
# for many items; a crash in that time only makes those replies repeat.
LINGER = 0.05
AlsoWrite = Callable[[Session], None]  # written with the done mark, in its transaction
Handle = Callable[[dict[str, Any]], Awaitable[AlsoWrite | None]]
Who = Callable[[dict[str, Any]], str]  # whose item: items of one user are handled in order
Run = Callable[..., Awaitable[Any]]  # runs blocking work off the event loop


class InboxWorker:
    """Hands each inbox item to `handle`, then marks it done (with what `handle` returned)."""

    def __init__(
        self,
        name: str,
        database: Database,
        inbox: Inbox,
        clock: Clock,
        handle: Handle,
        who: Who,
        instance: int = 0,
        run: Run = asyncio.to_thread,
    ) -> None:
        self.name = name
        self.database = database
        self.inbox = inbox
        self.clock = clock
        self.handle = handle
        self.who = who
        self.instance = instance
        self.run = run  # where its database work runs
        self._batches: Batches[tuple[int, AlsoWrite | None]] = Batches(self._write_done, LINGER)
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._pruned_at = 0.0

    def wake(self) -> None:
        """Looks at the inbox now: items were stored."""
        self._wake.set()

    def take(self, items: list[Item]) -> None:
        """Handles items this instance stored and claimed itself (no need to look for them)."""
        for item_id, body in items:
            self._chain(self.who(body), self._handle(item_id, body))

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Takes nothing more from the inbox, lets the items under way finish."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if self._running:
            await asyncio.wait(self._running, timeout=10)

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                batch = await self._next_batch()
            except Exception:  # the database is away: try again shortly, never stop
                log.exception("%s: cannot read the inbox", self.name)
                batch = []
            self.take(batch)
            if not batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)

    async def _next_batch(self) -> list[Item]:
        await self.run(self._prune_now_and_then)
        room = IN_FLIGHT - len(self._running)
        return await self.run(self._claim, room) if room > 0 else []

    def _claim(self, limit: int) -> list[Item]:
        with self.database.transaction() as session:
            return self.inbox.claim(session, self.clock(), limit, self.instance)

    def _chain(self, who: str, work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` after the same user's earlier items: each user's messages in order."""
        previous = self._tails.get(who)

        async def in_turn() -> None:
            if previous is not None:
                await asyncio.wait((previous,))
            await work

        task = asyncio.get_running_loop().create_task(in_turn())
        self._tails[who] = task
        self._running.add(task)
        task.add_done_callback(lambda done: self._forget(who, done))

    def _forget(self, who: str, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._tails.get(who) is task:
            del self._tails[who]

    async def _handle(self, item_id: int, body: dict[str, Any]) -> None:
        """Handles the item; its done mark is written meanwhile the user's next item goes."""
        also: AlsoWrite | None = None
        try:
            also = await self.handle(body)
        except Exception:
            log.exception("%s: inbox item %s failed", self.name, item_id)
        marking = asyncio.get_running_loop().create_task(self._batches.add((item_id, also)))
        self._running.add(marking)
        marking.add_done_callback(self._running.discard)

    async def _write_done(self, items: list[tuple[int, AlsoWrite | None]]) -> None:
        await self.run(self._done, items)

    def _done(self, items: list[tuple[int, AlsoWrite | None]]) -> None:
        with self.database.transaction() as session:
            self.inbox.done(session, [item_id for item_id, _ in items], self.clock())
            for _, also in items:
                if also is not None:
                    also(session)

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned_at < 3600:
            return
        self._pruned_at = time.monotonic()
        with self.database.transaction() as session:
            self.inbox.prune(session, self.clock())
