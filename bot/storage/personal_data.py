"""The one registry of tables holding personal data; export and erasure walk it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.storage.models import (
    Base,
    Booking,
    Consent,
    Conversation,
    FaqQuestion,
    FaqVote,
    Handoff,
    HandoffMessage,
    OutboxMessage,
    Reminder,
    Rsvp,
    Subscription,
    SurveyResponse,
    User,
    WhatsAppContact,
)


@dataclass(frozen=True)
class PersonalTable:
    model: type[Base]
    user_column: str = "user_id"
    consent_based: bool = False  # erased when consent is withdrawn

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)

    @property
    def label(self) -> str:
        """The table, and the column when it is not the usual owner (outbox.subject_id)."""
        return (
            self.name
            if self.user_column in ("user_id", "id")
            else f"{self.name}.{self.user_column}"
        )


# Children first; the user row goes last. A feature that stores personal data adds its table.
REGISTRY: list[PersonalTable] = [
    PersonalTable(SurveyResponse, consent_based=True),
    PersonalTable(Reminder),  # before what it reminds of
    PersonalTable(Booking, consent_based=True),
    PersonalTable(Subscription, consent_based=True),
    PersonalTable(Rsvp, consent_based=True),
    PersonalTable(FaqQuestion),
    PersonalTable(FaqVote),
    PersonalTable(HandoffMessage, consent_based=True),  # before its request
    PersonalTable(Handoff, consent_based=True),
    PersonalTable(Conversation),
    PersonalTable(OutboxMessage),
    # Messages to staff about the user (booking cards): their phone and note are consent-based.
    PersonalTable(OutboxMessage, "subject_id", consent_based=True),
    PersonalTable(WhatsAppContact),
    PersonalTable(Consent),
]
USER_TABLE = PersonalTable(User, "id")

# Tables that hold no personal data, and why.
NOT_PERSONAL = {
    "inbound_events": "update ids only, to skip re-deliveries",
    "app_secrets": "keys the app generates",
    "alerts": "error kinds and times",
    "alembic_version": "schema revision",
    "absences": "staff rota: an operator's id and the days they are away",
    "send_pace": "when each channel's next send slot is free",
    "events": "what staff publish; created_by is a staff member's id",
    "broadcasts": "what staff send to subscribers; created_by is a staff member's id",
    "whatsapp_inbox": "message ids; a message's content is emptied as soon as it is handled",
    "telegram_inbox": "update ids; an update's content is emptied as soon as it is handled",
    "whatsapp_sent": "WhatsApp message ids and statuses of outbox rows, erased with them",
    "faq_variants": "question wordings staff chose to teach the FAQ, without who asked them",
    "faq_gaps": "question wordings staff marked as a missing topic, without who asked them",
    "chat_threads": "which staff-group topic belongs to which request (keys and ids only)",
    "thread_messages": "which staff-group message belongs to which request (ids only)",
}


def tables() -> list[PersonalTable]:
    return [*REGISTRY, USER_TABLE]


def export(session: Session, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Everything stored about one user, table by table, as JSON-ready values."""
    result: dict[str, list[dict[str, Any]]] = {}
    for table in tables():
        column = getattr(table.model, table.user_column)
        rows = session.scalars(select(table.model).where(column == user_id)).all()
        result[table.label] = [_row(row) for row in rows]
    return result


def erase(session: Session, user_id: int) -> None:
    """Deletes every row of the user, the user row last."""
    _delete(session, tables(), user_id)
    session.expunge_all()  # those rows are gone: nothing of them may be flushed again


def erase_consent_based(session: Session, user_id: int) -> None:
    """Deletes what was stored only because the user consented."""
    _delete(session, [table for table in REGISTRY if table.consent_based], user_id)


def _delete(session: Session, chosen: list[PersonalTable], user_id: int) -> None:
    session.flush()
    for table in chosen:
        column = getattr(table.model, table.user_column)
        statement = delete(table.model).where(column == user_id)
        session.execute(statement.execution_options(synchronize_session=False))


def _row(row: Base) -> dict[str, Any]:
    return {column.key: _value(getattr(row, column.key)) for column in row.__table__.columns}


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def erase_inactive(
    session: Session, cutoff: datetime, before: Callable[[Session, int], None] | None = None
) -> int:
    """Retention: erases the users not seen since `cutoff` (`before` each one), and the texts
    of conversations with staff closed before it; returns how many users."""
    expire_relayed_texts(session, cutoff)
    ids = session.scalars(select(User.id).where(User.last_seen_at < cutoff)).all()
    for user_id in ids:
        if before is not None:
            before(session, user_id)
        erase(session, user_id)
    return len(ids)


def expire_relayed_texts(session: Session, cutoff: datetime) -> int:
    """Empties the relayed messages of conversations with staff closed before `cutoff`."""
    closed = select(Handoff.id).where(Handoff.state == "closed", Handoff.closed_at < cutoff)
    statement = (
        update(HandoffMessage)
        .where(HandoffMessage.handoff_id.in_(closed), HandoffMessage.text != "")
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def inactive(session: Session, cutoff: datetime) -> list[int]:
    """Retention: the users not seen since `cutoff`."""
    return list(session.scalars(select(User.id).where(User.last_seen_at < cutoff)).all())
