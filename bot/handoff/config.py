"""The handoff as data: `flows/handoff.yaml` (office hours, fall-back, triggers, canned answers)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints, field_validator

from bot.paths import FLOWS_DIR
from bot.values.content import WEEKDAYS, ContentError, Span, Strict, TextLists, Texts, load_model
from bot.values.content import weekly_hours as checked_hours
from bot.values.holidays import is_holiday

DEFAULT_PATH = FLOWS_DIR / "handoff.yaml"
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=24)]
LOOK_AHEAD_DAYS = 14


class Canned(Texts):
    """A short answer staff send with one tap, in the person's language."""

    id: Id


class HandoffConfig(Strict):
    office_hours: dict[str, list[Span]]
    closed_days: list[date] = Field(default_factory=list)  # besides the national holidays
    fallback_minutes: int = Field(default=15, ge=1, le=240)
    triggers: TextLists
    answers: list[Canned] = Field(default_factory=list, max_length=20)

    @field_validator("office_hours", mode="before")
    @classmethod
    def weekly(cls, value: object) -> object:
        return checked_hours(value)

    def answer(self, answer_id: str) -> Canned | None:
        return next((a for a in self.answers if a.id == answer_id), None)

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        spans = self.hours_on(local.date())
        return any(s.start <= local.time().replace(tzinfo=None) < s.end for s in spans)

    def hours_on(self, day: date) -> list[Span]:
        """The office hours of a day: none on holidays and closed days."""
        if is_holiday(day) or day in self.closed_days:
            return []
        return self.office_hours.get(WEEKDAYS[day.weekday()], [])

    def next_opening(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """The next moment the office opens after `moment` (None: no hours at all)."""
        local = moment.astimezone(zone)
        for offset in range(LOOK_AHEAD_DAYS):
            day = (local + timedelta(days=offset)).date()
            for span in self.hours_on(day):
                opening = datetime.combine(day, span.start, zone)
                if opening > local:
                    return opening
        return None

    def fallback_at(self, asked: datetime, zone: ZoneInfo) -> datetime:
        """When an unclaimed request is told nobody took it: minutes into office hours."""
        start = asked if self.is_open(asked, zone) else self.next_opening(asked, zone) or asked
        return start + timedelta(minutes=self.fallback_minutes)


class HandoffError(ContentError):
    """flows/handoff.yaml is broken; the message lists the problems."""


def load_handoff(path: Path = DEFAULT_PATH) -> HandoffConfig:
    return load_model(path, HandoffConfig, HandoffError)
