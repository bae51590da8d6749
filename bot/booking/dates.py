"""Days as staff type them in /agenda and /assenza: "domani", 24/12, 2026-12-24, ranges."""

from __future__ import annotations

import re
from datetime import date, timedelta

DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?$")


def parse_day(word: str, today: date) -> date | None:
    """ "oggi", "domani", 24/12, 24/12/2026, 2026-12-24; a day/month long past is next year's."""
    word = word.strip().lower()
    if word in ("oggi", "today", "aujourd'hui"):
        return today
    if word in ("domani", "tomorrow", "demain"):
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    match = DATE.match(word)
    if not match:
        return None
    day, month, year = match.groups()
    full_year = int(year) + (2000 if len(year) == 2 else 0) if year else today.year
    try:
        found = date(full_year, int(month), int(day))
    except ValueError:
        return None
    if not year and found < today - timedelta(days=31):
        found = found.replace(year=found.year + 1)
    return found


def parse_range(words: list[str], today: date) -> tuple[date, date] | None:
    """One day or two ("24/12 28/12", "24/12-28/12", "24/12 - 28/12"), in order."""
    joined = " ".join(words)
    parts = joined.split() if "/" not in joined else re.split(r"\s*-\s*|\s+", joined)
    days = [parse_day(part, today) for part in parts if part]
    if not 1 <= len(days) <= 2:
        return None
    first, last = days[0], days[-1]
    if first is None or last is None or last < first:
        return None
    return first, last
