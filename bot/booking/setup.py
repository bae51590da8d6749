"""Callback booking as data: `flows/booking.yaml`, loaded into frozen, checked values."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.paths import FLOWS_DIR
from bot.values.content import WEEKDAYS, ContentError, Span, Strict, Texts, load_model, weekly_hours

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=24)]
Mode = Literal["phone", "video"]
DEFAULT_PATH = FLOWS_DIR / "booking.yaml"


class Operator(Strict):
    """A member of staff who takes calls; `telegram_id` must be in STAFF_USER_IDS."""

    id: Id
    name: str = Field(min_length=1, max_length=64)
    telegram_id: int = Field(gt=0)
    whatsapp: str | None = None  # their STAFF_WHATSAPP_IDS entry, to take calls on WhatsApp
    video_link: HttpUrl | None = None
    hours: dict[str, list[Span]]

    @field_validator("hours", mode="before")
    @classmethod
    def weekly_hours(cls, value: object) -> object:
        return weekly_hours(value)

    def spans_on(self, day: date) -> list[Span]:
        return self.hours.get(WEEKDAYS[day.weekday()], [])


class Topic(Strict):
    id: Id
    label: Texts
    operators: list[Id] = Field(min_length=1)


class BookingSetup(Strict):
    slot_minutes: int = Field(default=20, ge=5, le=120)
    buffer_minutes: int = Field(default=0, ge=0, le=60)
    horizon_days: int = Field(default=14, ge=1, le=90)
    notice_hours: float = Field(default=2, ge=0, le=72)
    hold_minutes: int = Field(default=10, ge=1, le=60)
    max_future_bookings: int = Field(default=2, ge=1, le=10)
    days_shown: int = Field(default=6, ge=1, le=10)
    agenda_time: time = time(8, 0)
    modes: list[Mode] = Field(default=["phone", "video"], min_length=1)
    video_link: HttpUrl | None = None
    closed_days: list[date] = Field(default_factory=list)
    operators: list[Operator] = Field(min_length=1)
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="after")
    def references_resolve(self) -> BookingSetup:
        _unique("operator", [o.id for o in self.operators])
        _unique("operator telegram_id", [str(o.telegram_id) for o in self.operators])
        _unique("topic", [t.id for t in self.topics])
        known = {o.id for o in self.operators}
        for topic in self.topics:
            unknown = set(topic.operators) - known
            if unknown:
                raise ValueError(f"topic {topic.id}: unknown operators {sorted(unknown)}")
        if "video" in self.modes:
            missing = [o.id for o in self.operators if not (o.video_link or self.video_link)]
            if missing:
                raise ValueError(f"video calls need a video_link (missing for {missing})")
        return self

    def operator(self, operator_id: str) -> Operator:
        return next(o for o in self.operators if o.id == operator_id)

    def operator_by_whatsapp(self, ids: set[str]) -> Operator | None:
        return next((o for o in self.operators if o.whatsapp and o.whatsapp in ids), None)

    def operator_by_telegram(self, telegram_id: int) -> Operator | None:
        return next((o for o in self.operators if o.telegram_id == telegram_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def operators_for(self, topic_id: str) -> list[Operator]:
        topic = self.topic(topic_id)
        return [self.operator(o) for o in topic.operators] if topic else []

    def video_link_of(self, telegram_id: int, room: str) -> str | None:
        """The call's own room: the operator's (or the common) link, then `-room`."""
        operator = self.operator_by_telegram(telegram_id)
        link = (operator.video_link if operator else None) or self.video_link
        return room_link(str(link), room) if link else None


def room_link(base: str, room: str) -> str:
    """https://meet.jit.si/SMP + abc -> https://meet.jit.si/SMP-abc (a base ending in / gets
    the room as its path)."""
    return f"{base}{room}" if base.endswith("/") else f"{base}-{room}"


def _unique(what: str, values: list[str]) -> None:
    seen = {v for v in values if values.count(v) > 1}
    if seen:
        raise ValueError(f"{what} {sorted(seen)} used twice")


class BookingError(ContentError):
    """flows/booking.yaml is broken; the message lists the problems."""


def load_booking(path: Path = DEFAULT_PATH) -> BookingSetup:
    return load_model(path, BookingSetup, BookingError)


def staff_problems(setup: BookingSetup, staff_ids: frozenset[int]) -> list[str]:
    """Operators who could not act on their calls: they must be staff."""
    return [
        f"operator {o.id}: Telegram id {o.telegram_id} is not in STAFF_USER_IDS"
        for o in setup.operators
        if o.telegram_id not in staff_ids
    ]
