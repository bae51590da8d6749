"""The handoff's pure decisions: office hours, the fall-back moment, the report's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.handoff.config import HandoffError, load_handoff
from bot.handoff.desk import HandoffDesk
from bot.handoff.report import figures_of
from bot.storage.models import Handoff

ROME = ZoneInfo("Europe/Rome")
CONFIG = load_handoff()  # flows/handoff.yaml: Mon-Thu 09:00-12:30 and 14:30-17:00, Fri mornings


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the week of Monday 23 November 2026, on Rome's clocks."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ROME)


@pytest.mark.parametrize(
    ("moment", "is_open", "opening"),
    [
        (rome(23, 10), True, rome(23, 14, 30)),
        (rome(23, 8, 59), False, rome(23, 9)),
        (rome(23, 12, 30), False, rome(23, 14, 30)),  # closing time is closed
        (rome(23, 20), False, rome(24, 9)),
        (rome(27, 15), False, rome(30, 9)),  # Friday afternoon: back on Monday
        (rome(29, 11), False, rome(30, 9)),  # Sunday
        (datetime(2026, 12, 8, 10, tzinfo=ROME), False, datetime(2026, 12, 9, 9, tzinfo=ROME)),
        (datetime(2026, 12, 23, 16, tzinfo=ROME), True, datetime(2026, 12, 28, 9, tzinfo=ROME)),
    ],
)
def test_office_hours(moment: datetime, is_open: bool, opening: datetime) -> None:
    assert CONFIG.is_open(moment, ROME) is is_open
    assert CONFIG.next_opening(moment, ROME) == opening


@pytest.mark.parametrize(
    ("asked", "fallback"),
    [
        (rome(23, 10), rome(23, 10, 15)),  # within hours: minutes from the request
        (rome(23, 20), rome(24, 9, 15)),  # after hours: minutes from the opening
    ],
)
def test_an_unclaimed_request_falls_back_after_minutes_of_office_hours(
    asked: datetime, fallback: datetime
) -> None:
    assert CONFIG.fallback_at(asked, ROME) == fallback


def test_a_broken_file_names_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "handoff.yaml"
    broken.write_text(
        "office_hours: {mon: ['17:00-09:00']}\ntriggers: {it: [a], en: [b]}\n", encoding="utf-8"
    )
    with pytest.raises(HandoffError) as problems:
        load_handoff(broken)
    assert "the end comes before the start" in str(problems.value)
    assert "triggers.fr" in str(problems.value)


def test_every_canned_answer_is_in_three_languages() -> None:
    assert CONFIG.answers and all(
        a.get(lang) for a in CONFIG.answers for lang in ["it", "en", "fr"]
    )
    assert CONFIG.answer("un_momento") is not None and CONFIG.answer("nope") is None


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("voglio parlare con una persona", True),
        ("Posso PARLARE con un operatore?", True),
        ("I want to talk to someone", True),
        ("je voudrais parler à quelqu'un", True),
        ("Je veux parler à un conseiller.", True),
        ("buoni pasto per una persona", False),
        ("parlare", False),
    ],
)
def test_typed_requests_for_a_person(typed: str, wanted: bool) -> None:
    assert HandoffDesk(CONFIG).wants_a_person(typed) is wanted


T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def request(
    answered_after: int | None = None, claimed: bool = False, score: int | None = None
) -> Handoff:
    first = T0 + timedelta(minutes=answered_after) if answered_after is not None else None
    return Handoff(
        asked_at=T0, claimed_at=T0 if claimed else None, first_answer_at=first, score=score
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], (0, 0, 0, None, {}, None)),
        ([request()], (1, 0, 1, None, {}, None)),
        (
            [request(2, True, 5), request(10, True, 3), request(4, True, 5), request(claimed=True)],
            (4, 4, 1, 4.0, {3: 1, 5: 2}, 4.3),
        ),
    ],
)
def test_the_report_figures(rows: list[Handoff], expected: tuple[object, ...]) -> None:
    figures = figures_of(rows)
    assert (
        figures.requests,
        figures.claimed,
        figures.unanswered,
        figures.median_minutes,
        figures.scores,
        figures.mean_score,
    ) == expected
