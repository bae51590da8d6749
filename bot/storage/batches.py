"""Writes that arrive while another is being written wait and go together, in one transaction.

Whoever holds the lock writes everything gathered so far; an item is written when its own turn
comes, at the latest. Under load, many small transactions become a few larger ones; alone, an
item is written at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
Write = Callable[[list[T]], Awaitable[None]]  # writes the items, in one transaction


class Batches(Generic[T]):
    """Gathers items and writes them with `write`, a batch at a time."""

    def __init__(self, write: Write[T], linger: float = 0.0) -> None:
        self.write = write
        self.linger = linger  # seconds an item waits for others before a write starts
        self._waiting: list[T] = []
        self._writing = asyncio.Lock()

    async def add(self, item: T) -> None:
        """Returns once the item is written (with the others gathered meanwhile)."""
        self._waiting.append(item)
        if self.linger:
            await asyncio.sleep(self.linger)
        async with self._writing:
            items, self._waiting = self._waiting, []
            if items:
                await self.write(items)
