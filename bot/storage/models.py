"""The database schema (SQLAlchemy 2). Migrations in `migrations/` follow it."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class User(Base):
    """A person as one channel knows them; the root of all their personal data."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_users_chat", "channel", "chat_id"),  # the outbox finds recipients by chat
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), default="")
    locale: Mapped[str] = mapped_column(String(8))
    locale_chosen: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Conversation(Base):
    """Where a user is: which flow, which step, the answers so far."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Consent(Base):
    """A user's answer to one version of the privacy notice."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notice_version: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()


class InboundEvent(Base):
    """Ids of the updates already handled, so a re-delivered one is not handled twice."""

    __tablename__ = "inbound_events"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxMessage(Base):
    """A message to deliver, written before it is sent; the key makes queuing idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender's next rows, read in this order: a LIMIT stops early even with 10,000
        # rows of a broadcast queued, instead of sorting them all at every claim.
        Index("ix_outbox_queue", "state", "channel", "priority", "due_at", "id"),
        Index("ix_outbox_chat", "channel", "chat_id", "sent_at"),  # one a second per chat
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16), default="message")  # reply, broadcast...
    priority: Mapped[int] = mapped_column(default=0)  # 1: announcements and broadcasts go last
    batch: Mapped[str | None] = mapped_column(String(64), index=True)  # one broadcast's rows
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)  # the sender instance
    # Whose personal data a message to staff carries (a booking card): exported to that
    # person and erased with them; such a row belongs to no user (`user_id` is None).
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    sent_ref: Mapped[str | None] = mapped_column(String(64))  # the platform's message id


class AppSecret(Base):
    """Keys the app generates once and shares between instances (e.g. to sign buttons)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class Alert(Base):
    """When staff were last alerted about an error kind, to send at most one a minute."""

    __tablename__ = "alerts"

    kind: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_sent_at: Mapped[datetime] = mapped_column()
    suppressed: Mapped[int] = mapped_column(default=0)


