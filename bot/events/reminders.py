"""Reminders of an event: planned when it is announced or someone says "Ci sarò", and written
at send time, so they show the event as it is then."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import reminders
from bot.delivery.reminders import Due
from bot.events.announcement import announcement, signed
from bot.events.config import EventsConfig
from bot.events.logic import NO, Seat, feedback_time, reminder_times, targets
from bot.events.store import ANNOUNCED, event_ref, seat_of
from bot.events.subscriptions import subscription
from bot.storage.models import Event, Rsvp
from bot.values.i18n import _, ngettext
from bot.values.markup import bold
from bot.values.messages import Outbound, Reply

REMIND_TARGETED, REMIND_YES, FEEDBACK = "event_targeted", "event_yes", "event_feedback"
FEEDBACK_OPEN = timedelta(days=7)


def announced_event(due: Due) -> Event | None:
    """The announced event a reminder refers to ("event:12" or "event:12:u7")."""
    parts = due.reminder.ref.split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    event = due.session.get(Event, int(parts[1]))
    return event if event is not None and event.status == ANNOUNCED else None


class EventReminders:
    def __init__(self, config: EventsConfig) -> None:
        self.config = config

    # Planning --------------------------------------------------------------------------

    def schedule_targeted(
        self, session: Session, event: Event, user_id: int, now: datetime
    ) -> None:
        """The reminders for everyone the announcement reached (at most once per edition)."""
        chosen = [r.id for r in self.config.reminders if r.to == "targeted"]
        for rule, due in reminder_times(event.starts_at, self.config.reminders, chosen, now):
            if rule.id in event.reminders:
                reminders.schedule(
                    session,
                    key=f"event:{event.id}:e{event.edition}:{rule.id}:{user_id}",
                    kind=REMIND_TARGETED,
                    ref=event_ref(event.id),
                    user_id=user_id,
                    due_at=due,
                    expires_at=event.starts_at,
                )

    def schedule_yes(
        self, session: Session, event: Event, user_id: int, now: datetime, settings: Settings
    ) -> None:
        """The reminders of one "Ci sarò", and the feedback question the day after."""
        token = uuid.uuid4().hex[:8]  # a yes can be withdrawn and given again
        chosen = [r.id for r in self.config.reminders if r.to == "yes" and r.id in event.reminders]
        ref = f"{event_ref(event.id)}:u{user_id}"
        for rule, due in reminder_times(event.starts_at, self.config.reminders, chosen, now):
            key = f"event:{event.id}:{rule.id}:{user_id}:{token}"
            reminders.schedule(
                session,
                key=key,
                kind=REMIND_YES,
                ref=ref,
                user_id=user_id,
                due_at=due,
                expires_at=event.starts_at,
            )
        asked = feedback_time(event.starts_at, self.config.feedback, settings.zone)
        reminders.schedule(
            session,
            key=f"event:{event.id}:fb:{user_id}:{token}",
            kind=FEEDBACK,
            ref=ref,
            user_id=user_id,
            due_at=asked,
            expires_at=asked + FEEDBACK_OPEN,
        )

    # Writing, at send time -------------------------------------------------------------

    def render_targeted(self, due: Due) -> Outbound | None:
        """7 and 1 day before: only to subscribers the (possibly edited) event still targets."""
        event = announced_event(due)
        found = subscription(due.session, due.user.id)
        if event is None or found is None or event.starts_at <= due.now:
            return None
        if not targets(event.territories, event.interests, found.territories, found.interests):
            return None
        seat = seat_of(due.session, event.id, due.user.id)
        if seat is not None and seat.answer == NO:
            return None
        return self._reminder(event, due, seat)

    def render_yes(self, due: Due) -> Outbound | None:
        event = announced_event(due)
        seat = seat_of(due.session, event.id, due.user.id) if event else None
        if event is None or seat is None or not Seat(seat.answer, seat.waiting).holds_place:
            return None
        return self._reminder(event, due, seat)

    def _reminder(self, event: Event, due: Due, seat: Rsvp | None) -> Reply:
        left = event.starts_at - due.now
        if left >= timedelta(hours=36):
            days = round(left / timedelta(days=1))
            soon = ngettext("tra {n} giorno", "tra {n} giorni", days).format(n=days)
        elif left >= timedelta(hours=12):
            soon = _("domani")
        else:
            hours = max(1, round(left / timedelta(hours=1)))
            soon = ngettext("tra {n} ora", "tra {n} ore", hours).format(n=hours)
        header = bold(_("⏰ Promemoria: l'evento è {when}.").format(when=soon))
        return announcement(event, self.config, signed(due.signer), seat, header)
