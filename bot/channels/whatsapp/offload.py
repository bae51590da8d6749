"""Database work off the event loop, on the desk's threads: on SQLite that is one writer
thread, so the channel's short transactions queue behind the turns instead of fighting them
for the database lock (SQLite makes a waiting writer sleep and retry)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


class Offload:
    """Runs blocking work on the given threads (None: asyncio's default ones)."""

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor

    async def __call__(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)
