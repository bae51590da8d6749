"""Appointments as iCalendar files (RFC 5545): a booked callback, an event ("Ci sarò")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MIME_TYPE = "text/calendar"
PRODUCT = "-//Societa Mutua Piemonte//Sportello//IT"


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str | None = None
    sequence: int = 0  # raised on each change, so calendars replace the old copy
    cancelled: bool = False


def calendar_of(events: Iterable[Event], stamp: datetime) -> bytes:
    """A VCALENDAR with the events, times in UTC, lines folded at 75 octets, CRLF endings."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN"]
    lines.append("METHOD:PUBLISH")
    for event in events:
        lines += _vevent(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode()


def calendar(
    *,
    uid: str,
    title: str,
    starts_at: datetime,
    duration: timedelta,
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
    return calendar_of([event], stamp)


def _vevent(event: Event, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(event.start)}",
        f"DTEND:{_utc(event.end)}",
        f"SUMMARY:{escape(event.summary)}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape(event.description)}")
    if event.location or event.url:
        lines.append(f"LOCATION:{escape(event.location or event.url or '')}")
    if event.url:
        lines.append(f"URL:{event.url}")
    return [*lines, "END:VEVENT"]


def escape(value: str) -> str:
    """Text values: backslash, semicolon, comma and line breaks escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """Splits a content line into octet-limited pieces, never inside a UTF-8 character."""
    pieces: list[str] = []
    current = ""
    for char in line:
        size = limit if not pieces else limit - 1  # continuation lines start with a space
        if len((current + char).encode()) > size:
            pieces.append(current)
            current = ""
        current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
