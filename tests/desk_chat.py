"""A person talking to the core directly: the collecting channel used by the core's tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.app import App
from bot.config import Settings
from bot.core.desk import Desk
from bot.values.markup import to_plain
from bot.values.messages import (
    Answer,
    Button,
    Contact,
    Document,
    Inbound,
    Kind,
    Outbound,
    Reply,
    Sender,
)

_events = itertools.count(1)


@dataclass
class Person:
    desk: Desk
    user_id: str = "7"
    name: str = "Anna Rossi"
    language_code: str | None = "it"
    channel: str = "telegram"
    phone: str | None = None  # the number the channel knows (WhatsApp)
    answers: list[Answer] = field(default_factory=list)

    @property
    def sender(self) -> Sender:
        platform_id = int(self.user_id) if self.user_id.isdigit() else None
        return Sender(self.user_id, self.name, self.language_code, platform_id, self.phone)

    def inbound(self, kind: Kind, **values: object) -> Inbound:
        return Inbound(
            self.channel, self.sender, self.user_id, kind, event_id=str(next(_events)), **values
        )  # type: ignore[arg-type]

    def send(self, text: str) -> list[str]:
        if text.startswith("/"):
            command = text[1:].split()[0].lower()
            return self.do(self.inbound(Kind.COMMAND, text=text, command=command))
        return self.do(self.inbound(Kind.TEXT, text=text))

    def press(self, label: str) -> list[str]:
        return self.do(self.inbound(Kind.BUTTON, payload=self.button(label).payload))

    def share_contact(self, phone: str) -> list[str]:
        return self.do(self.inbound(Kind.CONTACT, contact=Contact(phone, self.user_id)))

    def do(self, inbound: Inbound) -> list[str]:
        answer = self.desk.handle(inbound)
        self.answers.append(answer)
        return [text_of(message) for message in answer.replies]

    def button(self, label: str) -> Button:
        """The newest button with this label (exactly, else containing it)."""
        for answer in reversed(self.answers):
            for message in reversed(answer.replies):
                buttons = buttons_of(message)
                for found in (b for b in buttons if b.label == label):
                    return found
                for found in (b for b in buttons if label in b.label):
                    return found
        raise AssertionError(f"no button {label!r} in the last replies")

    @property
    def last(self) -> Outbound:
        return self.answers[-1].replies[-1]

    @property
    def labels(self) -> list[str]:
        return [button.label for button in buttons_of(self.last)]


def text_of(message: Outbound) -> str:
    """What the person reads (Babel's no-break spaces read as spaces)."""
    if isinstance(message, Reply):
        return to_plain(message.text).replace("\xa0", " ").replace("\u202f", " ")
    if isinstance(message, Document):
        return f"[{message.filename}] " + to_plain(message.caption)
    return f"[{message.filename}]"


def buttons_of(message: Outbound) -> list[Button]:
    return [b for row in message.buttons for b in row] if isinstance(message, Reply) else []


def make_app(settings: Settings) -> App:
    from bot.storage.db import Database

    Database(settings.database_url).upgrade()
    return App(settings)
