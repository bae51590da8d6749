"""Booking rules as tables: holidays, office hours, phone numbers, dates, calendar files,
and the set-up file checked by `sportello booking check`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.booking.dates import parse_day, parse_range
from bot.booking.phone import BadPhone, CostlyPhone, normalise_phone
from bot.booking.setup import BookingError, load_booking
from bot.booking.slots import Busy, Calendar, candidates, days_with_offers, offers_on
from bot.values.holidays import is_holiday
from bot.values.ics import Event, calendar_of
from tests.booking_world import (
    ADA,
    BOOKING_FILE,
    BRUNO,
    MONDAY_8AM,
    Clock,
    book,
    booking_app,
    booking_settings,
)
from tests.desk_chat import Person
from tests.settings import make_settings
from tests.test_cli import ROOT, sportello

ROME = ZoneInfo("Europe/Rome")
SETUP = load_booking(BOOKING_FILE)


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 12, 25), True),
        (date(2026, 12, 26), True),
        (date(2027, 3, 29), True),  # Pasquetta 2027
        (date(2026, 4, 6), True),  # Pasquetta 2026
        (date(2026, 10, 4), True),  # San Francesco, national again from 2026
        (date(2025, 10, 4), False),
        (date(2026, 6, 2), True),
        (date(2026, 11, 23), False),
        (date(2027, 1, 6), True),  # Epifania
        (date(2027, 8, 16), False),  # the day after Ferragosto is a working day
    ],
)
def test_italian_national_holidays(day: date, holiday: bool) -> None:
    assert is_holiday(day) is holiday


def local_times(offers: list) -> list[str]:  # type: ignore[type-arg]
    return [o.start.astimezone(ROME).strftime("%H:%M") for o in offers]


def test_offers_respect_notice_buffer_and_office_hours() -> None:
    offers = offers_on(SETUP, "mutua", date(2026, 11, 23), Calendar(), MONDAY_8AM, ROME)
    assert local_times(offers) == ["10:00", "10:30", "11:00", "11:30"]


def test_the_least_busy_operator_is_chosen_and_a_busy_one_skipped() -> None:
    ten = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    busy_ada = Calendar((Busy(ADA, datetime(2026, 11, 23, 10, 0, tzinfo=UTC), ten),))
    [first, *_] = offers_on(SETUP, "welfare", date(2026, 11, 23), busy_ada, MONDAY_8AM, ROME)
    assert first.operator == BRUNO  # Ada has a call that day already
    both_busy = Calendar(
        (Busy(ADA, ten, ten.replace(minute=20)), Busy(BRUNO, ten, ten.replace(minute=20)))
    )
    assert candidates(SETUP, "welfare", ten, both_busy, MONDAY_8AM, ROME) == []


def test_absent_operators_and_closed_days_offer_nothing() -> None:
    away = Calendar(absent={ADA: ((date(2026, 11, 24), date(2026, 11, 26)),)})
    days = days_with_offers(SETUP, "mutua", away, MONDAY_8AM, ROME)
    assert date(2026, 11, 24) not in days and date(2026, 11, 27) not in days
    assert days[0] == date(2026, 11, 23)


def test_no_time_in_the_past_or_beyond_the_horizon() -> None:
    past = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 local, inside the notice
    assert candidates(SETUP, "mutua", past, Calendar(), MONDAY_8AM, ROME) == []
    far = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert candidates(SETUP, "mutua", far, Calendar(), MONDAY_8AM, ROME) == []


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("333 123 4567", "+393331234567"),
        ("800 123456", "+39800123456"),  # toll-free: costs SMP nothing more
        ("+1 202 555 0143", "+12025550143"),
        ("+39 333 1234567", "+393331234567"),
        ("0039 333 123 4567", "+393331234567"),
        ("0121-123456", "+390121123456"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+41 44 668 18 00", "+41446681800"),
    ],
)
def test_phone_numbers_are_normalised(typed: str, e164: str) -> None:
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "ciao", "12345", "+39 000", "333 123 4567 8901 2345"])
def test_phone_numbers_we_cannot_call(typed: str) -> None:
    with pytest.raises(BadPhone):
        normalise_phone(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "899 123456",  # premium rate
        "892 123",
        "166 123456",
        "144 123456",
        "+44 909 879 0000",
        "+1 900 555 0123",
        "+33 8 99 12 34 56",
        "848 123456",  # shared cost
        "178 1234567",  # personal numbers, charged as the owner decides
        "199 123456",
    ],
)
def test_numbers_that_cost_extra_are_refused(typed: str) -> None:
    with pytest.raises(CostlyPhone):
        normalise_phone(typed)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["24/12"], (date(2026, 12, 24), date(2026, 12, 24))),
        (["24/12", "28/12"], (date(2026, 12, 24), date(2026, 12, 28))),
        (["24/12-28/12"], (date(2026, 12, 24), date(2026, 12, 28))),
        (["2/1"], (date(2027, 1, 2), date(2027, 1, 2))),  # long past this year: next year's
        (["2026-12-24"], (date(2026, 12, 24), date(2026, 12, 24))),
        (["28/12", "24/12"], None),
        (["31/31"], None),
        (["1/1", "2/1", "3/1"], None),
    ],
)
def test_absence_dates(words: list[str], expected: tuple[date, date] | None) -> None:
    assert parse_range(words, date(2026, 11, 22)) == expected


def test_agenda_days() -> None:
    today = date(2026, 11, 22)
    assert parse_day("oggi", today) == today
    assert parse_day("domani", today) == date(2026, 11, 23)
    assert parse_day("24.12.26", today) == date(2026, 12, 24)
    assert parse_day("ieri", today) is None


def test_a_calendar_file_folds_long_lines_and_escapes_text() -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    note = "Nota: welfare, fisco; " + "è" * 60
    content = calendar_of(
        [Event("booking-1", start, start.replace(minute=20), "Richiamata", note + "\rfine")],
        start,
        "smp.example.org",
    ).decode()
    assert "DTSTART:20261123T090000Z\r\n" in content
    assert "welfare\\, fisco\\; " in content
    assert "\rfine" not in content and "\\nfine" in content  # a lone carriage return too
    assert all(len(line.encode()) <= 75 for line in content.split("\r\n"))
    assert "UID:booking-1@smp.example.org\r\n" in content
    assert "METHOD:PUBLISH" in content


def test_a_file_that_only_cancels_says_method_cancel() -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    end = start.replace(minute=20)
    off = Event("booking-1", start, end, "Richiamata", sequence=1, cancelled=True)
    cancelling = calendar_of([off], start, "smp.example.org").decode()
    assert "METHOD:CANCEL" in cancelling and "STATUS:CANCELLED" in cancelling
    moved = calendar_of([off, Event("booking-2", start, end, "Richiamata")], start, "x.org")
    assert b"METHOD:PUBLISH" in moved  # a move also adds the new call


@pytest.mark.parametrize(
    ("values", "domain"),
    [
        ({}, "sportello.invalid"),
        ({"webhook_url": "https://bot.example.org/telegram"}, "bot.example.org"),
        ({"calendar_domain": "smp.example.org", "webhook_url": "https://b.example.org/x"},
         "smp.example.org"),
    ],
)  # fmt: skip
def test_calendar_uids_use_a_domain_from_the_settings(values: dict[str, str], domain: str) -> None:
    assert make_settings("sqlite://", **values).uid_domain == domain


def test_broken_booking_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    broken = BOOKING_FILE.read_text().replace("operators: [bruno]", "operators: [carla]")
    (tmp_path / "booking.yaml").write_text(broken.replace('"09:00-12:00"', '"12:00-09:00"', 1))
    with pytest.raises(BookingError) as error:
        load_booking(tmp_path / "booking.yaml")
    assert "the end comes before the start" in str(error.value)
    (tmp_path / "booking.yaml").write_text(broken)
    with pytest.raises(BookingError) as error:
        load_booking(tmp_path / "booking.yaml")
    assert "unknown operators ['carla']" in str(error.value)


def test_booking_check_validates_the_shipped_file_and_the_staff_list() -> None:
    ok = sportello("booking", "check", env={"STAFF_USER_IDS": "111111111,222222222"}, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "booking.yaml: ok, 4 topics, 2 operators" in ok.stdout
    missing = sportello("booking", "check", env={"STAFF_USER_IDS": "111111111"}, cwd=ROOT)
    assert missing.returncode == 1
    assert "operator marco: Telegram id 222222222 is not in STAFF_USER_IDS" in missing.stderr


def test_booking_export_writes_a_staff_members_calendar(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'export.db'}"
    app = booking_app(booking_settings(url), Clock())
    book(Person(app.desk, name="Anna Rossi"), topic="Fondo sanitario")  # Ada's
    app.database.dispose()
    env = {"DATABASE_URL": url, "BOOKING_FILE": str(BOOKING_FILE)}
    out = tmp_path / "ada.ics"
    args = ("booking", "export", "--ics", "--staff", str(ADA), "--from", "2026-11-01")
    result = sportello(*args, "--out", str(out), env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    content = out.read_bytes().decode().replace("\r\n ", "")  # unfolded
    assert content.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20261123T090000Z" in content
    assert "SUMMARY:Sportello: Fondo sanitario" in content
    assert "Anna Rossi" in content and "+39 333 123 4567" in content
    nobody = sportello(*args[:-2], "--staff", str(BRUNO), env=env, cwd=ROOT)
    assert "BEGIN:VEVENT" not in nobody.stdout


def test_a_callback_booked_and_cancelled_in_the_terminal(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "BOOKING_FILE": str(BOOKING_FILE),
    }
    # consent, topic, phone call, first day, first time, number, no note, confirm;
    # then the bookings list: cancel, yes.
    script = "/richiamata\n1\n1\n1\n1\n1\n333 123 4567\n#1\n1\n/prenotazioni\n2\n1\n"
    result = sportello("chat", "--user", "88", stdin=script, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Di cosa vuoi parlare?" in out
    assert "Fatto! Ti chiameremo" in out
    assert "📎 richiamata.ics (" in out and "chat-files/richiamata.ics" in out
    assert "Richiamata annullata" in out
    assert "Traceback" not in result.stderr
