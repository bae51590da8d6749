"""Italian national holidays: no callbacks and no live chat with staff on these days."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

# (month, day) of the fixed national holidays.
FIXED = (
    (1, 1),  # Capodanno
    (1, 6),  # Epifania
    (4, 25),  # Liberazione
    (5, 1),  # Festa dei lavoratori
    (6, 2),  # Festa della Repubblica
    (8, 15),  # Ferragosto
    (11, 1),  # Ognissanti
    (12, 8),  # Immacolata
    (12, 25),  # Natale
    (12, 26),  # Santo Stefano
)
SAN_FRANCESCO = (10, 4)  # national holiday again from 2026 (legge 151/2025)


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar, the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def national_holidays(year: int) -> frozenset[date]:
    days = {date(year, month, day) for month, day in FIXED}
    days.add(easter(year) + timedelta(days=1))  # Pasquetta
    if year >= 2026:
        days.add(date(year, *SAN_FRANCESCO))
    return frozenset(days)


def is_holiday(day: date) -> bool:
    return day in national_holidays(day.year)
