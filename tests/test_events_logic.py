"""Event decisions as tables of cases: typed dates, targeting, reminders, places, .ics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.events.config import EventsConfigError, Feedback, load_events_config
from bot.events.logic import (
    Invalid,
    Seat,
    choose,
    feedback_time,
    free_places,
    parse_capacity,
    parse_place,
    parse_when,
    reminder_times,
    targets,
)
from bot.paths import FLOWS_DIR
from bot.values import ics

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # Sunday 22 November 2026, 10:00 in Rome


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/3/2027 18:30", datetime(2027, 3, 12, 18, 30, tzinfo=ROME)),
        ("12/03/2027 ore 18.30", datetime(2027, 3, 12, 18, 30, tzinfo=ROME)),
        ("12-3-27 18:30", datetime(2027, 3, 12, 18, 30, tzinfo=ROME)),
        ("giovedì 12 marzo 2027, 9:05", datetime(2027, 3, 12, 9, 5, tzinfo=ROME)),
        ("12 marzo alle 18", datetime(2027, 3, 12, 18, 0, tzinfo=ROME)),
        ("3/12 21:00", datetime(2026, 12, 3, 21, 0, tzinfo=ROME)),
        ("1/2 9:00", datetime(2027, 2, 1, 9, 0, tzinfo=ROME)),  # no year: the next one
        ("domani ore 9", datetime(2026, 11, 23, 9, 0, tzinfo=ROME)),
        ("oggi 18:00", datetime(2026, 11, 22, 18, 0, tzinfo=ROME)),
        ("12/3/2027", Invalid("time")),
        ("31/2/2027 10:00", Invalid("date")),
        ("12/3/2027 25:00", Invalid("time")),
        ("1/1/2020 10:00", Invalid("past")),
        ("oggi 8:00", Invalid("past")),
        ("la settimana prossima", Invalid("format")),
        ("", Invalid("format")),
    ],
)
def test_typed_dates(typed: str, expected: datetime | Invalid) -> None:
    assert parse_when(typed, NOW, ROME) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Sala consiliare, Pinerolo", ("Sala consiliare, Pinerolo", None)),
        ("online: https://meet.example.org/smp", ("online", "https://meet.example.org/smp")),
        ("https://zoom.us/j/1.", ("", "https://zoom.us/j/1")),
        ("Torre Pellice e https://x.org/a", ("Torre Pellice e", "https://x.org/a")),
    ],
)
def test_place_or_link(typed: str, expected: tuple[str, str | None]) -> None:
    assert parse_place(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("40", 40), (" 1.200 ", 1200), ("0", Invalid("format")), ("tanti", Invalid("format"))],
)
def test_capacity(typed: str, expected: int | Invalid) -> None:
    assert parse_capacity(typed) == expected


@pytest.mark.parametrize(
    ("event", "subscriber", "expected"),
    [
        ((["pinerolo"], ["sicurezza"]), (["pinerolo"], ["sicurezza"]), True),
        ((["pinerolo"], ["sicurezza"]), (["val_pellice"], ["sicurezza"]), False),
        ((["pinerolo"], ["sicurezza"]), (["pinerolo"], ["ambiente"]), False),
        ((["pinerolo"], ["tutti"]), (["pinerolo"], ["ambiente"]), True),
        ((["pinerolo", "fuori"], ["ambiente"]), (["fuori"], ["tutti"]), True),
        ((["pinerolo"], ["ambiente"]), ([], ["tutti"]), False),
        ((["pinerolo"], ["ambiente"]), (["pinerolo"], []), False),
    ],
)
def test_who_is_targeted(
    event: tuple[list[str], list[str]], subscriber: tuple[list[str], list[str]], expected: bool
) -> None:
    assert targets(*event, *subscriber) is expected


def test_reminders_fall_before_the_start_and_only_in_the_future() -> None:
    rules = load_events_config().reminders
    start = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # in five days
    due = reminder_times(start, rules, ["d7", "d1", "h1"], NOW)
    assert [(rule.id, moment) for rule, moment in due] == [
        ("d1", start - timedelta(days=1)),
        ("h1", start - timedelta(hours=1)),
    ]
    assert reminder_times(start, rules, ["h1"], NOW)[0][0].to == "yes"


def test_feedback_comes_the_next_morning_local_time() -> None:
    start = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)  # 23:30 in Rome
    assert feedback_time(start, Feedback(), ROME) == datetime(2026, 11, 28, 10, 0, tzinfo=ROME)


@pytest.mark.parametrize(
    ("previous", "answer", "capacity", "taken", "expected"),
    [
        (None, "yes", None, 100, Seat("yes")),
        (None, "yes", 10, 9, Seat("yes")),
        (None, "yes", 10, 10, Seat("yes", waiting=True)),
        (Seat("yes"), "yes", 10, 10, Seat("yes")),  # a held place is kept
        (Seat("yes", waiting=True), "yes", 10, 10, Seat("yes", waiting=True)),
        (Seat("maybe"), "yes", 10, 10, Seat("yes", waiting=True)),
        (Seat("yes"), "no", 10, 10, Seat("no")),
        (None, "maybe", 1, 1, Seat("maybe")),
    ],
)
def test_places_and_waiting_list(
    previous: Seat | None, answer: str, capacity: int | None, taken: int, expected: Seat
) -> None:
    assert choose(previous, answer, capacity, taken) == expected


@pytest.mark.parametrize(
    ("capacity", "taken", "waiting", "expected"),
    [(None, 5, 3, 3), (10, 9, 3, 1), (10, 10, 3, 0), (10, 12, 3, 0), (20, 10, 3, 3)],
)
def test_places_freed_for_the_waiting_list(
    capacity: int | None, taken: int, waiting: int, expected: int
) -> None:
    assert free_places(capacity, taken, waiting) == expected


def test_the_calendar_file_is_valid_icalendar() -> None:
    content = ics.calendar(
        uid="event-3",
        domain="smp.example.org",
        title="Welfare aziendale, cosa cambia nel 2027; domande",
        starts_at=datetime(2027, 3, 12, 18, 30, tzinfo=ROME),
        duration=timedelta(minutes=120),
        description="Due ore con i consulenti.\nPorta le tue domande. " * 3,
        location="Sala consiliare, Pinerolo",
        url="https://smp.example.org/eventi/3",
        sequence=2,
        stamp=NOW,
    )
    lines = content.decode().split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "DTSTART:20270312T173000Z" in lines and "DTEND:20270312T193000Z" in lines
    assert "SUMMARY:Welfare aziendale\\, cosa cambia nel 2027\\; domande" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = content.decode().replace("\r\n ", "")
    assert "Porta le tue domande. Due ore" in unfolded.replace("\\n", " ")
    assert "UID:event-3@smp.example.org" in lines


def drop_all_topics(data: dict[str, Any]) -> None:
    data["interests"] = [i for i in data["interests"] if i["id"] != "tutti"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda data: data["territories"].append(data["territories"][0]), "used twice"),
        (lambda data: data.update(broadcast_confirm_above=0), "broadcast_confirm_above"),
        (lambda data: data["reminders"][0].update(to="everyone"), "reminders.0.to"),
        (drop_all_topics, "'tutti'"),
    ],
)
def test_a_broken_events_file_stops_start_up(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    data = yaml.safe_load((FLOWS_DIR / "events.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "events.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EventsConfigError, match=problem):
        load_events_config(path)
