"""Italian public holidays: no callbacks on these days, whatever the office hours say.

They come from the `holidays` package (national holidays, Easter Monday, San Francesco from
2026...); the office's own closed days (a local patron, the 24th of December) are listed in
flows/booking.yaml."""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays


@cache
def national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("IT", years=year))


def is_holiday(day: date) -> bool:
    return day in national_holidays(day.year)
