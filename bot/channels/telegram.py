"""Telegram: python-telegram-bot is the runtime; one handler for messages, one for buttons."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.channels.forum import Forum
from bot.channels.inbox import Item
from bot.channels.telegram_courier import TelegramCourier, seconds
from bot.channels.telegram_inbox import INBOX, Poller, items, who
from bot.channels.worker import AlsoWrite, InboxWorker
from bot.config import Settings
from bot.core.desk import Clock
from bot.core.dispatcher import Dispatcher
from bot.core.menu import COMMAND_MENU, N_STAFF, command_menu
from bot.delivery import replies
from bot.delivery.outbox import AnswerLost, PermanentFailure, Throttled
from bot.storage.db import Database
from bot.values.i18n import translate_in
from bot.values.messages import (
    Answer,
    Contact,
    Inbound,
    Kind,
    Media,
    Outbound,
    Reply,
    Sender,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MEDIA_LIMIT = 10 * 1024 * 1024  # photos and documents larger than this are not relayed


class TelegramChannel:
    """Translates updates to inbound values and renders answers with Bot API calls.

    Updates come through the inbox (`telegram_inbox.py`): stored first, then handled by the
    worker, which hands each to `handle`. Replies are recorded with the turn (`replies.py`):
    sent here at once, retried on 5xx and network errors, then settled with the inbox item.
    """

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        database: Database,
        clock: Clock,
        instance: int = 0,
    ):
        self.settings = settings
        self.dispatcher = dispatcher
        self.database = database
        self.clock = clock
        self.instance = instance
        self.application = build_application(settings)
        self.courier = TelegramCourier(self.application.bot, Forum(self.application.bot, database))
        self.worker = InboxWorker(
            "telegram", database, INBOX, clock, self.handle, who, instance, dispatcher.run
        )
        self.poller = Poller(self.application.bot, self.keep)

    # Inbound ------------------------------------------------------------------

    async def handle(self, body: dict[str, Any]) -> AlsoWrite | None:
        """One stored update: the turn, its replies sent; returns how to settle them."""
        update = self._update(body)
        if update is None:
            return None
        query = update.callback_query
        inbound = button_inbound(update) if query is not None else message_inbound(update)
        if inbound is None:
            return None
        if inbound.kind is Kind.MEDIA and self._relayable(inbound):
            inbound = replace(inbound, media=await self._download(update))
        answer = await self.dispatcher.dispatch(inbound)
        pressed, shown = None, None
        if query is not None:
            await self._answer_query(query.id, answer.notice)
            pressed = int(inbound.message_ref) if inbound.message_ref else None
            shown = query.message if isinstance(query.message, Message) else None
        topic = _topic(inbound.thread)
        rendered = await self.render(inbound.chat_id, answer, pressed, topic, shown)
        keys = replies.keys(inbound, len(answer.replies))
        return rendered.settle(keys, self.instance, self.clock())

    def _relayable(self, inbound: Inbound) -> bool:
        """Media worth fetching: in a private chat or the staff group (not in other groups)."""
        return not inbound.in_group or inbound.chat_id == str(self.settings.staff_chat_id)

    async def _download(self, update: Update) -> Media | None:
        message = update.effective_message
        try:
            return await media_of(message) if message is not None else None
        except (TelegramError, httpx.HTTPError) as error:
            log.warning("telegram: media not downloaded: %s", error)
            return None

    def _update(self, body: dict[str, Any]) -> Update | None:
        """The update python-telegram-bot reads from the body; None (logged) if it cannot."""
        try:
            return Update.de_json(body, self.application.bot)
        except Exception:
            log.warning(
                "telegram: update %s cannot be read, skipped: %.300r",
                body.get("update_id"),
                body,
                exc_info=True,
            )
            return None

    async def receive(self, payload: object) -> None:
        """A webhook's body, committed to the inbox (before the 200); ValueError when it is
        no update."""
        if not await self.keep(payload):
            raise ValueError("not an update")

    async def keep(self, updates: object) -> list[int]:
        """Commits the updates (a list, or one) to the inbox, claimed by this instance, which
        handles the new ones at once; returns their update ids (new or not)."""
        found = items(updates)
        if found:
            self.worker.take(await asyncio.to_thread(self._store, found))
        return [int(key) for key, _body in found]

    def _store(self, found: list[tuple[str, dict[str, Any]]]) -> list[Item]:
        with self.database.transaction() as session:
            return INBOX.store(session, found, self.clock(), self.instance)

    # Outbound -----------------------------------------------------------------

    async def render(
        self,
        chat_id: str,
        answer: Answer,
        pressed: int | None = None,
        topic: int | None = None,
        shown: Message | None = None,
    ) -> Rendered:
        """Sends the replies in order (in the forum topic the user wrote in, if any); stops at
        one Telegram would not take for a while. `shown` is the pressed message as Telegram
        showed it."""
        rendered = Rendered()
        for index, message in enumerate(answer.replies):
            try:
                await self.courier.send(chat_id, message, pressed, topic, shown)
            except (BadRequest, Forbidden) as error:
                log.warning("telegram: a reply to %s was refused: %s", chat_id, error)
                rendered.failed.append(index)
            except TelegramError as error:
                log.warning("telegram: a reply to %s waits for the outbox: %s", chat_id, error)
                rendered.left = len(answer.replies) - index
                break
            else:
                rendered.sent.append(index)
            if isinstance(message, Reply) and message.replace:
                shown = None  # edited now: what it shows is no longer known
        return rendered

    async def deliver(self, chat_id: str, message: Outbound) -> str:
        """Outbox sender: a queued message to any chat, its errors in the core's terms;
        returns the id of the (last) message sent."""
        try:
            return str(await self.courier.send_once(chat_id, message, None, None))
        except RetryAfter as error:
            raise Throttled(seconds(error.retry_after)) from error
        except Forbidden as error:
            raise PermanentFailure(str(error), blocked=True) from error
        except BadRequest as error:
            raise PermanentFailure(str(error)) from error
        except NetworkError as error:
            if answer_lost(error):
                raise AnswerLost(str(error)) from error
            raise

    async def _answer_query(self, query_id: str, notice: str | None) -> None:
        try:
            await self.application.bot.answer_callback_query(
                query_id, text=notice[:200] if notice else None
            )
        except BadRequest as error:  # too old: the user waited long; nothing to do
            log.info("callback query %s not answered: %s", query_id, error)

    # Set-up -------------------------------------------------------------------

    async def publish_commands(self) -> None:
        """Telegram's command menu, per language; staff also see /staff in their chats."""
        bot = self.application.bot
        for language in ("it", "en", "fr"):
            commands = [BotCommand(name, text) for name, text in command_menu(language)]
            code = None if language == "it" else language
            await bot.set_my_commands(commands, BotCommandScopeDefault(), language_code=code)
        staff = [BotCommand(n, translate_in("it", d)) for n, d in COMMAND_MENU] + [
            BotCommand("staff", translate_in("it", N_STAFF))
        ]
        for user_id in self.settings.staff_user_ids:
            try:
                await bot.set_my_commands(staff, BotCommandScopeChat(user_id))
            except TelegramError as error:  # the staff member has not opened the chat yet
                log.info("no staff command menu for %s: %s", user_id, error)


