"""What a handler gets for one inbound value, and how features plug into the desk."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery.reminders import Render
from bot.storage.models import Conversation, User
from bot.values.messages import Answer, Button, Inbound
from bot.values.payload import Signer


@dataclass
class Turn:
    """One inbound value being handled, inside one database transaction."""

    inbound: Inbound
    user: User
    conversation: Conversation
    session: Session
    settings: Settings
    signer: Signer
    now: datetime
    press: Callable[..., Answer] = field(repr=False)  # the router's, to follow an action
    forget: Callable[[Turn], Answer] = field(repr=False, default=lambda _turn: Answer())
    greet: Callable[[Turn], Answer] = field(repr=False, default=lambda _turn: Answer())

    @property
    def is_staff(self) -> bool:
        sender = self.inbound.sender
        ids = (sender.id, sender.phone or "", *sender.aliases)
        return self.settings.is_staff_sender(self.inbound.channel, sender.platform_id, *ids)

    def follow(self, action: str, *args: str) -> Answer:
        """Continues with a button's action, as if the user had pressed it."""
        return self.press(self, action, *args)

    def button(self, label: str, action: str, *args: object) -> Button:
        return Button(label, self.signer.pack(action, *args))

    def start_flow(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        self.conversation.flow, self.conversation.step = flow, step
        self.conversation.data = dict(data or {})

    def end_flow(self) -> None:
        self.conversation.flow = self.conversation.step = None
        self.conversation.data = {}

    def remember(self, **values: Any) -> None:
        """Stores values in the conversation (a new dict, so SQLAlchemy sees the change)."""
        self.conversation.data = {**self.conversation.data, **values}


Handler = Callable[[Turn], Answer]
ButtonHandler = Callable[[Turn, tuple[str, ...]], Answer]


@dataclass(frozen=True)
class Command:
    handler: Handler
    staff: bool = False
    description: str = ""  # gettext message id, shown in /staff and the command list


@dataclass(frozen=True)
class Feature:
    """A capability (privacy, language, FAQ, survey...): its commands, buttons and flow."""

    name: str
    commands: Mapping[str, Command] = field(default_factory=dict)
    buttons: Mapping[str, ButtonHandler] = field(default_factory=dict)
    flow: Handler | None = None  # gets text and contacts while the user is in this flow
    text: Callable[[Turn], Answer | None] | None = None  # free text outside flows; None: not mine
    reminders: Mapping[str, Render] = field(default_factory=dict)  # reminder kind -> renderer
    # Before the user's data is erased: undo what others rely on (e.g. tell staff a call is off).
    forget: Handler | None = None
    # After /start greets a returning person: what is waiting for them (an unfinished survey).
    greet: Handler | None = None
    # Messages staff write in the staff group (not commands, not buttons); None: not mine.
    staff_group: Callable[[Turn], Answer | None] | None = None
    # Offered every private message first (a person holds the conversation); None: not mine.
    claim: Callable[[Turn], Answer | None] | None = None


class Stale(Exception):
    """A button pressed on an old message, whose action no longer applies."""
