"""WhatsApp (Cloud API): a thin channel. The webhook stores verified notifications in the inbox
and answers 200 at once; a worker turns each message into an inbound value for the core and
the courier sends the answer; queued messages go through the outbox with WhatsApp's rules
(24-hour window, templates, rate limits); status notifications update the outbox rows.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.routing import Route

from bot.channels.whatsapp.api import GraphClient
from bot.channels.whatsapp.contacts import Contacts
from bot.channels.whatsapp.content import load_content
from bot.channels.whatsapp.delivery import Courier
from bot.channels.whatsapp.inbound import to_inbound
from bot.channels.whatsapp.receipts import Receipts
from bot.channels.whatsapp.webhook import Webhook
from bot.channels.whatsapp.worker import InboxWorker
from bot.config import Settings
from bot.core.desk import Clock
from bot.core.dispatcher import Dispatcher
from bot.delivery.outbox import Claimed
from bot.delivery.pace import Profile
from bot.storage.db import Database


class WhatsAppChannel:
    """Webhook, inbox worker and courier of the WhatsApp channel, wired together."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        database: Database,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        instance: int = 0,
    ) -> None:
        self.dispatcher = dispatcher
        self.contacts = Contacts(database, settings.default_locale)
        self.receipts = Receipts(database, clock)
        self.worker = InboxWorker(
            database, clock, self._on_message, self.receipts.apply_status, instance
        )
        # Before anything is loaded or opened: no app secret, no channel.
        self.webhook = Webhook(settings, database, clock, self.worker.wake)
        content = load_content(settings.whatsapp_file)
        self.api = GraphClient(settings, transport)
        self.profile = Profile(
            settings.whatsapp_outbox_rate, timedelta(seconds=settings.whatsapp_chat_gap)
        )
        self.courier = Courier(self.api, content, self.contacts, self.receipts, clock, self.profile)

    def routes(self) -> list[Route]:
        return self.webhook.routes()

    def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        """Takes nothing more from the inbox, lets the items under way finish."""
        await self.worker.stop()
        await self.api.close()

    async def deliver(self, claimed: Claimed) -> None:
        """A queued message, handed over by the outbox sender."""
        await self.courier.deliver(claimed)

    async def _on_message(self, message: dict[str, Any], name: str) -> None:
        """One turn: the message to the core, its answer back to the user."""
        wa_id = str(message["from"])
        sent_at = datetime.fromtimestamp(int(message.get("timestamp") or 0), UTC)
        first, choices = await asyncio.to_thread(self.contacts.before_turn, wa_id, sent_at)
        inbound = to_inbound(message, name, first, choices)
        if inbound is None:
            return
        answer = await self.dispatcher.dispatch(inbound)
        locale = await asyncio.to_thread(self.contacts.after_turn, wa_id, sent_at)
        await self.courier.render(wa_id, answer, locale)
