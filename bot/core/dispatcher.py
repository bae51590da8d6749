"""The async side of the core: one user at a time, the sync core in a worker thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

from bot.core.desk import Desk
from bot.ops import metrics
from bot.values.messages import Answer, Inbound

P = ParamSpec("P")
R = TypeVar("R")


class Dispatcher:
    """Serialises each user's events (two quick taps never race) and runs the desk."""

    def __init__(self, desk: Desk, after: Callable[[Answer], Awaitable[None]] | None = None):
        self.desk = desk
        self.after = after
        # SQLite has one writer at a time: one worker thread queues turns instead of letting
        # threads fight over the lock (and the GIL); PostgreSQL takes turns in parallel.
        workers = 1 if desk.database.is_sqlite else 8
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="desk")
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: dict[tuple[str, str], int] = {}

    async def run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Database work of the channels (inbox, replies) on the desk's threads: on SQLite it
        queues with the turns instead of fighting them for the one write lock."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: work(*args, **kwargs))

    async def dispatch(self, inbound: Inbound) -> Answer:
        started = time.perf_counter()
        async with self._user_lock(inbound.user_key):
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self.executor, self.desk.handle, inbound)
        metrics.update_handled(inbound.channel, inbound.kind.value)
        metrics.reply_took(inbound.channel, time.perf_counter() - started)
        if self.after and answer.deliveries:
            await self.after(answer)
        return answer

    @asynccontextmanager
    async def _user_lock(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued: forget the lock
                del self._waiting[key], self._locks[key]