@dataclass
class Rendered:
    """Which of an answer's replies went (by position), which were refused, how many wait."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    left: int = 0  # the last ones, handed to the outbox sender

    def settle(self, keys: list[str], instance: int, now: datetime) -> AlsoWrite:
        """The database work that records this, by the replies' outbox keys."""
        sent = [keys[index] for index in self.sent]
        failed = [keys[index] for index in self.failed]
        left = keys[len(keys) - self.left :] if self.left else []
        return functools.partial(
            replies.settle, by=instance, now=now, sent=sent, failed=failed, left=left
        )


# httpx errors raised once the request may have been written: Telegram may have acted on it.
_AFTER_WRITING = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.RemoteProtocolError,
    httpx.WriteError,
    httpx.WriteTimeout,
)


def answer_lost(error: NetworkError) -> bool:
    """True when the request may have reached Telegram (the connection broke after writing);
    False when it certainly did not (no connection) or Telegram answered with an error."""
    return isinstance(error.__cause__, _AFTER_WRITING)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The Bot and its HTTP pools; no Updater: updates come through the inbox."""
    return (
        ApplicationBuilder()
        .token(settings.telegram_bot_token or "")
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_url)
        .updater(None)
        .build()
    )


def sender_of(update: Update) -> Sender | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Sender(str(user.id), name, user.language_code, user.id)


def message_inbound(update: Update) -> Inbound | None:
    message = update.effective_message
    sender = sender_of(update)
    if message is None or sender is None:
        return None
    replied = message.reply_to_message
    base = {
        "channel": CHANNEL,
        "sender": sender,
        "chat_id": str(message.chat_id),
        "event_id": str(update.update_id),
        "in_group": message.chat.type != ChatType.PRIVATE,
        "thread": str(message.message_thread_id) if message.is_topic_message else None,
        "reply_to": str(replied.message_id) if replied is not None else None,
    }
    if update.edited_message is not None:
        return Inbound(kind=Kind.EDITED, text=message.text or "", **base)  # type: ignore[arg-type]
    return Inbound(**_content(message), **base)  # type: ignore[arg-type]


def _content(message: Message) -> dict[str, object]:
    """What kind of thing the message carries."""
    if message.text is not None:
        command = _command(message)
        if command:
            return {"kind": Kind.COMMAND, "text": message.text, "command": command}
        return {"kind": Kind.TEXT, "text": message.text}
    if message.contact is not None:
        owner = message.contact.user_id
        contact = Contact(
            message.contact.phone_number, str(owner) if owner else None, message.contact.first_name
        )
        return {"kind": Kind.CONTACT, "contact": contact}
    if message.location is not None:
        return {"kind": Kind.LOCATION}
    return {"kind": Kind.MEDIA}


async def media_of(message: Message) -> Media | None:
    """A photo or a document, downloaded (so that any channel can relay it); None otherwise."""
    caption = message.caption or ""
    if message.photo:
        photo = message.photo[-1]  # the largest size
        if (photo.file_size or 0) > MEDIA_LIMIT:
            return None
        content = await (await photo.get_file()).download_as_bytearray()
        return Media("photo", "foto.jpg", "image/jpeg", bytes(content), caption)
    document = message.document
    if document is None or (document.file_size or 0) > MEDIA_LIMIT:
        return None
    content = await (await document.get_file()).download_as_bytearray()
    mime = document.mime_type or "application/octet-stream"
    return Media("document", document.file_name or "documento", mime, bytes(content), caption)


def _topic(thread: str | None) -> int | None:
    return int(thread) if thread else None


def _command(message: Message) -> str | None:
    """`/start@sportello_bot args` -> "start"; None when the text is no command."""
    text = message.text or ""
    if not text.startswith("/") or len(text) < 2:
        return None
    word = text[1:].split()[0] if text[1:].split() else ""
    name, _, target = word.partition("@")
    if target and target.lower() != (message.get_bot().username or "").lower():
        return None
    return name.lower()


def button_inbound(update: Update) -> Inbound | None:
    query = update.callback_query
    sender = sender_of(update)
    if query is None or sender is None:
        return None
    message = query.message
    chat_id = str(message.chat.id) if message else sender.id
    return Inbound(
        channel=CHANNEL,
        sender=sender,
        chat_id=chat_id,
        kind=Kind.BUTTON,
        payload=query.data or "",
        message_ref=str(message.message_id) if message else None,
        event_id=str(update.update_id),
        in_group=message is not None and message.chat.type != ChatType.PRIVATE,
        thread=_button_topic(message),
    )


def _button_topic(message: object) -> str | None:
    """The forum topic of the message whose button was pressed (the answer goes there)."""
    if isinstance(message, Message) and message.is_topic_message:
        return str(message.message_thread_id)
    return None
