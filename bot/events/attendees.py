"""The attendee list of an event, for staff, as a spreadsheet file."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.basics import privacy
from bot.core.turn import Turn
from bot.events.store import staff_event
from bot.storage.models import Rsvp, User
from bot.values.i18n import _
from bot.values.markup import Rich
from bot.values.messages import Answer, Document


def export(turn: Turn, args: tuple[str, ...]) -> Answer:
    """The attendee list as CSV: names only of people whose consent is current."""
    event = staff_event(turn, args)
    found = turn.session.execute(
        select(Rsvp, User)
        .join(User, User.id == Rsvp.user_id)
        .where(Rsvp.event_id == event.id)
        .order_by(Rsvp.answer, Rsvp.answered_at)
    ).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["nome", "risposta", "lista_attesa", "risposto_il", "voto", "commento"])
    for seat, user in found:
        consented = privacy.current_consent(turn.session, user.id) is not None
        writer.writerow(
            [
                user.name if consented else "",
                seat.answer,
                "si" if seat.waiting else "",
                seat.answered_at.astimezone(turn.settings.zone).strftime("%Y-%m-%d %H:%M"),
                seat.score or "",
                seat.comment or "",
            ]
        )
    caption = Rich() + _("Risposte a «{title}»: {count}.").format(
        title=event.title, count=len(found)
    )
    content = buffer.getvalue().encode("utf-8-sig")
    return Answer((Document(f"evento-{event.id}-partecipanti.csv", content, "text/csv", caption),))
