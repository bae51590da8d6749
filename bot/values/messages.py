"""The core's typed values: what arrives from a channel, and what the core answers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from bot.values.markup import Rich, as_rich


class Kind(Enum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    CONTACT = "contact"
    LOCATION = "location"
    MEDIA = "media"
    EDITED = "edited"


@dataclass(frozen=True)
class Sender:
    """Who wrote, as the channel knows them."""

    id: str
    name: str = ""
    language_code: str | None = None
    platform_id: int | None = None  # numeric Telegram user id, used for the staff list
    phone: str | None = None  # the number the channel knows (WhatsApp), offered when booking
    aliases: tuple[str, ...] = ()  # other ids the channel knows them by (WhatsApp: BSUID)


@dataclass(frozen=True)
class Contact:
    phone: str
    owner_id: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Media:
    """A photo or a document a person sent, fetched by the channel so any channel can relay it."""

    kind: str  # "photo" or "document"
    filename: str
    mime_type: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: wrote, pressed a button, shared a contact, sent media."""

    channel: str
    sender: Sender
    chat_id: str
    kind: Kind
    text: str = ""
    command: str = ""
    payload: str = ""
    message_ref: str | None = None
    event_id: str | None = None
    contact: Contact | None = None
    in_group: bool = False
    thread: str | None = None  # the forum topic the message was written in (Telegram's id)
    reply_to: str | None = None  # the message it replies to, in the same chat
    media: Media | None = None  # a relayable photo or document (Kind.MEDIA)

    @property
    def user_key(self) -> tuple[str, str]:
        return (self.channel, self.sender.id)


@dataclass(frozen=True)
class Button:
    label: str
    payload: str = ""
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Thread:
    """A conversation thread in a group chat, by our own key: a forum topic where the chat has
    topics (opened with `title` on first use), else replies to the messages sent for it.

    `ending`: "close" closes the topic after this message; "delete" deletes the topic and
    sends the message to the chat outside any topic.
    """

    key: str
    title: str = ""
    ending: str | None = None


@dataclass(frozen=True)
class Reply:
    """A text message, with optional buttons; `replace` asks to edit the pressed message."""

    text: Rich
    buttons: Keyboard = ()
    replace: bool = False
    request_contact: str | None = None  # label of a "share my number" key, where supported
    close_keyboard: bool = False  # hides a "share my number" key left open (no buttons then)
    typed: bool = False  # the answer is typed (a number, a text): typed digits press no button
    thread: Thread | None = None
    # What varies in a platform's fixed-wording template (WhatsApp outside the 24-hour window):
    # an event's title, date and place; a call's date and time.
    fields: tuple[tuple[str, str], ...] = ()
    edits: str | None = None  # the platform's id of a message sent before, to rewrite in place


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime_type: str
    caption: Rich = field(default_factory=Rich)
    thread: Thread | None = None


@dataclass(frozen=True)
class Image:
    filename: str
    content: bytes
    caption: Rich = field(default_factory=Rich)
    thread: Thread | None = None


Outbound = Reply | Document | Image


@dataclass(frozen=True)
class Address:
    channel: str
    chat_id: str


@dataclass(frozen=True)
class Delivery:
    """An outbound value for a chat other than the sender's (e.g. the staff group)."""

    to: Address
    message: Outbound
    key: str | None = None  # idempotency key in the outbox; None: a fresh one
    kind: str = "message"  # reply, alert, reminder, announcement, broadcast: quiet hours
    batch: str | None = None  # groups the rows of one broadcast, for its progress report
    about: int | None = None  # the user whose personal data a message to staff carries


@dataclass(frozen=True)
class Answer:
    """Everything the core says back to one inbound value."""

    replies: tuple[Outbound, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    notice: str | None = None  # short toast for a pressed button, where the channel has one

    def __add__(self, other: Answer) -> Answer:
        return Answer(
            self.replies + other.replies,
            self.deliveries + other.deliveries,
            other.notice or self.notice,
        )


def say(*texts: Rich | str, buttons: Keyboard = (), replace: bool = False) -> Answer:
    """One reply per text; the buttons go under the last one."""
    replies = [Reply(as_rich(t)) for t in texts]
    last = replies.pop()
    return Answer((*replies, Reply(last.text, buttons, replace)))


def typed(answer: Answer) -> Answer:
    """The same answer, its last message asking for a typed answer (its buttons are extras)."""
    *others, last = answer.replies
    if not isinstance(last, Reply):
        return answer
    return Answer((*others, replace(last, typed=True)), answer.deliveries, answer.notice)


def rows(*buttons: Button, per_row: int = 1) -> Keyboard:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
