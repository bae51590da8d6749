"""Staff cancel an event: nothing more goes out about it, and those coming are told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core.turn import Stale, Turn
from bot.delivery import outbox
from bot.events.announcement import calendar_file, when
from bot.events.config import EventsConfig
from bot.events.logic import YES
from bot.events.store import ANNOUNCED, CANCELLED, address_of, cancel_event_reminders, staff_event
from bot.storage.models import Event, OutboxMessage, Rsvp, User
from bot.values.i18n import _, ngettext, use_locale
from bot.values.markup import bold, join
from bot.values.messages import Answer, Delivery, Reply, rows, say


class Cancellation:
    def __init__(self, config: EventsConfig) -> None:
        self.config = config

    def ask(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """Asks staff to confirm: the people coming will be told."""
        event = staff_event(turn, args)
        if event.status == CANCELLED:
            raise Stale
        return say(
            _(
                "Vuoi davvero annullare «{title}»? Chi ha risposto «Ci sarò» riceverà un avviso."
            ).format(title=event.title),
            buttons=rows(
                turn.button(_("Sì, annulla l'evento"), "es_cancel_yes", event.id),
                turn.button(_("No"), "es_view", event.id),
            ),
        )

    def cancel(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = staff_event(turn, args, lock=True)
        if event.status == CANCELLED:
            raise Stale
        was_announced = event.status == ANNOUNCED
        event.status, event.updated_at, event.reported_at = CANCELLED, turn.now, turn.now
        event.edition += 1  # the cancelling calendar file replaces the one sent before
        cancel_event_reminders(turn.session, event.id)
        drop_queued(turn.session, event.id)
        told = (
            self._tell_cancelled(turn.session, event, turn.now, turn.settings)
            if was_announced
            else 0
        )
        done = told_line(told)
        return say(
            join([_("Evento annullato."), done]),
            buttons=rows(turn.button(_("⬅️ Tutti gli eventi"), "es_list")),
        )

    def _tell_cancelled(
        self, session: Session, event: Event, now: datetime, settings: Settings
    ) -> int:
        seats = session.execute(
            select(Rsvp, User)
            .join(User, User.id == Rsvp.user_id)
            .where(Rsvp.event_id == event.id, Rsvp.answer == YES)
        ).all()
        for seat, user in seats:
            with use_locale(user.locale, settings.zone):
                text = join(
                    [
                        bold(_("❌ Evento annullato")),
                        _(
                            "«{title}» di {when} è stato annullato. Ci scusiamo per il disagio."
                        ).format(title=event.title, when=when(event)),
                    ]
                )
                # the waiting list got no calendar file, so it needs no cancelling one
                ics_file = (
                    None
                    if seat.waiting
                    else calendar_file(event, self.config, now, settings.uid_domain)
                )
            key = f"event:{event.id}:cancelled:{user.id}"
            outbox.enqueue(session, Delivery(address_of(user), Reply(text), key), now)
            if ics_file is not None:
                outbox.enqueue(session, Delivery(address_of(user), ics_file, f"{key}:ics"), now)
        return len(seats)


def drop_queued(session: Session, event_id: int) -> None:
    """Deletes the announcements and reminders of the event that have not gone out yet."""
    for row in session.scalars(
        select(OutboxMessage).where(
            or_(
                OutboxMessage.key.like(f"event:{event_id}:%"),
                OutboxMessage.key.like(f"reminder:event:{event_id}:%"),
            ),
            OutboxMessage.state == outbox.QUEUED,
        )
    ):
        session.delete(row)


def told_line(count: int) -> str:
    return ngettext(
        "Ho avvisato {n} persona che aveva risposto «Ci sarò».",
        "Ho avvisato {n} persone che avevano risposto «Ci sarò».",
        count,
    ).format(n=count)
