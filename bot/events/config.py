"""Events as configuration: `flows/events.yaml` (territories, interests, reminder defaults)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from bot.paths import FLOWS_DIR
from bot.values.content import ContentError, Strict, Texts, load_model

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=16)]
ALL = "tutti"


class Choice(Strict):
    id: Id
    label: Texts


class ReminderRule(Strict):
    """A reminder `before` minutes before the start, to everyone targeted or to the yes."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+$", max_length=4)]
    before: int = Field(ge=1, le=60 * 24 * 60)
    to: Literal["targeted", "yes"]


class Feedback(Strict):
    days_after: int = Field(default=1, ge=0, le=30)
    at: time = time(10, 0)


class EventsConfig(Strict):
    territories: list[Choice] = Field(min_length=1)
    interests: list[Choice] = Field(min_length=1)
    reminders: list[ReminderRule] = []
    broadcast_confirm_above: int = Field(default=500, ge=1)
    feedback: Feedback = Feedback()
    duration: int = Field(default=120, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def ids_are_unique(self) -> EventsConfig:
        for name, ids in (
            ("territories", [c.id for c in self.territories]),
            ("interests", [c.id for c in self.interests]),
            ("reminders", [r.id for r in self.reminders]),
        ):
            if len(ids) != len(set(ids)):
                raise ValueError(f"{name}: an id is used twice")
        if ALL not in {c.id for c in self.interests}:
            raise ValueError(f"interests: '{ALL}' (every topic) is required")
        return self

    def territory_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.territories)

    def interest_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.interests)

    def label(self, choice_id: str, locale: str) -> str:
        for choice in (*self.territories, *self.interests):
            if choice.id == choice_id:
                return choice.label.get(locale)
        return choice_id

    def rule(self, rule_id: str) -> ReminderRule | None:
        return next((r for r in self.reminders if r.id == rule_id), None)


class EventsConfigError(ContentError):
    """flows/events.yaml is broken; the message lists the problems."""


def load_events_config(path: Path = FLOWS_DIR / "events.yaml") -> EventsConfig:
    return load_model(path, EventsConfig, EventsConfigError)
