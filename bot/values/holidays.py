"""Italian public holidays: no callbacks and no live chat with staff on these days.

They come from the `holidays` package (national holidays, Easter Monday, San Francesco from
2026...); an office's own closed days (a local patron, the 24th of December) are content, in
flows/booking.yaml and flows/handoff.yaml."""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays


@cache
def national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("IT", years=year))


def is_holiday(day: date) -> bool:
    return day in national_holidays(day.year)
