"""The day's calls per operator: /agenda for staff, and each operator's morning agenda."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.booking import store as booking_store
from bot.booking.dates import parse_day
from bot.booking.phone import readable_phone
from bot.booking.setup import BookingSetup
from bot.booking.staff import operator_name, staff_locale
from bot.config import Settings
from bot.core.turn import Turn
from bot.delivery import outbox
from bot.storage.db import Database
from bot.storage.models import Booking, User
from bot.values.i18n import N_, _, current_locale, format_day, format_time, use_locale
from bot.values.markup import Rich, bold, join
from bot.values.messages import Address, Answer, Delivery, Reply, say

N_AGENDA = N_("le chiamate del giorno per operatore (facoltativo: una data)")


def show_agenda(turn: Turn, setup: BookingSetup) -> Answer:
    """/agenda [data]: the day's calls, per operator."""
    words = turn.inbound.text.split()[1:]
    today = turn.now.astimezone(turn.settings.zone).date()
    day = parse_day(words[0], today) if words else today
    if day is None:
        return say(_("Non capisco la data. Scrivi per esempio /agenda domani o /agenda 24/12."))
    return say(agenda_text(turn.session, setup, day, turn.settings.zone))


def agenda_text(session: Session, setup: BookingSetup, day: date, zone: ZoneInfo) -> Rich:
    calls = booking_store.day_calls(session, day, zone)
    title = bold(_("Agenda di {day}").format(day=format_day(day)))
    if not calls:
        return join([title, _("Nessuna chiamata.")])
    lines: list[Rich | str] = [title]
    for operator in sorted({c.operator_id for c in calls}):
        lines.append(bold(operator_name(session, setup, operator)))
        lines += [_agenda_line(session, setup, c) for c in calls if c.operator_id == operator]
    return join(lines)


def _agenda_line(session: Session, setup: BookingSetup, booking: Booking) -> str:
    user = session.get(User, booking.user_id)
    topic = setup.topic(booking.topic)
    mark = {booking_store.DONE: " ✅", booking_store.NO_ANSWER: " 📵"}.get(booking.status, "")
    parts = [
        f"{format_time(booking.starts_at)} {'📞' if booking.mode == 'phone' else '🎥'}",
        (user.name if user else "") or "—",
        readable_phone(booking.phone) if booking.phone else "—",
        topic.label.get(current_locale()) if topic else booking.topic,
    ]
    line = " · ".join(parts) + mark
    return line + (f" — {booking.note}" if booking.note else "")


def queue_agendas(session: Session, settings: Settings, setup: BookingSetup, now: datetime) -> int:
    """Each operator's calls of the day, once, from the morning's agenda time."""
    zone = settings.zone
    local = now.astimezone(zone)
    if local.time() < setup.agenda_time:
        return 0
    calls = booking_store.day_calls(session, local.date(), zone)
    queued = 0
    for operator in sorted({c.operator_id for c in calls if c.status == booking_store.CONFIRMED}):
        address = Address("telegram", str(operator))
        with use_locale(staff_locale(session, settings, address), zone):
            agenda = Reply(agenda_text(session, setup, local.date(), zone))
        key = f"agenda:{operator}:{local.date().isoformat()}"
        queued += outbox.enqueue(session, Delivery(address, agenda, key), now)
    return queued


class MorningAgenda:
    """The periodic job that queues each operator's agenda once a day."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        setup: BookingSetup,
        clock: Callable[[], datetime],
    ) -> None:
        self.database, self.settings, self.setup, self.clock = database, settings, setup, clock

    async def run(self) -> int:
        return await asyncio.to_thread(self._queue)

    def _queue(self) -> int:
        with self.database.transaction() as session:
            return queue_agendas(session, self.settings, self.setup, self.clock())
