"""A user's own bookings: /prenotazioni, moving and cancelling, reminders, erasure."""

from __future__ import annotations

from bot.booking import staff as booking_staff
from bot.booking import store as booking_store
from bot.booking.calendar import describe, ics_for
from bot.booking.card import cards, move_or_cancel
from bot.booking.flow import FLOW, BookingFlow
from bot.booking.setup import BookingSetup
from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.delivery.reminders import Due
from bot.storage.models import Booking
from bot.values.i18n import _, format_day, format_moment, format_time
from bot.values.markup import bold, join
from bot.values.messages import Answer, Outbound, Reply, rows, say


class UserBookings:
    def __init__(self, setup: BookingSetup, flow: BookingFlow) -> None:
        self.setup, self.flow = setup, flow

    def list_bookings(self, turn: Turn) -> Answer:
        """/prenotazioni: the user's future calls, each with move and cancel."""
        booked = booking_store.future_bookings(turn.session, turn.user.id, turn.now)
        if not booked:
            return say(
                _("Non hai richiamate in programma."),
                buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            )
        return cards(turn.signer, self.setup, booked)

    # Moving and cancelling ------------------------------------------------------

    def on_move(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """Books again from the day, keeping topic, mode, number and note."""
        booking = self._own(turn, args)
        turn.start_flow(
            FLOW,
            "day",
            {
                "moving": booking.id,
                "topic": booking.topic,
                "mode": booking.mode,
                "phone": booking.phone,
                "note": booking.note,
            },
        )
        intro = _("Spostiamo la richiamata di {moment}.").format(
            moment=format_moment(booking.starts_at)
        )
        return self.flow.ask_day(turn, intro)

    def on_cancel(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._own(turn, args)
        return say(
            _("Vuoi annullare la richiamata di {moment}?").format(
                moment=format_moment(booking.starts_at)
            ),
            buttons=rows(
                turn.button(_("Sì, annulla"), "bk_cancel_yes", booking.id),
                turn.button(_("No, la tengo"), "bk_keep"),
            ),
            replace=True,
        )

    def on_cancel_yes(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._own(turn, args)
        booking_store.close(turn.session, booking, booking_store.CANCELLED, turn.now, "user")
        staff = booking_staff.announce(turn, self.setup, booking, "cancelled")
        answer = say(
            _("Richiamata annullata. Se ti serve, puoi fissarne un'altra quando vuoi."),
            buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            replace=True,
        )
        domain = turn.settings.uid_domain
        calendar = ics_for(booking, self.setup, turn.now, domain, cancelled=True)
        return answer + Answer((calendar,)) + staff

    def on_keep(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        return say(
            _("Bene, la richiamata resta com'è."), buttons=menu.menu_button(turn), replace=True
        )

    def _own(self, turn: Turn, args: tuple[str, ...]) -> Booking:
        booking = booking_store.own_booking(
            turn.session, turn.user.id, args[0] if args else "", turn.now
        )
        if booking is None:
            raise Stale
        return booking

    # Reminders and erasure ------------------------------------------------------

    def remind(self, due: Due) -> Outbound | None:
        """A booking's reminder, or nothing if the booking no longer stands."""
        booking = booking_store.booking_of(due.session, due.reminder.ref)
        if booking is None or booking.status != booking_store.CONFIRMED:
            return None
        if due.reminder.kind == "booking_1h":
            head = _("Tra poco ti chiamiamo: {time}.").format(time=format_time(booking.starts_at))
        else:
            head = _("Promemoria: ti chiamiamo {moment}.").format(
                moment=format_moment(booking.starts_at)
            )
        body = join([bold(head), describe(booking, self.setup)])
        when = (("date", format_day(booking.starts_at)), ("time", format_time(booking.starts_at)))
        return Reply(body, move_or_cancel(due.signer, booking), fields=when)

    def forget(self, turn: Turn) -> Answer:
        """Before erasure: the person's future calls are off, and staff are told."""
        booking_store.release_holds(turn.session, turn.user.id)
        answer = Answer()
        for booking in booking_store.future_bookings(turn.session, turn.user.id, turn.now):
            booking_store.close(turn.session, booking, booking_store.CANCELLED, turn.now, "user")
            answer += booking_staff.announce(turn, self.setup, booking, "erased")
        return answer
