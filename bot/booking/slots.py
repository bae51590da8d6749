"""Free times for a callback: pure decisions over office hours, holidays, absences and calls."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.booking.setup import BookingSetup, Operator
from bot.values.holidays import is_holiday


@dataclass(frozen=True)
class Busy:
    """A call that occupies an operator (confirmed, or held by someone completing it)."""

    operator: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Offer:
    """A free time, and who would call (the least busy operator of the topic that day)."""

    start: datetime  # UTC
    end: datetime
    operator: int


@dataclass(frozen=True)
class Calendar:
    """What the database knows that the setup does not: calls and absences."""

    busy: tuple[Busy, ...] = ()
    absent: Mapping[int, tuple[tuple[date, date], ...]] = field(default_factory=dict)

    def is_absent(self, operator: int, day: date) -> bool:
        return any(first <= day <= last for first, last in self.absent.get(operator, ()))

    def is_free(self, operator: int, start: datetime, end: datetime) -> bool:
        return not any(
            b.operator == operator and b.start < end and start < b.end for b in self.busy
        )

    def load(self, operator: int, day: date, zone: ZoneInfo) -> int:
        return sum(
            1
            for b in self.busy
            if b.operator == operator and b.start.astimezone(zone).date() == day
        )


def is_open(setup: BookingSetup, day: date) -> bool:
    return not is_holiday(day) and day not in setup.closed_days


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def days_ahead(setup: BookingSetup, now: datetime, zone: ZoneInfo) -> Iterator[date]:
    """The open days within the booking horizon, today first."""
    today = local_today(now, zone)
    for offset in range(setup.horizon_days + 1):
        day = today + timedelta(days=offset)
        if is_open(setup, day):
            yield day


def operator_slots(
    setup: BookingSetup, operator: Operator, day: date, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """The operator's slots on a local day, in UTC; wall-clock steps, so DST days are right."""
    length = timedelta(minutes=setup.slot_minutes)
    step = length + timedelta(minutes=setup.buffer_minutes)
    for span in operator.spans_on(day):
        cursor = datetime.combine(day, span.start, tzinfo=zone)
        closing = datetime.combine(day, span.end, tzinfo=zone)
        while cursor + length <= closing:
            yield cursor.astimezone(UTC), (cursor + length).astimezone(UTC)
            cursor += step


def _free(
    setup: BookingSetup, topic: str, day: date, calendar: Calendar, now: datetime, zone: ZoneInfo
) -> Iterator[tuple[tuple[int, int], Offer]]:
    """Every free slot of the topic's operators on a day, with its (load, rank) for choosing."""
    if not is_open(setup, day) or day > local_today(now, zone) + timedelta(days=setup.horizon_days):
        return
    earliest = now + timedelta(hours=setup.notice_hours)
    for rank, operator in enumerate(setup.operators_for(topic)):
        who = operator.telegram_id
        if calendar.is_absent(who, day):
            continue
        load = calendar.load(who, day, zone)
        for start, end in operator_slots(setup, operator, day, zone):
            if start >= earliest and calendar.is_free(who, start, end):
                yield (load, rank), Offer(start, end, who)


def offers_on(
    setup: BookingSetup, topic: str, day: date, calendar: Calendar, now: datetime, zone: ZoneInfo
) -> list[Offer]:
    """The free times of a day for a topic, each with the least busy free operator."""
    best: dict[datetime, tuple[tuple[int, int], Offer]] = {}
    for order, offer in _free(setup, topic, day, calendar, now, zone):
        if offer.start not in best or order < best[offer.start][0]:
            best[offer.start] = (order, offer)
    return [best[start][1] for start in sorted(best)]


def days_with_offers(
    setup: BookingSetup, topic: str, calendar: Calendar, now: datetime, zone: ZoneInfo
) -> list[date]:
    """The next open days that still have a free time, at most `days_shown`."""
    found: list[date] = []
    for day in days_ahead(setup, now, zone):
        if offers_on(setup, topic, day, calendar, now, zone):
            found.append(day)
            if len(found) == setup.days_shown:
                break
    return found


def candidates(
    setup: BookingSetup,
    topic: str,
    start: datetime,
    calendar: Calendar,
    now: datetime,
    zone: ZoneInfo,
) -> list[Offer]:
    """Who could take a call at `start`, least busy first; empty if it is no longer free."""
    day = start.astimezone(zone).date()
    free = [
        item for item in _free(setup, topic, day, calendar, now, zone) if item[1].start == start
    ]
    return [offer for _, offer in sorted(free, key=lambda item: item[0])]


def nearest(offers: Iterable[Offer], wanted: datetime, count: int = 3) -> list[Offer]:
    """The free times closest to the one that was taken, in time order."""
    closest = sorted(offers, key=lambda o: abs((o.start - wanted).total_seconds()))[:count]
    return sorted(closest, key=lambda o: o.start)
