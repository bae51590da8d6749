"""Threads in group chats: which forum topic, or which sent message, belongs to which key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import ChatThread, ThreadMessage


def find(session: Session, channel: str, chat_id: str, key: str) -> ChatThread | None:
    query = select(ChatThread).where(
        ChatThread.channel == channel, ChatThread.chat_id == chat_id, ChatThread.key == key
    )
    return session.scalars(query).one_or_none()


def key_of(
    session: Session, channel: str, chat_id: str, topic: str | None, reply_to: str | None
) -> str | None:
    """The thread a group message belongs to: by its forum topic, else by what it replies to."""
    if topic is not None:
        query = select(ChatThread.key).where(
            ChatThread.channel == channel,
            ChatThread.chat_id == chat_id,
            ChatThread.topic_id == topic,
        )
        if (key := session.scalars(query).first()) is not None:
            return key
    if reply_to is None:
        return None
    replied = select(ThreadMessage.key).where(
        ThreadMessage.channel == channel,
        ThreadMessage.chat_id == chat_id,
        ThreadMessage.message_id == reply_to,
    )
    return session.scalars(replied).first()


def note_message(session: Session, channel: str, chat_id: str, message_id: str, key: str) -> None:
    """Links a message sent for a thread to it (an edited message is linked already)."""
    known = select(ThreadMessage.id).where(
        ThreadMessage.channel == channel,
        ThreadMessage.chat_id == chat_id,
        ThreadMessage.message_id == message_id,
    )
    if session.scalars(known).first() is None:
        session.add(ThreadMessage(channel=channel, chat_id=chat_id, message_id=message_id, key=key))


def forget(session: Session, channel: str, chat_id: str, key: str) -> None:
    """Drops what links a thread to its messages (its topic is gone)."""
    thread = find(session, channel, chat_id, key)
    if thread is not None:
        session.delete(thread)
    query = select(ThreadMessage).where(
        ThreadMessage.channel == channel,
        ThreadMessage.chat_id == chat_id,
        ThreadMessage.key == key,
    )
    for message in session.scalars(query):
        session.delete(message)
