"""WhatsApp (Cloud API): a thin channel. The webhook stores verified notifications in the inbox
and answers 200 at once; a worker turns each message into an inbound value for the core and
the courier sends the answer; queued messages go through the outbox with WhatsApp's rules
(24-hour window, templates, rate limits); status notifications update the outbox rows.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.routing import Route

from bot.channels.whatsapp.api import GraphClient, GraphError
from bot.channels.whatsapp.contacts import Contacts, Known
from bot.channels.whatsapp.content import load_content
from bot.channels.whatsapp.delivery import WhatsAppCourier
from bot.channels.whatsapp.identity import Chat, WhatsAppId, recipient_id, sender_id
from bot.channels.whatsapp.inbound import media_of, sender_of, to_inbound
from bot.channels.whatsapp.offload import Offload
from bot.channels.whatsapp.receipts import Receipts, UserHook
from bot.channels.whatsapp.webhook import Webhook, app_secret
from bot.channels.whatsapp.worker import InboxWorker
from bot.config import Settings
from bot.core.desk import Clock
from bot.core.dispatcher import Dispatcher
from bot.delivery.outbox import Claimed
from bot.delivery.pace import Profile
from bot.storage.db import Database
from bot.values.messages import Kind, Media

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)


class WhatsAppChannel:
    """Webhook, inbox worker and courier of the WhatsApp channel, wired together."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        database: Database,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        app_secret(settings)  # before anything is loaded or opened: no app secret, no channel
        self.dispatcher = dispatcher
        self.offload = Offload(dispatcher.executor)
        self.contacts = Contacts(database, settings.default_locale)
        self.receipts = Receipts(database, clock)
        self.pause = timedelta(minutes=settings.whatsapp_staff_pause)
        self.clock = clock
        self.worker = InboxWorker(
            database,
            clock,
            self._on_message,
            self.receipts.apply_status,
            self._on_echo,
            self.offload,
        )
        content = load_content(settings.whatsapp_file)
        self.api = GraphClient(settings, transport)
        self.profile = Profile(
            settings.whatsapp_outbox_rate, timedelta(seconds=settings.whatsapp_chat_gap)
        )
        self.webhook = Webhook(settings, database, clock, self.worker, self.offload)
        self.courier = WhatsAppCourier(
            self.api, content, self.contacts, self.receipts, clock, self.profile, self.offload
        )

    @property
    def on_marketing_stopped(self) -> list[UserHook]:
        """Called for a user who stopped marketing messages (131050), in a transaction."""
        return self.receipts.on_marketing_stopped

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

    async def _on_message(self, body: dict[str, Any]) -> None:
        """One turn: the message to the core, its answer back to the user."""
        message = body["message"]
        who = sender_id(message, body.get("contact"))
        if message.get("type") == "system":  # a new number or BSUID: the link follows
            system = message.get("system") or {}
            await self.offload(
                self.contacts.relink, who, system.get("wa_id"), system.get("user_id")
            )
            return
        if not who.key:
            log.warning("whatsapp: a message with neither a phone number nor a user id")
            return
        sent_at = datetime.fromtimestamp(int(message.get("timestamp") or 0), UTC)
        known = await self.offload(self.contacts.before_turn, who, sent_at)
        if known.silent:  # a person from SMP is answering in the WhatsApp Business app
            return
        typing = asyncio.get_running_loop().create_task(self._mark_read(str(message["id"])))
        try:
            await self._turn(body, who, known, sent_at)
        finally:
            await typing

    def _on_echo(self, echo: dict[str, Any]) -> None:
        """Staff replied from the WhatsApp Business app: the bot keeps quiet in that chat."""
        if self.pause and self.contacts.silence(recipient_id(echo), self.clock() + self.pause):
            log.info("whatsapp: staff answered from the app, quiet for %s", self.pause)

    async def _turn(
        self, body: dict[str, Any], who: WhatsAppId, known: Known, sent_at: datetime
    ) -> None:
        message = body["message"]
        name = str(body.get("name") or "")
        sender = sender_of(known.key, name, known.phone, known.bsuid)
        inbound = to_inbound(message, sender, known.first, known.choices)
        if inbound is None:
            return
        if inbound.kind is Kind.MEDIA:
            inbound = replace(inbound, media=await self._download(message))
        answer = await self.dispatcher.dispatch(inbound)
        locale = await self.offload(self.contacts.after_turn, known.key, who, sent_at)
        await self.courier.render(Chat(known.key, known.address), answer, locale)

    async def _download(self, message: dict[str, Any]) -> Media | None:
        """The photo or document a user sent, to relay it; None for other media."""
        found = media_of(message)
        if found is None:
            return None
        media_id, media = found
        try:
            return replace(media, content=await self.api.download(media_id))
        except (GraphError, httpx.HTTPError) as error:
            log.warning("whatsapp: media %s not downloaded: %s", media_id, error)
            return None

    async def _mark_read(self, message_id: str) -> None:
        """Read, and typing while the turn runs; a failure here never stops the answer."""
        try:
            await self.api.mark_read(message_id)
        except (GraphError, httpx.HTTPError) as error:
            log.info("whatsapp: could not mark %s as read: %s", message_id, error)
