"""The core: turns one inbound value into an answer, in one transaction, once per event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import routing
from bot.core.turn import Feature, Turn
from bot.delivery import alerts, outbox, replies
from bot.storage.db import Database
from bot.storage.models import Conversation, InboundEvent, User
from bot.values.cleaning import cleaned
from bot.values.i18n import _, pick_locale, use_locale
from bot.values.messages import Answer, Inbound, say
from bot.values.payload import Signer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    """Channel-agnostic: channels call `handle` and render what it returns."""

    settings: Settings
    database: Database
    signer: Signer
    features: tuple[Feature, ...]
    clock: Clock = utc_clock
    durable: frozenset[str] = frozenset()  # channels whose replies are recorded with the turn
    instance: int = 0  # the instance that sends those replies

    def __post_init__(self) -> None:
        self.router = routing.Router(self.features)

    def handle(self, inbound: Inbound) -> Answer:
        inbound = cleaned(inbound)  # what every channel hands in, made safe to store
        try:
            return self._handle_once(inbound)
        except Exception as error:
            log.exception("handler failed for %s %s", inbound.channel, inbound.kind.value)
            return self._apologise(inbound, error)

    def _handle_once(self, inbound: Inbound) -> Answer:
        with self.database.transaction() as session:
            if not self._first_time(session, inbound):
                log.info("skipping re-delivered event %s", inbound.event_id)
                return Answer()
            turn = self._turn(session, inbound)
            with use_locale(turn.user.locale, self.settings.zone):
                answer = self.router.route(turn)
            outbox.enqueue_deliveries(session, answer.deliveries, self.clock())
            if inbound.channel in self.durable:
                self._record_replies(session, turn, answer)
            return answer

    def _record_replies(self, session: Session, turn: Turn, answer: Answer) -> None:
        """The replies, in the turn's transaction (the user may have just been erased)."""
        user_id = None if inspect(turn.user).detached else turn.user.id
        replies.record(session, turn.inbound, user_id, answer.replies, turn.now, self.instance)

    def _first_time(self, session: Session, inbound: Inbound) -> bool:
        """Records the event id; False when it was handled before (a re-delivery)."""
        if inbound.event_id is None:
            return True
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(InboundEvent)
            .values(channel=inbound.channel, event_id=inbound.event_id, received_at=self.clock())
            .on_conflict_do_nothing()
            .returning(InboundEvent.event_id)
        )
        return session.execute(statement).first() is not None

    def _turn(self, session: Session, inbound: Inbound) -> Turn:
        now = self.clock()
        user = self._user(session, inbound, now)
        return Turn(
            inbound,
            user,
            self._conversation(session, user),
            session,
            self.settings,
            self.signer,
            now,
            self.router.press,
            self.router.forget,
            self.router.greet,
        )

    @staticmethod
    def _conversation(session: Session, user: User) -> Conversation:
        if user.id is None:  # a passer-by in a group: nothing of them is stored
            return Conversation(data={})
        conversation = session.get(Conversation, user.id) or Conversation(user_id=user.id, data={})
        session.add(conversation)
        return conversation

    def _user(self, session: Session, inbound: Inbound, now: datetime) -> User:
        """Finds or creates the sender, locked for this transaction (serialises quick taps).

        Only a private chat creates or updates a user: in a group the sender is the user they
        already are (staff, matched by their id), or a passer-by of whom nothing is stored."""
        query = (
            select(User)
            .where(User.channel == inbound.channel, User.external_id == inbound.sender.id)
            .with_for_update()
        )
        user = session.scalars(query).one_or_none()
        if inbound.in_group:
            return user or self._passer_by(inbound)
        if user is None:
            user = self._new_user(session, inbound, now)
        user.chat_id = inbound.chat_id
        if not user.locale_chosen and inbound.sender.language_code:
            user.locale = pick_locale(inbound.sender.language_code, self.settings.default_locale)
        user.name = inbound.sender.name[:128]
        user.last_seen_at = now
        return user

    def _passer_by(self, inbound: Inbound) -> User:
        """A group member with no user row: a value for this turn only, never added."""
        return User(
            channel=inbound.channel,
            external_id=inbound.sender.id,
            chat_id=inbound.sender.id,
            name=inbound.sender.name[:128],
            locale=pick_locale(inbound.sender.language_code, self.settings.default_locale),
        )

    def _new_user(self, session: Session, inbound: Inbound, now: datetime) -> User:
        locale = pick_locale(inbound.sender.language_code, self.settings.default_locale)
        user = User(
            channel=inbound.channel,
            external_id=inbound.sender.id,
            # Met in a group (staff): their own chat, never the group's, whose messages
            # must not count as theirs (an erasure would take them along).
            chat_id=inbound.sender.id if inbound.in_group else inbound.chat_id,
            name=inbound.sender.name[:128],
            locale=locale,
            created_at=now,
            last_seen_at=now,
        )
        session.add(user)
        session.flush()
        return user

    def _apologise(self, inbound: Inbound, error: Exception) -> Answer:
        locale = self._known_locale(inbound)
        try:
            with self.database.transaction() as session:
                alerts.raise_alert(session, self.settings, inbound, error, self.clock())
        except Exception:
            log.exception("could not queue the staff alert")
        with use_locale(locale):
            return say(
                _(
                    "Mi dispiace, qualcosa è andato storto. Lo staff è stato avvisato: "
                    "riprova tra poco oppure scrivi /menu."
                )
            )

    def _known_locale(self, inbound: Inbound) -> str:
        try:
            with self.database.transaction() as session:
                query = select(User.locale).where(
                    User.channel == inbound.channel, User.external_id == inbound.sender.id
                )
                stored = session.scalars(query).one_or_none()
        except Exception:
            stored = None
        return stored or pick_locale(inbound.sender.language_code, self.settings.default_locale)
