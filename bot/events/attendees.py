"""The attendee list of an event, for staff, as a spreadsheet file."""

from __future__ import annotations

from sqlalchemy import select

from bot.basics import privacy
from bot.core.turn import Turn
from bot.events.store import staff_event
from bot.storage.models import Rsvp, User
from bot.values.i18n import _
from bot.values.markup import Rich
from bot.values.messages import Answer, Document
from bot.values.spreadsheet import XLSX_MIME, csv_bytes, xlsx_bytes

HEADER = ["nome", "risposta", "lista_attesa", "risposto_il", "voto", "commento"]


def export(turn: Turn, args: tuple[str, ...]) -> Answer:
    """The attendee list as XLSX and CSV (";" for Italian spreadsheets): names only of people
    whose consent is current; cells a spreadsheet would run as formulas are quoted."""
    event = staff_event(turn, args)
    found = turn.session.execute(
        select(Rsvp, User)
        .join(User, User.id == Rsvp.user_id)
        .where(Rsvp.event_id == event.id)
        .order_by(Rsvp.answer, Rsvp.answered_at)
    ).all()
    rows = [HEADER]
    for seat, user in found:
        consented = privacy.current_consent(turn.session, user.id) is not None
        rows.append(
            [
                user.name if consented else "",
                seat.answer,
                "si" if seat.waiting else "",
                seat.answered_at.astimezone(turn.settings.zone).strftime("%Y-%m-%d %H:%M"),
                str(seat.score or ""),
                seat.comment or "",
            ]
        )
    caption = Rich() + _("Risposte a «{title}»: {count}.").format(
        title=event.title, count=len(found)
    )
    name = f"evento-{event.id}-partecipanti"
    return Answer(
        (
            Document(f"{name}.xlsx", xlsx_bytes(name, rows), XLSX_MIME, caption),
            Document(f"{name}.csv", csv_bytes(rows, delimiter=";"), "text/csv"),
        )
    )
