"""A booking as the user reads it, in the chat and in their calendar."""

from __future__ import annotations

from datetime import datetime

from bot.booking.phone import readable_phone
from bot.booking.setup import BookingSetup
from bot.storage.models import Booking
from bot.values.i18n import _, current_locale, format_moment
from bot.values.ics import MIME_TYPE, Event, calendar_of
from bot.values.markup import Rich, bold, join, to_plain
from bot.values.messages import Document


def describe(booking: Booking, setup: BookingSetup) -> Rich:
    """A booking as the user reads it: when, how, about what, which number."""
    topic = setup.topic(booking.topic)
    how = _("📞 Telefonata") if booking.mode == "phone" else _("🎥 Videochiamata")
    lines: list[Rich | str] = [
        bold(f"{how} · {format_moment(booking.starts_at)}"),
        _("Argomento: {topic}").format(topic=topic.label.get(current_locale()) if topic else "—"),
        _("Numero: {phone}").format(phone=readable_phone(booking.phone) if booking.phone else "—"),
    ]
    if booking.mode == "video":
        link = setup.video_link_of(booking.operator_id, booking.room)
        lines.append(_("Link della videochiamata: {link}").format(link=link))
    if booking.note:
        lines.append(_("Nota: {note}").format(note=booking.note))
    return join(lines)


def calendar_entry(booking: Booking, setup: BookingSetup, cancelled: bool = False) -> Event:
    video = booking.mode == "video"
    link = setup.video_link_of(booking.operator_id, booking.room) if video else None
    return Event(
        uid=f"booking-{booking.id}",
        start=booking.starts_at,
        end=booking.ends_at,
        summary=_("Richiamata della Società Mutua Piemonte"),
        description=to_plain(describe(booking, setup)),
        location=link or "",
        sequence=1 if cancelled else 0,  # the cancelled copy replaces the one sent at booking
        cancelled=cancelled,
    )


def ics_for(
    booking: Booking,
    setup: BookingSetup,
    now: datetime,
    domain: str,
    *,
    cancelled: bool = False,
    replaces: Booking | None = None,
) -> Document:
    """The call as a calendar file for the user's own calendar. A cancelled call, and the one
    a moved call replaces, come marked cancelled under their own UID: the calendar drops them."""
    events = [calendar_entry(replaces, setup, cancelled=True)] if replaces is not None else []
    events.append(calendar_entry(booking, setup, cancelled))
    return Document(_("richiamata.ics"), calendar_of(events, now, domain), MIME_TYPE)
