"""Quiet hours on Rome's clocks, across midnight and on the days the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import QuietHours

ROME = ZoneInfo("Europe/Rome")
EVENING = QuietHours.parse("21:00-08:00")


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [
        ("2026-01-15T19:59", False),  # 20:59 CET
        ("2026-01-15T20:00", True),  # 21:00 CET: the start is quiet
        ("2026-01-15T23:30", True),  # 00:30, past midnight
        ("2026-01-16T06:59", True),  # 07:59 CET
        ("2026-01-16T07:00", False),  # 08:00 CET: the end is not
        ("2026-07-15T18:59", False),  # 20:59 CEST
        ("2026-07-15T19:00", True),  # 21:00 CEST
        ("2026-07-16T05:59", True),  # 07:59 CEST
        ("2026-07-16T06:00", False),  # 08:00 CEST
        # 29 March 2026: at 02:00 CET the clocks jump to 03:00 CEST.
        ("2026-03-29T00:30", True),  # 01:30 CET
        ("2026-03-29T01:30", True),  # 03:30 CEST
        ("2026-03-29T05:59", True),  # 07:59 CEST
        ("2026-03-29T06:00", False),  # 08:00 CEST (07:00 yesterday's way)
        ("2026-03-29T19:00", True),  # 21:00 CEST
        # 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET.
        ("2026-10-25T00:30", True),  # 02:30 CEST, the first time
        ("2026-10-25T01:30", True),  # 02:30 CET, the second time
        ("2026-10-25T06:59", True),  # 07:59 CET
        ("2026-10-25T07:00", False),  # 08:00 CET (09:00 yesterday's way)
        ("2026-10-25T19:59", False),  # 20:59 CET
        ("2026-10-25T20:00", True),  # 21:00 CET
    ],
)
def test_a_moment_is_quiet_by_the_wall_clock_in_rome(utc: str, quiet: bool) -> None:
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert EVENING is not None
    assert EVENING.contains(moment, ROME) is quiet


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    lunch = QuietHours.parse("12:30-14:00")
    assert lunch is not None
    assert lunch.contains(datetime(2026, 5, 4, 11, 0, tzinfo=UTC), ROME)  # 13:00 CEST
    assert not lunch.contains(datetime(2026, 5, 4, 12, 0, tzinfo=UTC), ROME)  # 14:00
    assert QuietHours.parse("off") is None
    assert QuietHours.parse("") is None


def test_a_malformed_window_says_what_it_expects() -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        QuietHours.parse("21-8")
