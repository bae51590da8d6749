"""Telegram's updates, stored before Telegram is told they arrived.

In polling mode Sportello calls getUpdates under its own loop (python-telegram-bot's Updater
confirms a batch as soon as it is in memory): a batch is committed to the inbox first, and only
then does the next call's offset confirm it. In webhook mode the 200 follows the commit.
The channel's worker then handles each update once, each user's in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot

from bot.channels.inbox import Inbox
from bot.storage.models import TelegramInbox

log = logging.getLogger(__name__)
KEEP = timedelta(days=2)  # Telegram keeps an unconfirmed update for 24 hours
INBOX = Inbox(TelegramInbox, KEEP)
POLL_SECONDS = 10  # a long poll waits this long for updates
Keep = Callable[[object], Awaitable[list[int]]]  # commits updates, returns their ids
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after a failed poll or store, growing
# The raw answer is wanted (one update PTB cannot read must not stop the others): through
# do_api_request, under the lowercase name (Telegram's method names ignore case), which PTB
# does not take for its own get_updates and so does not warn about.
GET_UPDATES = "getupdates"


def items(updates: object) -> list[tuple[str, dict[str, Any]]]:
    """(key, body) of each update in a getUpdates answer or a webhook's body."""
    listed = updates if isinstance(updates, list) else [updates]
    found = []
    for update in listed:
        if isinstance(update, dict) and isinstance(update.get("update_id"), int):
            found.append((str(update["update_id"]), update))
        else:
            log.warning("telegram: something that is no update, skipped: %.200r", update)
    return found


def who(body: dict[str, Any]) -> str:
    """Whose update: its sender (their updates are handled in order), or its chat."""
    for kind in ("message", "edited_message", "callback_query"):
        part = body.get(kind)
        if isinstance(part, dict):
            sender = part.get("from") or part.get("chat") or {}
            return str(sender.get("id", ""))
    return ""


class Poller:
    """getUpdates under Sportello's own loop: each batch is stored before it is confirmed."""

    def __init__(self, bot: Bot, keep: Keep) -> None:
        self.bot = bot
        self.keep = keep
        self.offset: int | None = None  # None: what Telegram has not seen confirmed
        self._failures = 0

    async def run(self, allowed_updates: list[str]) -> None:
        """Polls until cancelled; a failed call or store is tried again, never given up."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        while True:
            try:
                await self.poll_once(allowed_updates)
                self._failures = 0
            except Exception as error:  # Telegram or the database is away: fetched again
                await self._pause(error)

    async def poll_once(self, allowed_updates: list[str]) -> int:
        """One getUpdates; its updates stored, then confirmed by the next call's offset."""
        kwargs: dict[str, Any] = {"timeout": POLL_SECONDS, "allowed_updates": allowed_updates}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        answer = await self.bot.do_api_request(
            GET_UPDATES, api_kwargs=kwargs, read_timeout=POLL_SECONDS + 10
        )
        kept = await self.keep(answer)
        if kept:
            self.offset = max(kept) + 1
        return len(kept)

    async def _pause(self, error: Exception) -> None:
        delay = RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)]
        self._failures += 1
        log.warning("telegram: polling failed (%s); again in %.0f s", error, delay)
        await asyncio.sleep(delay)
