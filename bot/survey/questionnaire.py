"""The needs survey as data: `flows/survey.yaml`, loaded into frozen, checked values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from bot.paths import FLOWS_DIR
from bot.values.content import ContentError, Strict, Texts, load_model

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=24)]
QuestionType = Literal["single", "multiple", "grid", "yesno", "number", "text"]
YES_NO = ("si", "no")


class Option(Strict):
    id: Id
    label: Texts


class Condition(Strict):
    """Show the question only if an earlier single-choice answer is one of `in`."""

    question: Id
    in_: list[Id] = Field(alias="in", min_length=1)


class Question(Strict):
    id: Id
    type: QuestionType
    text: Texts
    required: bool = False
    options: list[Option] = []  # single, multiple
    items: list[Option] = []  # grid rows
    scale: list[Option] = []  # grid columns
    other: bool = False  # multiple: also a free-text "other"
    when: Condition | None = None
    min: int | None = None  # number
    max: int | None = None
    max_length: int = Field(default=1000, ge=1, le=4000)  # text

    @model_validator(mode="after")
    def fits_its_type(self) -> Question:
        if self.type in ("single", "multiple") and len(self.options) < 2:
            raise ValueError(f"{self.id}: a {self.type} question needs at least two options")
        if self.type == "grid" and (not self.items or len(self.scale) < 2):
            raise ValueError(f"{self.id}: a grid needs items and a scale of two or more")
        return self

    def option_ids(self) -> tuple[str, ...]:
        if self.type == "yesno":
            return YES_NO
        return tuple(option.id for option in self.options)


class Survey(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$", max_length=32)]
    version: int = Field(ge=1)
    title: Texts
    intro: Texts
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def references_resolve(self) -> Survey:
        seen: dict[str, Question] = {}
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"question id '{question.id}' is used twice")
            if question.when:
                earlier = seen.get(question.when.question)
                if earlier is None:
                    raise ValueError(f"{question.id}: 'when' must refer to an earlier question")
                unknown = set(question.when.in_) - set(earlier.option_ids())
                if unknown:
                    raise ValueError(f"{question.id}: unknown options {sorted(unknown)}")
            seen[question.id] = question
        return self

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)


class SurveyError(ContentError):
    """flows/survey.yaml is broken; the message lists the problems."""


def load_survey(path: Path = FLOWS_DIR / "survey.yaml") -> Survey:
    return load_model(path, Survey, SurveyError)
