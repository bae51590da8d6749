"""An announced event has changed: everyone it reached learns of it, and plans follow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import codec, outbox
from bot.events.announcement import announcement, calendar_file, signed
from bot.events.config import EventsConfig
from bot.events.reminders import EventReminders
from bot.events.store import address_of, cancel_event_reminders, holds_place, seat_of
from bot.storage.models import Event, OutboxMessage, Rsvp, User
from bot.values.i18n import _, use_locale
from bot.values.markup import bold
from bot.values.messages import Delivery
from bot.values.payload import Signer

REACHED = (outbox.SENT, outbox.SENDING, outbox.UNCERTAIN)


def announcements_of(session: Session, event_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.key.like(f"event:{event_id}:announce:%"))
        )
    )


class Correction:
    def __init__(self, config: EventsConfig, reminders: EventReminders) -> None:
        self.config = config
        self.reminders = reminders

    def send(
        self,
        session: Session,
        event: Event,
        field: str,
        now: datetime,
        signer: Signer,
        settings: Settings,
    ) -> int:
        """Spreads a change to `field`; returns how many people get a correction."""
        corrected = self._correct(session, event, now, signer, settings)
        if field == "when":
            self._replan(session, event, now, settings)
        if field != "capacity":
            self._update_calendars(session, event, now, settings)
        return corrected

    def _correct(
        self, session: Session, event: Event, now: datetime, signer: Signer, settings: Settings
    ) -> int:
        """Queued announcements are rewritten; those already out get a correction, as do
        those who answered from /eventi without an announcement of their own."""
        corrected = 0
        reached: set[int] = set()
        for row in announcements_of(session, event.id):
            user = session.get(User, row.user_id) if row.user_id else None
            if user is None or row.state not in (outbox.QUEUED, *REACHED):
                continue
            reached.add(user.id)
            if row.state == outbox.QUEUED:
                seat = seat_of(session, event.id, user.id)
                with use_locale(user.locale, settings.zone):
                    fresh = announcement(event, self.config, signed(signer), seat)
                row.body = codec.encode(fresh)
                continue
            corrected += self._send_correction(session, event, user, now, signer, settings)
        answered = session.scalars(
            select(User).join(Rsvp, Rsvp.user_id == User.id).where(Rsvp.event_id == event.id)
        ).all()
        for user in answered:
            if user.id not in reached:
                corrected += self._send_correction(session, event, user, now, signer, settings)
        return corrected

    def _send_correction(
        self,
        session: Session,
        event: Event,
        user: User,
        now: datetime,
        signer: Signer,
        settings: Settings,
    ) -> bool:
        seat = seat_of(session, event.id, user.id)
        with use_locale(user.locale, settings.zone):
            header = bold(_("✏️ Correzione: l'evento è cambiato, ecco i dettagli aggiornati."))
            message = announcement(event, self.config, signed(signer), seat, header)
        delivery = Delivery(
            address_of(user),
            message,
            f"event:{event.id}:e{event.edition}:{user.id}",
            kind="announcement",
            batch=f"event:{event.id}:e{event.edition}",
        )
        return outbox.enqueue(session, delivery, now)

    def _replan(self, session: Session, event: Event, now: datetime, settings: Settings) -> None:
        """A new date: every pending reminder is cancelled and planned again."""
        cancel_event_reminders(session, event.id)
        for row in announcements_of(session, event.id):
            if row.user_id is not None and row.state in (outbox.QUEUED, *REACHED):
                self.reminders.schedule_targeted(session, event, row.user_id, now)
        holders = session.scalars(
            select(Rsvp.user_id).where(Rsvp.event_id == event.id, holds_place())
        ).all()
        for user_id in holders:
            self.reminders.schedule_yes(session, event, user_id, now, settings)

    def _update_calendars(
        self, session: Session, event: Event, now: datetime, settings: Settings
    ) -> None:
        """Those with a place got a calendar file: the corrected one replaces it."""
        holders = session.scalars(
            select(User)
            .join(Rsvp, Rsvp.user_id == User.id)
            .where(Rsvp.event_id == event.id, holds_place())
        ).all()
        for user in holders:
            with use_locale(user.locale, settings.zone):
                ics_file = calendar_file(event, self.config, now, settings.uid_domain, update=True)
            key = f"event:{event.id}:e{event.edition}:ics:{user.id}"
            # as the correction (it waits out quiet hours as that does), and after it
            delivery = Delivery(address_of(user), ics_file, key, kind="announcement")
            outbox.enqueue(session, delivery, now)
