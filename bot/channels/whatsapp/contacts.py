"""What the channel keeps of each WhatsApp user: their identifiers (BSUID, phone number,
username), when they last wrote (the 24-hour window opens then) and the numbered choices they
were offered. Database work: run on a thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from bot.channels.whatsapp.identity import WhatsAppId, as_id, user_key
from bot.channels.whatsapp.inbound import CHANNEL
from bot.channels.whatsapp.render import Choice
from bot.storage.db import Database
from bot.storage.models import User, WhatsAppContact


@dataclass(frozen=True)
class Known:
    """A user as the channel knows them before a turn."""

    key: str  # their user row's external id (and chat id)
    address: str  # where messages go: the phone number, else the BSUID
    phone: str | None  # None: WhatsApp never gave us their number
    bsuid: str | None = None
    first: bool = False  # never seen before
    choices: list[Choice] = field(default_factory=list)
    silent: bool = False  # staff are talking to them from the WhatsApp Business app


class Contacts:
    """The WhatsApp users' identifiers, windows and choices; their language from their row."""

    def __init__(self, database: Database, default_locale: str) -> None:
        self.database = database
        self.default_locale = default_locale

    def before_turn(self, who: WhatsAppId, sent_at: datetime) -> Known:
        """Who this is (linking a new BSUID or number to them); their window opens now."""
        with self.database.transaction() as session:
            user = find(session, who)
            if user is None:
                return Known(who.key, who.address, who.phone, who.bsuid, first=True)
            contact = _open_window(session, user, sent_at)
            _link(session, contact, who)
            choices = [(str(label), str(payload)) for label, payload in contact.choices]
            address = _address(user, contact)
            silent = contact.silent_until is not None and contact.silent_until > sent_at
            return Known(
                user.external_id, address, contact.phone, contact.bsuid, False, choices, silent
            )

    def after_turn(self, key: str, who: WhatsAppId, sent_at: datetime) -> str:
        """The window (and identifiers) of a user the turn created; the language to answer in."""
        with self.database.transaction() as session:
            user = _user(session, key)
            if user is None:  # erased in this very turn (/cancella)
                return self.default_locale
            _link(session, _open_window(session, user, sent_at), who)
            return user.locale

    def relink(self, who: WhatsAppId, phone: str | None, bsuid: str | None) -> bool:
        """The user changed number (or WhatsApp their BSUID): the link follows."""
        with self.database.transaction() as session:
            user = find(session, who)
            if user is None:
                return False
            contact = _contact(session, user)
            if phone:
                contact.phone = None
                _link(session, contact, WhatsAppId(phone=phone))
            if bsuid:
                contact.bsuid = None
                _link(session, contact, WhatsAppId(bsuid=bsuid))
            return True

    def silence(self, who: WhatsAppId, until: datetime) -> bool:
        """Staff wrote to this user from the WhatsApp Business app: the bot keeps quiet."""
        with self.database.transaction() as session:
            user = find(session, who)
            if user is None:
                return False
            contact = _contact(session, user)
            contact.silent_until = max(until, contact.silent_until or until)
            return True

    def store_choices(self, key: str, choices: Sequence[Choice]) -> None:
        with self.database.transaction() as session:
            user = _resolve(session, key)
            contact = session.get(WhatsAppContact, user.id) if user else None
            if contact is not None:
                contact.choices = [list(choice) for choice in choices]

    def window_of(self, key: str) -> tuple[str, datetime | None, str]:
        """The user's language, when they last wrote (None: never), and their address."""
        with self.database.transaction() as session:
            user = _resolve(session, key)
            if user is None:
                return self.default_locale, None, key
            contact = session.get(WhatsAppContact, user.id)
            opened = contact.last_inbound_at if contact else None
            return user.locale, opened, _address(user, contact)


def find(session: Session, who: WhatsAppId) -> User | None:
    """The user with this BSUID or this phone number (by their contact row or their key)."""
    found: User | None = None
    if who.bsuid:
        found = session.scalars(_by_contact(WhatsAppContact.bsuid == who.bsuid)).first()
    if found is None and who.phone:
        found = session.scalars(_by_contact(WhatsAppContact.phone == who.phone)).first()
        found = found or _user(session, who.phone)
    if found is None and who.bsuid:
        found = _user(session, user_key(who.bsuid))
    return found


def _resolve(session: Session, key: str) -> User | None:
    """The user with this key, or known by this number or BSUID (a staff member's entry in
    STAFF_WHATSAPP_IDS may name them by the other one)."""
    return _user(session, key) or find(session, as_id(key))


def _by_contact(condition: ColumnElement[bool]) -> Select[User]:
    return select(User).join(WhatsAppContact, WhatsAppContact.user_id == User.id).where(condition)


def _user(session: Session, key: str) -> User | None:
    query = select(User).where(User.channel == CHANNEL, User.external_id == key)
    return session.scalars(query).one_or_none()


def _address(user: User, contact: WhatsAppContact | None) -> str:
    if contact is None:
        return user.external_id
    return contact.phone or contact.bsuid or user.external_id


def _contact(session: Session, user: User) -> WhatsAppContact:
    contact = session.get(WhatsAppContact, user.id)
    if contact is None:
        contact = WhatsAppContact(user_id=user.id, last_inbound_at=user.last_seen_at, choices=[])
        session.add(contact)
    return contact


def _open_window(session: Session, user: User, sent_at: datetime) -> WhatsAppContact:
    contact = _contact(session, user)
    if contact.last_inbound_at is None or contact.last_inbound_at < sent_at:
        contact.last_inbound_at = sent_at
    return contact


def _link(session: Session, contact: WhatsAppContact, who: WhatsAppId) -> None:
    """Records what this message says of the user; an identifier another row held moves here
    (a number given up and taken by someone else, a BSUID issued anew)."""
    for column, value in ((WhatsAppContact.bsuid, who.bsuid), (WhatsAppContact.phone, who.phone)):
        if not value or getattr(contact, column.key) == value:
            continue
        for other in session.scalars(select(WhatsAppContact).where(column == value)):
            setattr(other, column.key, None)
        session.flush()
        setattr(contact, column.key, value)
    if who.username:
        contact.username = who.username
