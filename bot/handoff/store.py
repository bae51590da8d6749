"""Handoff rows: the open request of a person, a thread's request, the relayed messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Handoff, HandoffMessage

WAITING, HELD, CLOSED = "waiting", "held", "closed"
OPEN = (WAITING, HELD)
PREFIX = "handoff-"


def key(handoff: Handoff) -> str:
    """The thread key of a request in the staff group."""
    return f"{PREFIX}{handoff.id}"


def by_key(session: Session, thread_key: str | None) -> Handoff | None:
    if not thread_key or not thread_key.startswith(PREFIX):
        return None
    return by_id(session, thread_key.removeprefix(PREFIX))


def by_id(session: Session, handoff_id: str) -> Handoff | None:
    """The request, locked: staff and the person acting on it at once take turns."""
    if not handoff_id.isdigit():
        return None
    return session.get(Handoff, int(handoff_id), with_for_update=True)


def open_of(session: Session, user_id: int) -> Handoff | None:
    """The person's request still waiting or held, locked for this transaction."""
    query = (
        select(Handoff)
        .where(Handoff.user_id == user_id, Handoff.state.in_(OPEN))
        .order_by(Handoff.id.desc())
        .with_for_update()
    )
    return session.scalars(query).first()


def held_by(session: Session, staff_user_id: int) -> Handoff | None:
    """The conversation a staff member holds from their own chat with Sportello, locked."""
    query = (
        select(Handoff)
        .where(Handoff.holder_user_id == staff_user_id, Handoff.state == HELD)
        .order_by(Handoff.id.desc())
        .with_for_update()
    )
    return session.scalars(query).first()


def waiting_or_held(session: Session, limit: int) -> list[Handoff]:
    """The open requests, oldest first (the longest wait comes first)."""
    query = select(Handoff).where(Handoff.state.in_(OPEN)).order_by(Handoff.id).limit(limit)
    return list(session.scalars(query))


def all_of(session: Session, user_id: int) -> list[Handoff]:
    return list(session.scalars(select(Handoff).where(Handoff.user_id == user_id)))


def relayed(
    session: Session,
    handoff: Handoff,
    *,
    now: datetime,
    text: str,
    author: str = "",
    from_staff: bool = False,
    media: str | None = None,
    source_ref: str | None = None,
) -> HandoffMessage:
    """Keeps one relayed message (and, for staff, when the first answer went)."""
    if from_staff and handoff.first_answer_at is None:
        handoff.first_answer_at = now
    message = HandoffMessage(
        handoff_id=handoff.id,
        user_id=handoff.user_id,
        from_staff=from_staff,
        author=author[:128],
        text=text,
        media=media,
        source_ref=source_ref,
        sent_at=now,
    )
    session.add(message)
    return message


def since(session: Session, start: datetime) -> list[Handoff]:
    return list(session.scalars(select(Handoff).where(Handoff.asked_at >= start)))
