"""Who comes: "Ci sarò" / "Forse" / "No", and the waiting list for the places that free up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.basics import privacy
from bot.config import Settings
from bot.core.turn import Stale, Turn
from bot.events.announcement import CODES, announcement, calendar_file, choice_line, signed
from bot.events.config import EventsConfig
from bot.events.logic import YES, Seat, choose, free_places
from bot.events.reminders import EventReminders
from bot.events.store import (
    CANCELLED,
    address_of,
    cancel_event_reminders,
    holds_place,
    open_event,
    places_taken,
    seat_of,
)
from bot.events.subscriptions import unsubscribe
from bot.storage.models import Event, Rsvp, User
from bot.values.i18n import _, use_locale
from bot.values.markup import bold
from bot.values.messages import Answer, Delivery, Outbound, say
from bot.values.payload import Signer


class Attendance:
    def __init__(self, config: EventsConfig, reminders: EventReminders) -> None:
        self.config = config
        self.reminders = reminders

    def on_rsvp(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = open_event(turn, args)
        answer = CODES.get(args[1] if len(args) > 1 else "")
        if answer is None:
            raise Stale
        if event.status == CANCELLED or event.starts_at <= turn.now:
            closed = (
                _("Questo evento è stato annullato.")
                if event.status == CANCELLED
                else _("Questo evento è già iniziato: non si può più rispondere.")
            )
            return say(closed)
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "ev_list")
        return self._answer(turn, event, answer)

    def _answer(self, turn: Turn, event: Event, answer: str) -> Answer:
        seat = seat_of(turn.session, event.id, turn.user.id)
        before = Seat(seat.answer, seat.waiting) if seat else None
        taken = places_taken(turn.session, event.id, but=turn.user.id)
        after = choose(before, answer, event.capacity, taken)
        if seat is None:
            seat = Rsvp(event_id=event.id, user_id=turn.user.id, answered_at=turn.now)
            turn.session.add(seat)
        if after != before:
            seat.answer, seat.waiting, seat.answered_at = after.answer, after.waiting, turn.now
        turn.session.flush()
        extra: list[Outbound] = []
        deliveries: list[Delivery] = []
        held_before = before is not None and before.holds_place
        if after.holds_place and not held_before:
            self.reminders.schedule_yes(turn.session, event, turn.user.id, turn.now, turn.settings)
            extra.append(calendar_file(event, self.config, turn.now, turn.settings.uid_domain))
        if held_before and not after.holds_place:
            cancel_event_reminders(turn.session, event.id, turn.user.id)
            deliveries += self.promote(turn.session, event, turn.now, turn.signer, turn.settings)
        places = places_taken(turn.session, event.id)  # after this answer
        reply = announcement(
            event, self.config, signed(turn.signer), seat, replace=True, taken=places
        )
        notice = choice_line(seat)
        return Answer((reply, *extra), tuple(deliveries), notice)

    def promote(
        self, session: Session, event: Event, now: datetime, signer: Signer, settings: Settings
    ) -> list[Delivery]:
        """Gives freed places to the waiting list, in order, and tells each one."""
        waiting = session.scalars(
            select(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.answer == YES, Rsvp.waiting.is_(True))
            .order_by(Rsvp.answered_at, Rsvp.id)
        ).all()
        room = free_places(event.capacity, places_taken(session, event.id), len(waiting))
        deliveries = []
        for seat in waiting[:room]:
            seat.waiting = False
            user = session.get(User, seat.user_id)
            if user is None:
                continue
            self.reminders.schedule_yes(session, event, user.id, now, settings)
            with use_locale(user.locale, settings.zone):
                header = bold(_("🎉 Si è liberato un posto: ci sei!"))
                reply = announcement(event, self.config, signed(signer), seat, header)
                ics_file = calendar_file(event, self.config, now, settings.uid_domain)
            for message in (reply, ics_file):
                deliveries.append(Delivery(address_of(user), message))
        return deliveries

    def forget(self, turn: Turn) -> Answer:
        """Before consent is withdrawn or data erased: nothing more goes out to this person,
        and the places they held at upcoming events go to the waiting list."""
        unsubscribe(turn.session, turn.user.id)
        held = turn.session.scalars(
            select(Rsvp)
            .join(Event, Event.id == Rsvp.event_id)
            .where(
                Rsvp.user_id == turn.user.id,
                holds_place(),
                Event.status != CANCELLED,
                Event.starts_at > turn.now,
            )
        ).all()
        deliveries: list[Delivery] = []
        for seat in held:
            event = turn.session.get_one(Event, seat.event_id)
            cancel_event_reminders(turn.session, event.id, turn.user.id)
            turn.session.delete(seat)
            turn.session.flush()
            deliveries += self.promote(turn.session, event, turn.now, turn.signer, turn.settings)
        return Answer(deliveries=tuple(deliveries))
