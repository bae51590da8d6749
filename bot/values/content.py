"""Content files (YAML in faq/ and flows/), loaded into checked, frozen values, and the
text types every content file uses."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Model = TypeVar("Model", bound=BaseModel)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class Strict(BaseModel):
    """A content value: unknown keys are mistakes, and values never change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(Strict):
    """One text in each language."""

    it: Text
    en: Text
    fr: Text

    def get(self, locale: str) -> str:
        return str(getattr(self, locale, self.it))


class Phrases(Strict):
    """A list of texts in each language; a list may be empty."""

    it: list[Text] = []
    en: list[Text] = []
    fr: list[Text] = []

    def get(self, locale: str) -> list[str]:
        return list(getattr(self, locale, self.it))

    def all(self) -> set[str]:
        return {*self.it, *self.en, *self.fr}


class TextLists(Phrases):
    """A list of texts in each language, none of them empty."""

    it: list[Text] = Field(min_length=1)
    en: list[Text] = Field(min_length=1)
    fr: list[Text] = Field(min_length=1)


class ContentError(Exception):
    """A content file is broken; the message lists the problems, one per line."""


def load_model(path: Path, model: type[Model], error: type[ContentError]) -> Model:
    """Reads a YAML file into `model`; `error` names each problem with its place."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise error(f"{path.name}: missing") from None
    except yaml.YAMLError as problem:
        raise error(f"{path.name}: not valid YAML: {problem}") from None
    except ValidationError as invalid:
        problems = [
            f"{path.name}: {'.'.join(str(p) for p in item['loc']) or '-'}: "
            f"{str(item['msg']).removeprefix('Value error, ')}"
            for item in invalid.errors()
        ]
        raise error("\n".join(problems)) from None


class Span(Strict):
    """Office hours within one day, local time."""

    start: time
    end: time


def parse_span(value: str) -> Span:
    match = SPAN.match(value.replace(" ", ""))
    if not match:
        raise ValueError(f"'{value}': expected hours like 09:00-12:30")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if max(h1, h2) > 23 or max(m1, m2) > 59:
        raise ValueError(f"'{value}': not a time of day")
    span = Span(start=time(h1, m1), end=time(h2, m2))
    if span.end <= span.start:
        raise ValueError(f"'{value}': the end comes before the start")
    return span


def weekly_hours(value: object) -> dict[str, list[Span]]:
    """`mon: ["09:00-12:30", "14:30-17:00"]`, ... checked into spans per weekday."""
    if not isinstance(value, dict):
        raise ValueError("expected a weekday -> list of hours mapping, e.g. mon: [09:00-12:30]")
    unknown = set(value) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekdays {sorted(unknown)}: use {', '.join(WEEKDAYS)}")
    return {day: [parse_span(str(span)) for span in (spans or [])] for day, spans in value.items()}
