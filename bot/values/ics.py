"""Appointments as iCalendar files (RFC 5545, written by the icalendar library): a booked
callback, an event ("Ci sarò")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

MIME_TYPE = "text/calendar"
PRODUCT = "-//Societa Mutua Piemonte//Sportello//IT"


@dataclass(frozen=True)
class Event:
    uid: str  # unique within Sportello ("booking-12"); the calendar adds "@" and the domain
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str | None = None
    sequence: int = 0  # raised on each change, so calendars replace the old copy
    cancelled: bool = False


def calendar_of(events: Iterable[Event], stamp: datetime, domain: str) -> bytes:
    """A VCALENDAR with the events, times in UTC. A file that only cancels says METHOD:CANCEL,
    which calendar apps act on (a cancelled event in a PUBLISH file several of them ignore)."""
    chosen = list(events)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    cancelling = bool(chosen) and all(event.cancelled for event in chosen)
    calendar.add("method", "CANCEL" if cancelling else "PUBLISH")
    for event in chosen:
        calendar.add_component(_vevent(event, stamp, domain))
    return bytes(calendar.to_ical())


def calendar(
    *,
    uid: str,
    title: str,
    starts_at: datetime,
    duration: timedelta,
    domain: str,
    description: str = "",
    location: str = "",
    url: str | None = None,
    sequence: int = 0,
    cancelled: bool = False,
    stamp: datetime,
) -> bytes:
    """A calendar with one event."""
    end = starts_at + duration
    event = Event(uid, starts_at, end, title, description, location, url, sequence, cancelled)
    return calendar_of([event], stamp, domain)


def _vevent(event: Event, stamp: datetime, domain: str) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", f"{event.uid}@{domain}")
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("summary", event.summary)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if event.description:
        vevent.add("description", event.description)
    if event.location or event.url:
        vevent.add("location", event.location or event.url or "")
    if event.url:
        vevent.add("url", event.url)
    return vevent
