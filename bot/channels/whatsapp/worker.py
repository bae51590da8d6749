"""The inbox worker of the WhatsApp channel: messages to the core, statuses to the receipts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.whatsapp.inbox import INBOX
from bot.channels.worker import AlsoWrite
from bot.channels.worker import InboxWorker as Worker
from bot.core.desk import Clock
from bot.storage.db import Database

OnMessage = Callable[[dict[str, Any], str], Awaitable[None]]  # (message, profile name)
OnStatus = Callable[[dict[str, Any]], None]  # database work: runs on a thread


class InboxWorker(Worker):
    """Hands each inbox item to `on_message` or `on_status`, then marks it done."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        on_message: OnMessage,
        on_status: OnStatus,
        instance: int = 0,
    ) -> None:
        super().__init__("whatsapp", database, INBOX, clock, self._item, _who, instance)
        self.on_message = on_message
        self.on_status = on_status

    async def _item(self, body: dict[str, Any]) -> AlsoWrite | None:
        if "message" in body:
            await self.on_message(body["message"], str(body.get("name") or ""))
        elif "status" in body:
            await asyncio.to_thread(self.on_status, body["status"])
        return None


def _who(body: dict[str, Any]) -> str:
    """Whose item: the sender of a message, the recipient of a status."""
    item = body.get("message") or body.get("status") or {}
    return str(item.get("from") or item.get("recipient_id") or "")
