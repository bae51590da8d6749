"""A user's booking in the chat: its description, with buttons to move or cancel it."""

from __future__ import annotations

from bot.booking.calendar import describe
from bot.booking.setup import BookingSetup
from bot.storage.models import Booking
from bot.values.i18n import _
from bot.values.messages import Answer, Button, Keyboard, Outbound, Reply, rows
from bot.values.payload import Signer


def move_or_cancel(signer: Signer, booking: Booking) -> Keyboard:
    """Signed here, not by a turn: reminders carry these buttons too."""
    return rows(
        Button(_("🕑 Sposta"), signer.pack("bk_move", booking.id)),
        Button(_("✖️ Annulla la richiamata"), signer.pack("bk_cancel", booking.id)),
        per_row=2,
    )


def cards(signer: Signer, setup: BookingSetup, booked: list[Booking]) -> Answer:
    """One card per booking, each with its own buttons."""
    replies: list[Outbound] = [Reply(describe(b, setup), move_or_cancel(signer, b)) for b in booked]
    return Answer(tuple(replies))
