"""Sending to WhatsApp users: a turn's replies at once, and the outbox's rows within WhatsApp's
rules (free-form inside the 24-hour window, else a template; its error codes in the outbox's
terms)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from bot.channels.whatsapp.api import (
    MARKETING_CAP,
    MARKETING_STOPPED,
    PAIR_RATE,
    RATE_CODES,
    RE_ENGAGEMENT,
    GraphClient,
    GraphError,
)
from bot.channels.whatsapp.contacts import Contacts
from bot.channels.whatsapp.content import WhatsAppContent
from bot.channels.whatsapp.identity import Chat
from bot.channels.whatsapp.offload import Offload
from bot.channels.whatsapp.receipts import Receipts
from bot.channels.whatsapp.render import Choice, Part, Wording, render, template_body
from bot.core.desk import Clock
from bot.delivery.outbox import AnswerLost, Claimed, PermanentFailure, Skipped, Throttled
from bot.delivery.pace import Profile
from bot.values.i18n import N_, translate_in
from bot.values.markup import text as rich_text
from bot.values.messages import Answer, Outbound, Reply

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)  # free-form messages only this long after the user's last one
THROTTLE_PAUSE = 2.0  # seconds every sender waits after 130429
REPLY_ATTEMPTS, REPLY_PAUSE = 3, 0.5  # a reply: 3 tries, 0.5 then 1 s apart
N_CHOOSE = N_("Scegli")
N_NUMBER_HINT = N_("Rispondi con il numero della tua scelta.")


@dataclass
class WhatsAppCourier:
    """Renders messages and sends them; remembers the numbered choices each user was offered."""

    api: GraphClient
    content: WhatsAppContent
    contacts: Contacts
    receipts: Receipts
    clock: Clock
    profile: Profile
    offload: Offload
    _numbered: set[str] = field(default_factory=set, init=False)  # users with choices stored

    async def render(self, chat: Chat, answer: Answer, locale: str) -> None:
        """Sends a turn's replies at once (replies never wait in the outbox)."""
        replies = answer.replies
        if not replies and answer.notice:
            replies = (Reply(rich_text(answer.notice)),)
        for message in replies:
            await self._send_now(chat, message, locale)

    async def deliver(self, claimed: Claimed) -> None:
        """A queued message: free-form inside the 24-hour window, else its kind's template."""
        locale, opened, address = await asyncio.to_thread(self.contacts.window_of, claimed.chat_id)
        template = None
        if opened is not None and self.clock() - opened < WINDOW:
            rendered = render(claimed.message, self.wording(locale))
            parts, choices = rendered.parts, rendered.choices
        else:
            template = self.content.template(claimed.kind, locale)
            body = template_body(template, claimed.message) if template else None
            if body is None:
                raise Skipped(f"outside the 24-hour window, no template for {claimed.kind}")
            parts, choices = (Part(body),), None
        wamids = []
        try:
            for part in parts:
                wamids.append(await self._send_part(address, part))
        except GraphError as error:
            if error.code == MARKETING_STOPPED:
                await asyncio.to_thread(self.receipts.marketing_stopped, claimed.user_id)
            raise outbox_error(error, self.profile) from error
        except (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError) as error:
            raise AnswerLost(repr(error)) from error
        finally:
            if wamids:
                paid = template is not None
                await asyncio.to_thread(self.receipts.record_sent, claimed.id, wamids, paid)
        await self._remember(Chat(claimed.chat_id, address), choices)

    def wording(self, locale: str) -> Wording:
        return Wording(
            translate_in(locale, N_CHOOSE),
            translate_in(locale, N_NUMBER_HINT),
            self.content.short_labels,
        )

    async def _send_now(self, chat: Chat, message: Outbound, locale: str) -> None:
        rendered = render(message, self.wording(locale))
        for part in rendered.parts:
            await self._send_reply_part(chat, part)
        await self._remember(chat, rendered.choices)

    async def _send_reply_part(self, chat: Chat, part: Part) -> None:
        """A reply is tried again on rate limits, 5xx and network errors, never on a 4xx."""
        for attempt in range(REPLY_ATTEMPTS):
            try:
                await self._send_part(chat.address, part)
                return
            except GraphError as error:
                if not worth_retrying(error) or attempt == REPLY_ATTEMPTS - 1:
                    log.warning("whatsapp: a reply to %s was refused: %s", chat.key, error)
                    return
            except httpx.TransportError as error:
                if attempt == REPLY_ATTEMPTS - 1:
                    log.warning("whatsapp: a reply to %s was lost: %r", chat.key, error)
                    return
            await asyncio.sleep(REPLY_PAUSE * (attempt + 1))

    async def _send_part(self, address: str, part: Part) -> str:
        body = part.body
        if part.upload is not None:
            media_id = await self.api.upload(part.upload)
            kind = body["type"]
            body = {**body, kind: {**body[kind], "id": media_id}}
        return await self.api.send(address, body)

    async def _remember(self, chat: Chat, choices: tuple[Choice, ...] | None) -> None:
        if choices is None or (not choices and chat.key not in self._numbered):
            return
        await self.offload(self.contacts.store_choices, chat.key, choices)
        (self._numbered.add if choices else self._numbered.discard)(chat.key)


def worth_retrying(error: GraphError) -> bool:
    """Rate limits and WhatsApp's own failures (5xx) pass; a 4xx would be refused again."""
    return error.code in RATE_CODES or error.status >= 500


def outbox_error(error: GraphError, profile: Profile) -> Exception:
    """A Graph API refusal in the outbox's terms."""
    if error.code in (RE_ENGAGEMENT, MARKETING_CAP):  # Meta's per-user marketing cap: skipped
        return Skipped(str(error))
    if error.code == PAIR_RATE:
        return Throttled(max(profile.chat_gap.total_seconds(), 1.0), chat_only=True)
    if error.code in RATE_CODES:
        return Throttled(THROTTLE_PAUSE)
    if 400 <= error.status < 500 and error.status != 429:
        return PermanentFailure(str(error))
    return error  # 5xx: tried again later
