"""When the sender may start a send: never once it is closed, nor while a platform asks to wait."""

from __future__ import annotations

import asyncio
import contextlib
import time


class Gate:
    """Closed for good at shutdown; paused until a moment (epoch s) a platform asked for."""

    def __init__(self) -> None:
        self._closing = asyncio.Event()
        self._paused_until = 0.0

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    @property
    def open(self) -> bool:
        """May a send start now?"""
        return not self.closed and time.time() >= self._paused_until

    def close(self) -> None:
        self._closing.set()

    def pause(self, until: float) -> None:
        """No send starts before `until` (epoch s); a longer pause already asked for stays."""
        self._paused_until = max(self._paused_until, until)

    def earliest(self) -> float:
        """When a send may start (epoch s): now, or when the pause ends."""
        return max(time.time(), self._paused_until)

    async def sleep_until(self, moment: float) -> bool:
        """Sleeps until `moment` (epoch s); False if the gate was closed meanwhile."""
        delay = moment - time.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        return not self.closed
