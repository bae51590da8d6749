"""The labelled question sets in tests/data and how the matcher scores on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.faq.guard import Labelled, read_labelled
from bot.faq.matcher import Matcher

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Scores:
    in_scope: int
    correct: int  # answered with the right topic
    first_right: int  # the right topic first, answered or suggested
    out_of_scope: int
    out_of_scope_answered: int
    mistakes: tuple[str, ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope

    @property
    def top1(self) -> float:
        return self.first_right / self.in_scope

    @property
    def out_of_scope_rate(self) -> float:
        return self.out_of_scope_answered / self.out_of_scope


HELD_OUT = "faq_heldout.tsv"  # written apart, never tuned on: only its totals are looked at
LANGS = ("it", "en", "fr")


def dev_names() -> list[str]:
    return sorted(path.name for path in DATA.glob("faq_dev*.tsv"))


def read(name: str) -> list[Labelled]:
    return read_labelled(DATA / name)


def score(matcher: Matcher, questions: list[Labelled]) -> Scores:
    correct = first = answered_out = 0
    mistakes: list[str] = []
    for item in questions:
        match = matcher.match(item.question, item.lang)
        top = match.best
        if item.expected is None:
            answered_out += match.outcome == "answer"
            if match.outcome == "answer":
                mistakes.append(f"OUT answered {match.topic_id} {match.score:.2f}: {item.question}")
            continue
        correct += match.outcome == "answer" and match.topic_id == item.expected
        first += top == item.expected and match.outcome != "none"  # "none" shows no topic
        if not (match.outcome == "answer" and match.topic_id == item.expected):
            mistakes.append(
                f"{item.expected} -> {match.outcome} {top} {match.score:.2f}: {item.question}"
            )
    in_scope = sum(1 for q in questions if q.expected)
    return Scores(
        in_scope, correct, first, len(questions) - in_scope, answered_out, tuple(mistakes)
    )


def by_language(matcher: Matcher, questions: list[Labelled]) -> dict[str, Scores]:
    """The scores of each language's questions, and of all of them under "all"."""
    scores = {lang: score(matcher, [q for q in questions if q.lang == lang]) for lang in LANGS}
    return {**scores, "all": score(matcher, questions)}


def figures(result: Scores) -> dict[str, float | int]:
    """A Scores as plain numbers (no single question), for reports."""
    return {
        "top1": round(result.top1, 4) if result.in_scope else 0.0,
        "answered_right": round(result.accuracy, 4) if result.in_scope else 0.0,
        "out_of_scope_answered": round(result.out_of_scope_rate, 4) if result.out_of_scope else 0.0,
        "in_scope": result.in_scope,
        "out_of_scope": result.out_of_scope,
    }
