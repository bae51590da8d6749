"""Threads in a Telegram group: a forum topic per thread where the group has topics, else
replies to the thread's messages. The links live in the database, so a restart keeps them."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import BadRequest

from bot.storage import threads
from bot.storage.db import Database
from bot.storage.models import ChatThread
from bot.values.messages import Thread

log = logging.getLogger(__name__)
CHANNEL = "telegram"
TITLE_LIMIT = 128  # Telegram's longest topic name


class Forum:
    def __init__(self, bot: Bot, database: Database) -> None:
        self.bot = bot
        self.database = database

    async def topic(self, chat_id: str, thread: Thread) -> int | None:
        """The topic to write in (opened now if needed); None: outside topics."""
        if thread.ending == "delete":
            await self._delete(chat_id, thread)
            return None
        known = await asyncio.to_thread(self._find, chat_id, thread.key)
        if known is not None:
            return int(known) if known else None
        topic = await self._open(chat_id, thread)
        await asyncio.to_thread(self._keep, chat_id, thread.key, topic)
        return topic

    async def sent(self, chat_id: str, thread: Thread, topic: int | None, message_id: int) -> None:
        """After a message of the thread went out: noted for replies, or the topic closed."""
        if topic is None and thread.ending != "delete":
            await asyncio.to_thread(self._note, chat_id, thread.key, message_id)
        if topic is not None and thread.ending == "close":
            try:
                await self.bot.close_forum_topic(chat_id, topic)
            except BadRequest as error:  # already closed by staff: fine
                log.info("topic %s in %s not closed: %s", topic, chat_id, error)

    async def _open(self, chat_id: str, thread: Thread) -> int | None:
        if not (await self.bot.get_chat(chat_id)).is_forum:
            return None  # a group without topics: staff answer by replying
        title = (thread.title or thread.key)[:TITLE_LIMIT]
        created = await self.bot.create_forum_topic(chat_id, title)
        return created.message_thread_id

    async def _delete(self, chat_id: str, thread: Thread) -> None:
        known = await asyncio.to_thread(self._find, chat_id, thread.key)
        if known:
            try:
                await self.bot.delete_forum_topic(chat_id, int(known))
            except BadRequest as error:  # deleted by hand meanwhile
                log.info("topic %s in %s not deleted: %s", known, chat_id, error)
        await asyncio.to_thread(self._forget, chat_id, thread.key)

    def _find(self, chat_id: str, key: str) -> str | None:
        """The topic id; "" for a thread kept outside topics; None when never opened."""
        with self.database.transaction() as session:
            found = threads.find(session, CHANNEL, chat_id, key)
            return None if found is None else found.topic_id or ""

    def _keep(self, chat_id: str, key: str, topic: int | None) -> None:
        with self.database.transaction() as session:
            session.add(
                ChatThread(
                    channel=CHANNEL,
                    chat_id=chat_id,
                    key=key,
                    topic_id=str(topic) if topic is not None else None,
                )
            )

    def _note(self, chat_id: str, key: str, message_id: int) -> None:
        with self.database.transaction() as session:
            threads.note_message(session, CHANNEL, chat_id, str(message_id), key)

    def _forget(self, chat_id: str, key: str) -> None:
        with self.database.transaction() as session:
            threads.forget(session, CHANNEL, chat_id, key)
