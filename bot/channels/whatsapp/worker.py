"""The inbox worker: takes the stored notification items, oldest first, and handles many at
once, each user's in the order they came."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import psycopg

from bot.channels.whatsapp import inbox
from bot.channels.whatsapp.identity import who
from bot.channels.whatsapp.offload import Offload
from bot.core.desk import Clock
from bot.storage.db import Database

log = logging.getLogger(__name__)
IN_FLIGHT = 64  # inbox items handled at once (each user's in order)
PRUNE_EVERY = 3600  # seconds between two prunings of old inbox keys
IDLE = 30.0  # seconds an idle worker sleeps unwoken: then it looks for expired claims
OnMessage = Callable[[dict[str, Any]], Awaitable[None]]  # the item: message, name, contact
OnStatus = Callable[[dict[str, Any]], None]  # a status or an echo: database work, on a thread


class InboxWorker:
    """Hands each inbox item to `on_message` or `on_status`, then marks it done."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        on_message: OnMessage,
        on_status: OnStatus,
        on_echo: OnStatus,
        offload: Offload,
    ) -> None:
        self.on_echo = on_echo
        self.offload = offload
        self.database = database
        self.clock = clock
        self.on_message = on_message
        self.on_status = on_status
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._pruned_at = 0.0

    def wake(self) -> None:
        """Looks at the inbox now: items were stored."""
        self._wake.set()

    @property
    def room(self) -> int:
        """How many more items this worker can take now."""
        return IN_FLIGHT - len(self._running)

    def take(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        """Items this instance's webhook stored already claimed: handled at once."""
        for item_id, body in batch:
            item = body.get("message") or body.get("status") or body.get("echo") or {}
            self._chain(who(item), self._handle(item_id, body))

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._worker = loop.create_task(self._work())
        if not self.database.is_sqlite:
            self._listener = loop.create_task(self._listen())

    async def stop(self) -> None:
        """Takes nothing more from the inbox, lets the items under way finish."""
        for task in (self._worker, self._listener):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._running:
            await asyncio.wait(self._running, timeout=10)

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                batch = await self._next_batch()
            except Exception:  # the database is away: try again shortly, never stop
                log.exception("whatsapp: cannot read the inbox")
                batch = []
            self.take(batch)
            if not batch:  # nothing to do: sleep until woken (the timeout: expired claims)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE)

    async def _listen(self) -> None:
        """PostgreSQL: wakes when another instance's webhook stored items for anyone."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database.url, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {inbox.CHANNEL}")
                    self.wake()  # anything stored while not listening
                    async for _notice in connection.notifies():
                        self.wake()
            except psycopg.Error as error:
                log.warning("whatsapp: inbox notifications lost, listening again: %s", error)
                await asyncio.sleep(5)

    async def _next_batch(self) -> list[tuple[int, dict[str, Any]]]:
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            await self.offload(self._prune)
        room = IN_FLIGHT - len(self._running)
        return await self.offload(self._claim, room) if room > 0 else []

    def _claim(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        with self.database.transaction() as session:
            return inbox.claim(session, self.clock(), limit)

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
        try:
            if "message" in body:
                await self.on_message(body)
            elif "status" in body:
                await self.offload(self.on_status, body["status"])
            elif "echo" in body:
                await self.offload(self.on_echo, body["echo"])
        except Exception:
            log.exception("whatsapp: inbox item %s failed", item_id)
        await self.offload(self._done, item_id)

    def _done(self, item_id: int) -> None:
        with self.database.transaction() as session:
            inbox.done(session, item_id, self.clock())

    def _prune(self) -> None:
        with self.database.transaction() as session:
            inbox.prune(session, self.clock())
