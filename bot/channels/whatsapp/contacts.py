"""What the channel keeps of each WhatsApp user: when they last wrote (the 24-hour window
opens then) and the numbered choices they were offered. Database work: run on a thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.whatsapp.inbound import CHANNEL
from bot.channels.whatsapp.render import Choice
from bot.storage.db import Database
from bot.storage.models import User, WhatsAppContact


class Contacts:
    """The WhatsApp users' windows and choices; their language from their user row."""

    def __init__(self, database: Database, default_locale: str) -> None:
        self.database = database
        self.default_locale = default_locale

    def before_turn(self, wa_id: str, sent_at: datetime) -> tuple[bool, list[Choice]]:
        """Is this a new user? Their window opens now; the numbered choices they were offered."""
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            if user is None:
                return True, []
            contact = _open_window(session, user, sent_at)
            return False, [(str(label), str(payload)) for label, payload in contact.choices]

    def after_turn(self, wa_id: str, sent_at: datetime) -> str:
        """The window of a user the turn created; returns the language to answer in."""
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            if user is None:  # erased in this very turn (/cancella)
                return self.default_locale
            _open_window(session, user, sent_at)
            return user.locale

    def store_choices(self, wa_id: str, choices: Sequence[Choice]) -> None:
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            contact = session.get(WhatsAppContact, user.id) if user else None
            if contact is not None:
                contact.choices = [list(choice) for choice in choices]

    def window_of(self, wa_id: str) -> tuple[str, datetime | None]:
        """The user's language, and when they last wrote (None: never)."""
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            if user is None:
                return self.default_locale, None
            contact = session.get(WhatsAppContact, user.id)
            return user.locale, contact.last_inbound_at if contact else None


def _user(session: Session, wa_id: str) -> User | None:
    query = select(User).where(User.channel == CHANNEL, User.external_id == wa_id)
    return session.scalars(query).one_or_none()


def _open_window(session: Session, user: User, sent_at: datetime) -> WhatsAppContact:
    contact = session.get(WhatsAppContact, user.id)
    if contact is None:
        contact = WhatsAppContact(user_id=user.id, last_inbound_at=sent_at, choices=[])
        session.add(contact)
    elif contact.last_inbound_at < sent_at:
        contact.last_inbound_at = sent_at
    return contact
