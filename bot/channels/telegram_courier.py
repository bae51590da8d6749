"""Telegram, outbound: messages sent and edited in a chat (or a forum topic of it), split to
Telegram's limits; an edit that would change nothing is never sent; files uploaded."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.channels.forum import Forum
from bot.values.markup import Rich, split, to_html
from bot.values.messages import Document, Image, Keyboard, Outbound, Reply

log = logging.getLogger(__name__)
REPLY_RETRIES = (0.5, 1.0, 2.0)  # seconds before each new try of a reply on 5xx/network errors


class TelegramCourier:
    """Sends and edits the bot's messages through one Bot; remembers what recent ones show."""

    def __init__(self, bot: Bot, forum: Forum) -> None:
        self.bot = bot
        self.forum = forum
        self.screens = Screens()

    async def send(
        self,
        chat_id: str,
        message: Outbound,
        pressed: int | None = None,
        topic: int | None = None,
        shown: Message | None = None,
    ) -> None:
        """Sends one message; when Telegram asks to slow down, waits as asked; on a 5xx or a
        network error, tries again a few times (the message may then arrive twice)."""
        retries = iter(REPLY_RETRIES)
        while True:
            try:
                await self.send_once(chat_id, message, pressed, topic, shown)
                return
            except RetryAfter as error:
                delay = seconds(error.retry_after)
                log.warning("telegram asks to wait %.1fs before writing to %s", delay, chat_id)
            except NetworkError as error:
                delay = next(retries, -1.0)
                if delay < 0:
                    raise
                log.warning("telegram: reply to %s failed (%s), again soon", chat_id, error)
            await asyncio.sleep(delay)

    async def send_once(
        self,
        chat_id: str,
        message: Outbound,
        pressed: int | None,
        topic: int | None,
        shown: Message | None = None,
    ) -> int:
        """One message, in its thread's topic when it names a thread, else in `topic`;
        returns the id of the (last) message it became."""
        thread = message.thread
        if thread is not None:
            topic = await self.forum.topic(chat_id, thread)
        if isinstance(message, Reply):
            sent = await self._send_reply(chat_id, message, pressed, topic, shown)
        else:
            sent = await self._send_file(chat_id, message, topic)
        if thread is not None:
            await self.forum.sent(chat_id, thread, topic, sent)
        return sent

    async def _send_reply(
        self,
        chat_id: str,
        reply: Reply,
        pressed: int | None,
        topic: int | None,
        shown: Message | None,
    ) -> int:
        """Returns the id of the (last) message sent or edited."""
        pieces = split(reply.text, MessageLimit.MAX_TEXT_LENGTH)
        if reply.edits is not None:  # a redaction: the old message must change, or fail
            await self._rewrite(chat_id, int(reply.edits), pieces[0], reply.buttons)
            return int(reply.edits)
        editable = reply.replace and len(pieces) == 1 and not reply.request_contact
        if shown is not None and shown.text is None:
            editable = False  # a file or a photo: its text cannot become this one
        screen = (pieces[0].plain.strip(), inline_keyboard(reply.buttons))
        if editable and pressed is not None:
            async with self.screens.editing(chat_id):  # two taps' edits arrive in order
                if self.screens.showing(chat_id, pressed, shown) == screen:
                    return pressed  # Telegram refuses an edit that changes nothing
                if await self._edit(chat_id, pressed, pieces[0], reply.buttons):
                    self.screens.remember(chat_id, pressed, screen)
                    return pressed
                self.screens.forget(chat_id, pressed)
        sent = 0
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            markup = reply_markup(reply) if last else None
            message = await self.bot.send_message(
                chat_id,
                to_html(piece),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=None,
                message_thread_id=topic,
            )
            sent = message.message_id
            keyboard = markup if isinstance(markup, InlineKeyboardMarkup) else None
            self.screens.remember(chat_id, sent, (piece.plain.strip(), keyboard))
        return sent

    async def _edit(self, chat_id: str, message_id: int, text: Rich, buttons: Keyboard) -> bool:
        """Replaces the pressed message; False when Telegram cannot edit it."""
        try:
            await self._rewrite(chat_id, message_id, text, buttons)
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return True
            log.info(
                "cannot edit message %s in %s (%s): sending a new one", message_id, chat_id, error
            )
            return False
        return True

    async def _rewrite(self, chat_id: str, message_id: int, text: Rich, buttons: Keyboard) -> None:
        await self.bot.edit_message_text(
            to_html(text),
            chat_id,
            message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=inline_keyboard(buttons),
        )

    async def _send_file(self, chat_id: str, file: Document | Image, topic: int | None) -> int:
        """A document or a photo, uploaded; returns its message id."""
        bot = self.bot
        upload = InputFile(file.content, filename=file.filename)
        common: dict[str, Any] = {
            "caption": caption_html(file.caption),
            "parse_mode": ParseMode.HTML,
            "message_thread_id": topic,
        }
        if isinstance(file, Image):
            sent = await bot.send_photo(chat_id, upload, **common)
        else:
            action = ChatAction.UPLOAD_DOCUMENT
            await bot.send_chat_action(chat_id, action, message_thread_id=topic)
            sent = await bot.send_document(chat_id, upload, **common)
        return int(sent.message_id)


Screen = tuple[str, InlineKeyboardMarkup | None]  # a message's plain text and its buttons


class Screens:
    """What the bot's recent messages show, as it last sent or edited them (newer than what
    a pressed button's update carries): an edit that would change nothing is not sent."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._screens: OrderedDict[tuple[str, int], Screen] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: Counter[str] = Counter()

    @asynccontextmanager
    async def editing(self, chat_id: str) -> AsyncIterator[None]:
        """One edit at a time per chat: a later tap's edit never overtakes an earlier one."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._waiting[chat_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[chat_id] -= 1
            if not self._waiting[chat_id]:
                del self._waiting[chat_id], self._locks[chat_id]

    def showing(self, chat_id: str, message_id: int, shown: Message | None) -> Screen | None:
        """What the message shows: as the bot last made it, else as the update says."""
        known = self._screens.get((chat_id, message_id))
        if known is not None:
            return known
        if shown is None or shown.text is None:
            return None
        markup = (
            shown.reply_markup if isinstance(shown.reply_markup, InlineKeyboardMarkup) else None
        )
        return (shown.text, markup)

    def remember(self, chat_id: str, message_id: int, screen: Screen) -> None:
        self._screens[(chat_id, message_id)] = screen
        self._screens.move_to_end((chat_id, message_id))
        while len(self._screens) > self.size:
            self._screens.popitem(last=False)

    def forget(self, chat_id: str, message_id: int) -> None:
        self._screens.pop((chat_id, message_id), None)


def seconds(delay: int | float | timedelta) -> float:
    """RetryAfter.retry_after, whichever type this PTB version gives."""
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


def caption_html(caption: Rich) -> str | None:
    """A caption within Telegram's limit (a longer one is cut at a line or word break)."""
    pieces = split(caption, MessageLimit.CAPTION_LENGTH)
    return to_html(pieces[0]) if pieces else None


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
