"""Quiet hours: the part of the day when announcements and broadcasts wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

# Kinds of outbox rows that wait for the morning; reminders, replies and alerts never do.
WAITING_KINDS = ("announcement", "broadcast")


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` in local wall-clock time; an `end` before `start` spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "21:00-08:00" -> QuietHours; "" or "off" -> None (no quiet hours)."""
        text = text.strip()
        if text.lower() in ("", "off", "none"):
            return None
        start, _, end = text.partition("-")
        try:
            return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        except ValueError:
            raise ValueError("expected HH:MM-HH:MM, such as 21:00-08:00, or off") from None

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Is this moment within the quiet hours, on the clocks of `zone`?"""
        local = moment.astimezone(zone).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end