class FaqQuestion(Base):
    """A question typed to the FAQ and how it was matched: the knowledge base grows from these."""

    __tablename__ = "faq_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a question asked before the user consented: kept for the report, unlinked.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    locale: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    topic_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column()
    asked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FaqVote(Base):
    """A 👍 or 👎 on an answer; one per user and topic (a second tap changes it)."""

    __tablename__ = "faq_votes"
    __table_args__ = (UniqueConstraint("user_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[str] = mapped_column(String(64))
    vote: Mapped[int] = mapped_column()  # +1 or -1
    voted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FaqVariant(Base):
    """A question staff taught the FAQ from /faq_report: live at once, and written to the
    topic's file by `sportello faq export-variants` (then `exported_at` is set)."""

    __tablename__ = "faq_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column()


class FaqGap(Base):
    """A question staff marked "nuovo argomento": no topic answers it yet."""

    __tablename__ = "faq_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(500))
    asked: Mapped[int] = mapped_column()  # how many similar questions the report grouped
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """One person's answers to one version of a survey.

    `answers` is flat, keyed like the export's columns: "area" -> "pinerolo",
    "bisogni.anziani" -> "molto", "welfare_quali" -> ["salute", "altro"],
    "welfare_quali.altro" -> free text, "servizi_utili" -> free text. A skipped or unseen
    question has no key. `draft` holds the answers of a retake in progress: the confirmed
    `answers` stay (and count in the results) until the new ones are confirmed.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("user_id", "survey_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # pseudonymous, for exports
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column()
    locale: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="partial")  # partial | completed
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    draft: Mapped[dict[str, Any] | None] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()


def new_room() -> str:
    return secrets.token_urlsafe(12)


# Held or confirmed bookings occupy their operator's slot: the database refuses a second one.
OCCUPYING = "status IN ('held', 'confirmed')"


class Booking(Base):
    """A callback: held while the user completes it, then confirmed, moved, cancelled, done."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_operator_slot",
            "operator_id",
            "starts_at",
            unique=True,
            sqlite_where=sql_text(OCCUPYING),
            postgresql_where=sql_text(OCCUPYING),
        ),
        Index("ix_bookings_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(8))  # phone | video
    operator_id: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    held_until: Mapped[datetime | None] = mapped_column()
    phone: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    taken_by: Mapped[int | None] = mapped_column(BigInteger)
    closed_by: Mapped[str | None] = mapped_column(String(8))  # user | staff, when cancelled
    # The video call's own room: unguessable, so nobody joins a call that is not theirs.
    room: Mapped[str] = mapped_column(String(32), default=lambda: new_room())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Absence(Base):
    """Days an operator is away: their free slots disappear, their calls go to the others."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(BigInteger, index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reminder(Base):
    """A message due at a moment (a booking's or an event's reminder), moved to the outbox then.

    Written in the same transaction as what it reminds of, and cancelled with it.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # too late to send after this
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """What a user wants to hear about: territories and interests (ids from flows/events.yaml)."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=False)  # True once the user pressed "Fatto"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """A seminar or meeting staff announce to the subscribers it targets."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_announce", "status", "announce_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str | None] = mapped_column(String(500))
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int | None] = mapped_column()
    reminders: Mapped[list[str]] = mapped_column(JSON, default=list)  # rule ids in events.yaml
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # or announced, cancelled
    announce_at: Mapped[datetime] = mapped_column()
    announced_up_to: Mapped[int] = mapped_column(default=0)  # last user id reached so far
    announced_at: Mapped[datetime | None] = mapped_column()  # when every subscriber was queued
    reported_at: Mapped[datetime | None] = mapped_column()  # the final report to staff
    edition: Mapped[int] = mapped_column(default=1)  # raised by each correction
    created_by: Mapped[int] = mapped_column(BigInteger)
    staff_chat: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rsvp(Base):
    """A user's answer to an event ("yes", "maybe", "no"), and their feedback afterwards."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    waiting: Mapped[bool] = mapped_column(default=False)  # yes, on the waiting list
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column()


class Broadcast(Base):
    """A one-off message from staff to a segment of the subscribers."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_up_to: Mapped[int] = mapped_column(default=0)  # last user id reached so far
    queued_at: Mapped[datetime | None] = mapped_column()  # when every recipient was queued
    reported_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[int] = mapped_column(BigInteger)
    staff_chat: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendPace(Base):
    """When a channel's next send slot is free: every sender of the deployment shares it."""

    __tablename__ = "send_pace"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    free_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    # No call starts before this (a 429, an outage): checked at each call, by every sender.
    paused_until: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    outage_since: Mapped[float | None] = mapped_column(Float)  # the platform stopped answering
    outage_backoff: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class InboxColumns:
    """An inbox item: stored before the platform is told it arrived, then handled once.
    The key (the platform's id) makes a re-delivered item a no-op; the body is emptied once
    handled: the row then only remembers that the id was seen."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)  # the instance handling it
    done_at: Mapped[datetime | None] = mapped_column(index=True)


class WhatsAppInbox(InboxColumns, Base):
    """A verified WhatsApp notification item (a message or a status)."""

    __tablename__ = "whatsapp_inbox"


class TelegramInbox(InboxColumns, Base):
    """A Telegram update, by its update_id."""

    __tablename__ = "telegram_inbox"


class WhatsAppContact(Base):
    """What the WhatsApp channel knows of a user: their identifiers (business-scoped user id,
    phone number, username: each optional), when their 24-hour window opened last, and the
    numbered choices last offered as text (more than ten buttons)."""

    __tablename__ = "whatsapp_contacts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    bsuid: Mapped[str | None] = mapped_column(String(160), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    # A person answered from the WhatsApp Business app (shared number): the bot keeps quiet.
    silent_until: Mapped[datetime | None] = mapped_column()
    last_inbound_at: Mapped[datetime] = mapped_column(default=utcnow)
    choices: Mapped[list[Any]] = mapped_column(JSON, default=list)


class WhatsAppSent(Base):
    """The WhatsApp message id of an outbox row, so status notifications find the row."""

    __tablename__ = "whatsapp_sent"

    wamid: Mapped[str] = mapped_column(String(200), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    template: Mapped[bool] = mapped_column(default=False)  # a paid template, not free-form
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatThread(Base):
    """A conversation thread a channel opened in a group chat: its forum topic, or none when
    the chat has no topics (then replies to the thread's messages find it, see ThreadMessage)."""

    __tablename__ = "chat_threads"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    topic_id: Mapped[str | None] = mapped_column(String(32), index=True)
    closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadMessage(Base):
    """A message sent for a thread in a chat without topics: a reply to it belongs there."""

    __tablename__ = "thread_messages"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64), index=True)


class Handoff(Base):
    """A person asked to talk to staff: who, when, who holds the conversation, how it ended."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_state", "state", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # held, closed
    question: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    out_of_hours: Mapped[bool] = mapped_column(default=False)
    holder_id: Mapped[int | None] = mapped_column(BigInteger)  # the staff member's user id
    holder_name: Mapped[str] = mapped_column(String(128), default="")
    # The staff member's users.id when they hold it from their own chat with Sportello
    # (/conversazioni); no foreign key: handoffs.user_id is the person whose data this is.
    holder_user_id: Mapped[int | None] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None] = mapped_column()
    first_answer_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(16))  # staff, person
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)


class HandoffMessage(Base):
    """One relayed message (text kept until the retention period after closing)."""

    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    from_staff: Mapped[bool] = mapped_column(default=False)
    author: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[str | None] = mapped_column(String(16))  # photo, document
    source_ref: Mapped[str | None] = mapped_column(String(32))  # the message id where written
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
