"""Labelled questions (tests/data/faq_dev*.tsv) and the check that a variant steals none."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from bot.faq.matcher import Matcher
from bot.paths import SHIPPED

DEV_SETS = SHIPPED / "tests" / "data"  # the questions matching is tuned on (also in the wheel)


@dataclass(frozen=True)
class Labelled:
    question: str
    lang: str
    expected: str | None  # None: out of scope


def read_labelled(path: Path) -> list[Labelled]:
    """A tab-separated file with the columns question, lang, expected ("none": out of scope)."""
    with path.open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source, delimiter="\t"))
    return [
        Labelled(r["question"], r["lang"], None if r["expected"] == "none" else r["expected"])
        for r in rows
    ]


def dev_questions(folder: Path = DEV_SETS) -> list[Labelled]:
    """Every dev-set question; none where the dev sets are not deployed."""
    return [q for path in sorted(folder.glob("faq_dev*.tsv")) for q in read_labelled(path)]


def stolen(
    before: Matcher, after: Matcher, topic_id: str, questions: list[Labelled]
) -> list[Labelled]:
    """The questions of other topics whose first choice moves to `topic_id` once the variant
    is added, and the out-of-scope ones it starts answering with it."""
    taken: list[Labelled] = []
    for item in questions:
        if item.expected == topic_id:
            continue
        now = after.match(item.question, item.lang)
        if now.best != topic_id:
            continue  # the variant did not change this one's first choice to its topic
        then = before.match(item.question, item.lang)
        if item.expected is None:
            lost = now.outcome == "answer" and then.outcome != "answer"
        else:
            lost = then.best == item.expected
        if lost:
            taken.append(item)
    return taken


def silenced(before: Matcher, after: Matcher, questions: list[Labelled]) -> list[Labelled]:
    """The in-scope questions answered right before and no longer once an out-of-scope
    example is added."""
    lost: list[Labelled] = []
    for item in questions:
        if item.expected is None:
            continue
        then = before.match(item.question, item.lang)
        if then.outcome == "answer" and then.topic_id == item.expected:
            now = after.match(item.question, item.lang)
            if not (now.outcome == "answer" and now.topic_id == item.expected):
                lost.append(item)
    return lost
