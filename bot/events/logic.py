"""Decisions about events, free of chat and database: dates typed by staff, who is targeted,
when reminders fall, who gets a place."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.events.config import ALL, Feedback, ReminderRule

YES, MAYBE, NO = "yes", "maybe", "no"
ANSWERS = (YES, MAYBE, NO)

MONTHS = {
    "gennaio": 1,
    "febbraio": 2,
    "marzo": 3,
    "aprile": 4,
    "maggio": 5,
    "giugno": 6,
    "luglio": 7,
    "agosto": 8,
    "settembre": 9,
    "ottobre": 10,
    "novembre": 11,
    "dicembre": 12,
}
WEEKDAYS = r"(lunedi|martedi|mercoledi|giovedi|venerdi|sabato|domenica|lun|mar|mer|gio|ven|sab|dom)"
RELATIVE = {"oggi": 0, "domani": 1, "dopodomani": 2}
_TIME = re.compile(
    r"(?:\b(?:ore|alle|h)\s*)?(\d{1,2})(?:[:.](\d{2}))$|\b(?:ore|alle|h)\s*(\d{1,2})$"
)
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?$")
_WORDS = re.compile(r"^(\d{1,2})\s+([a-z]+)(?:\s+(\d{4}))?$")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Invalid:
    reason: str  # format | date | time | past


def parse_when(typed: str, now: datetime, zone: ZoneInfo) -> datetime | Invalid:
    """ "12/3/2027 18:30", "12 marzo 18.30", "domani ore 9": a moment in `zone`, in the future."""
    words = _fold(typed)
    found = _TIME.search(words)
    if found is None:
        return Invalid("time" if _day(words, now.astimezone(zone).date()) else "format")
    hour, minute = int(found.group(1) or found.group(3)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        return Invalid("time")
    rest = re.sub(r"\b(il|del|alle|ore|,)\b", " ", words[: found.start()]).strip(" ,")
    day = _day(" ".join(rest.split()), now.astimezone(zone).date())
    if isinstance(day, Invalid) or day is None:
        return day or Invalid("format")
    moment = datetime.combine(day, time(hour, minute), zone)
    return moment if moment > now else Invalid("past")


def _fold(typed: str) -> str:
    folded = typed.casefold().replace("ì", "i").replace("è", "e").replace(",", " ")
    folded = re.sub(rf"\b{WEEKDAYS}\b", " ", folded)
    return " ".join(folded.split())


def _day(words: str, today: date) -> date | Invalid | None:
    if words in RELATIVE:
        return today + timedelta(days=RELATIVE[words])
    numeric, named = _NUMERIC.match(words), _WORDS.match(words)
    if numeric:
        day, month, year = int(numeric[1]), int(numeric[2]), numeric[3]
    elif named and named[2] in MONTHS:
        day, month, year = int(named[1]), MONTHS[named[2]], named[3]
    else:
        return None
    full_year = (int(year) + 2000 if len(year) == 2 else int(year)) if year else today.year
    try:
        found = date(full_year, month, day)
        if year is None and found < today:
            found = date(full_year + 1, month, day)
    except ValueError:
        return Invalid("date")
    return found


def parse_place(typed: str) -> tuple[str, str | None]:
    """A place, an online link, or both: ("Sala consiliare, Pinerolo", None)."""
    found = _URL.search(typed)
    link = found.group(0).rstrip(".,;)") if found else None
    place = _URL.sub(" ", typed) if found else typed
    return " ".join(place.split()).strip(" -,:"), link


def parse_capacity(typed: str) -> int | Invalid:
    digits = typed.strip().replace(".", "")
    if not digits.isdigit():
        return Invalid("format")
    value = int(digits)
    return value if 1 <= value <= 100_000 else Invalid("format")


def targets(
    territories: Iterable[str],
    interests: Iterable[str],
    wanted_territories: Iterable[str],
    wanted_interests: Iterable[str],
) -> bool:
    """Whether a subscriber (`wanted_*`) is among those an event or broadcast targets."""
    if not set(territories) & set(wanted_territories):
        return False
    chosen, wanted = set(interests), set(wanted_interests)
    return ALL in chosen or ALL in wanted or bool(chosen & wanted)


def reminder_times(
    starts_at: datetime, rules: Sequence[ReminderRule], chosen: Iterable[str], now: datetime
) -> list[tuple[ReminderRule, datetime]]:
    """The chosen reminders that still fall in the future, with their moment."""
    ids = set(chosen)
    due = [(rule, starts_at - timedelta(minutes=rule.before)) for rule in rules if rule.id in ids]
    return [(rule, moment) for rule, moment in due if moment > now]


def feedback_time(starts_at: datetime, feedback: Feedback, zone: ZoneInfo) -> datetime:
    """The day after (or as configured), at the configured local time."""
    day = starts_at.astimezone(zone).date() + timedelta(days=feedback.days_after)
    return datetime.combine(day, feedback.at, zone)


@dataclass(frozen=True)
class Seat:
    answer: str
    waiting: bool = False

    @property
    def holds_place(self) -> bool:
        return self.answer == YES and not self.waiting


def choose(previous: Seat | None, answer: str, capacity: int | None, taken: int) -> Seat:
    """The new seat: a yes beyond capacity waits; a place already held is kept.

    `taken` counts the places held by everyone else.
    """
    if answer != YES:
        return Seat(answer)
    if previous is not None and previous.answer == YES:
        return previous
    return Seat(YES, waiting=capacity is not None and taken >= capacity)


def free_places(capacity: int | None, taken: int, waiting: int) -> int:
    """How many on the waiting list can be given a place now."""
    if capacity is None:
        return waiting
    return max(0, min(waiting, capacity - taken))
