"""Telegram: python-telegram-bot is the runtime; one handler for messages, one for buttons."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.channels.inbox import Item
from bot.channels.telegram_inbox import INBOX, Poller, items, who
from bot.channels.worker import AlsoWrite, InboxWorker
from bot.config import Settings
from bot.core.desk import Clock
from bot.core.dispatcher import Dispatcher
from bot.core.menu import COMMAND_MENU, N_STAFF
from bot.delivery import replies
from bot.delivery.outbox import AnswerLost, PermanentFailure, Throttled
from bot.storage.db import Database
from bot.values.i18n import translate_in
from bot.values.markup import Rich, split, to_html
from bot.values.messages import (
    Answer,
    Contact,
    Document,
    Image,
    Inbound,
    Keyboard,
    Kind,
    Outbound,
    Reply,
    Sender,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
REPLY_RETRIES = (0.5, 1.0, 2.0)  # seconds before each new try of a reply on 5xx/network errors


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
        if update.callback_query is not None:
            inbound = button_inbound(update)
        else:
            inbound = message_inbound(update)
        if inbound is None:
            return None
        answer = await self.dispatcher.dispatch(inbound)
        pressed = None
        if update.callback_query is not None:
            await self._answer_query(update.callback_query.id, answer.notice)
            pressed = int(inbound.message_ref) if inbound.message_ref else None
        rendered = await self.render(inbound.chat_id, answer, pressed)
        keys = replies.keys(inbound, len(answer.replies))
        return rendered.settle(keys, self.instance, self.clock())

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

    async def render(self, chat_id: str, answer: Answer, pressed: int | None = None) -> Rendered:
        """Sends the replies in order; stops at one Telegram would not take for a while."""
        rendered = Rendered()
        for index, message in enumerate(answer.replies):
            try:
                await self.send(chat_id, message, pressed)
            except (BadRequest, Forbidden) as error:
                log.warning("telegram: a reply to %s was refused: %s", chat_id, error)
                rendered.failed.append(index)
            except TelegramError as error:
                log.warning("telegram: a reply to %s waits for the outbox: %s", chat_id, error)
                rendered.left = len(answer.replies) - index
                break
            else:
                rendered.sent.append(index)
        return rendered

    async def deliver(self, chat_id: str, message: Outbound) -> None:
        """Outbox sender: a queued message to any chat, its errors in the core's terms."""
        try:
            await self._send_once(chat_id, message, None)
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

    async def send(self, chat_id: str, message: Outbound, pressed: int | None = None) -> None:
        """Sends one message; when Telegram asks to slow down, waits as asked; on a 5xx or a
        network error, tries again a few times (the message may then arrive twice)."""
        retries = iter(REPLY_RETRIES)
        while True:
            try:
                return await self._send_once(chat_id, message, pressed)
            except RetryAfter as error:
                delay = seconds(error.retry_after)
                log.warning("telegram asks to wait %.1fs before writing to %s", delay, chat_id)
            except NetworkError as error:
                delay = next(retries, -1.0)
                if delay < 0:
                    raise
                log.warning("telegram: reply to %s failed (%s), again soon", chat_id, error)
            await asyncio.sleep(delay)

    async def _send_once(self, chat_id: str, message: Outbound, pressed: int | None) -> None:
        if isinstance(message, Reply):
            await self._send_reply(chat_id, message, pressed)
        elif isinstance(message, Document):
            await self._send_document(chat_id, message)
        else:
            await self._send_image(chat_id, message)

    async def _send_reply(self, chat_id: str, reply: Reply, pressed: int | None) -> None:
        pieces = split(reply.text, MessageLimit.MAX_TEXT_LENGTH)
        editable = reply.replace and len(pieces) == 1 and not reply.request_contact
        if (
            editable
            and pressed is not None
            and await self._edit(chat_id, pressed, pieces[0], reply.buttons)
        ):
            return
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            markup = reply_markup(reply) if last else None
            await self.application.bot.send_message(
                chat_id,
                to_html(piece),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=None,
            )

    async def _edit(self, chat_id: str, message_id: int, text: Rich, buttons: Keyboard) -> bool:
        """Replaces the pressed message; False when Telegram cannot edit it."""
        try:
            await self.application.bot.edit_message_text(
                to_html(text),
                chat_id,
                message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_keyboard(buttons),
            )
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return True
            log.info(
                "cannot edit message %s in %s (%s): sending a new one", message_id, chat_id, error
            )
            return False
        return True

    async def _send_document(self, chat_id: str, document: Document) -> None:
        await self.application.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
        upload = InputFile(document.content, filename=document.filename)
        await self.application.bot.send_document(
            chat_id, upload, caption=caption_html(document.caption), parse_mode=ParseMode.HTML
        )

    async def _send_image(self, chat_id: str, image: Image) -> None:
        upload = InputFile(image.content, filename=image.filename)
        await self.application.bot.send_photo(
            chat_id, upload, caption=caption_html(image.caption), parse_mode=ParseMode.HTML
        )

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
            commands = [
                BotCommand(name, translate_in(language, description))
                for name, description in COMMAND_MENU
            ]
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


def seconds(delay: int | float | timedelta) -> float:
    """RetryAfter.retry_after, whichever type this PTB version gives."""
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


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


def caption_html(caption: Rich) -> str | None:
    """A caption within Telegram's limit (a longer one is cut at a line or word break)."""
    pieces = split(caption, MessageLimit.CAPTION_LENGTH)
    return to_html(pieces[0]) if pieces else None


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
    base = {
        "channel": CHANNEL,
        "sender": sender,
        "chat_id": str(message.chat_id),
        "event_id": str(update.update_id),
        "in_group": message.chat.type != ChatType.PRIVATE,
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
    )


def inline_keyboard(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.payload)
                for b in row
            ]
            for row in buttons
        ]
    )


def reply_markup(
    reply: Reply,
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if reply.request_contact:
        share = KeyboardButton(reply.request_contact, request_contact=True)
        return ReplyKeyboardMarkup([[share]], resize_keyboard=True, one_time_keyboard=True)
    if reply.close_keyboard and not reply.buttons:
        return ReplyKeyboardRemove()
    return inline_keyboard(reply.buttons)
