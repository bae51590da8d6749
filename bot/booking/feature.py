"""Callback booking, assembled: the user's booking flow and bookings, and staff's side."""

from __future__ import annotations

from bot.booking.absences import N_ABSENCE, Absences
from bot.booking.agenda import N_AGENDA, show_agenda
from bot.booking.bookings import UserBookings
from bot.booking.details import BookingDetails
from bot.booking.flow import FLOW, BookingFlow
from bot.booking.setup import BookingSetup
from bot.booking.staff import StaffCards, staff_only
from bot.core.turn import ButtonHandler, Command, Feature


def feature(setup: BookingSetup) -> Feature:
    flow = BookingFlow(setup)
    details = BookingDetails(setup, flow)
    bookings = UserBookings(setup, flow)
    absences = Absences(setup)
    return Feature(
        name=FLOW,
        commands={
            "agenda": Command(
                lambda turn: show_agenda(turn, setup), staff=True, description=N_AGENDA
            ),
            "assenza": Command(absences.absence, staff=True, description=N_ABSENCE),
            "richiamata": Command(lambda turn: flow.open(turn)),
            "prenotazioni": Command(bookings.list_bookings),
        },
        buttons={
            "callback": flow.open,
            "my_bookings": lambda turn, _args: bookings.list_bookings(turn),
            "bk_topic": flow.on_topic,
            "bk_mode": flow.on_mode,
            "bk_day": flow.on_day,
            "bk_days": flow.on_days,
            "bk_time": details.on_time,
            "bk_nonote": details.on_no_note,
            "bk_phone": details.on_known_phone,
            "bk_confirm": details.on_confirm,
            "bk_back": details.on_back,
            "bk_fix": details.on_fix,
            "bk_move": bookings.on_move,
            "bk_cancel": bookings.on_cancel,
            "bk_cancel_yes": bookings.on_cancel_yes,
            "bk_keep": bookings.on_keep,
            "cancel_booking": flow.cancel_flow,
            **staff_buttons(setup, absences),
        },
        flow=details.on_text,
        reminders={"booking_24h": bookings.remind, "booking_1h": bookings.remind},
        forget=bookings.forget,
    )


def staff_buttons(setup: BookingSetup, absences: Absences) -> dict[str, ButtonHandler]:
    cards = StaffCards(setup)
    handlers: dict[str, ButtonHandler] = {
        "bks_take": cards.on_take,
        "bks_done": cards.on_done,
        "bks_noanswer": cards.on_no_answer,
        "bks_cancel": cards.on_cancel,
        "bks_cancel_yes": cards.on_cancel_yes,
        "bks_show": cards.on_show,
        "bka_del": absences.on_delete,
    }
    return {action: staff_only(handler) for action, handler in handlers.items()}
