"""Staff follow their events: /eventi_staff lists them; one event's sending, answers and scores."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import replies
from bot.core.turn import Stale, Turn
from bot.delivery import outbox
from bot.events.announcement import when
from bot.events.store import CANCELLED, SCHEDULED, counts, release, staff_event
from bot.storage.models import Broadcast, Event, Rsvp
from bot.values.i18n import (
    _,
    format_date,
    format_moment,
    format_number,
    format_short_day,
    format_time,
    ngettext,
)
from bot.values.markup import Rich, bold, join, shorten
from bot.values.messages import Answer, rows, say


def sent_line(done: outbox.Progress) -> str:
    """ "Inviati 3 di 5 (non consegnati 1, ...)": a batch's outcome so far."""
    line = ngettext("Inviato {sent} di {total}", "Inviati {sent} di {total}", done.sent).format(
        sent=format_number(done.sent), total=format_number(done.total)
    )
    problems = done.failed + done.blocked + done.uncertain
    if problems:
        line += " " + _(
            "(non consegnati {failed}, bloccati {blocked}, incerti {uncertain})"
        ).format(failed=done.failed, blocked=done.blocked, uncertain=done.uncertain)
    return line


def progress_line(turn: Turn, batch: str) -> str:
    """How far a batch has gone; rows waiting out the quiet hours say when they go."""
    done = outbox.progress(turn.session, batch)
    line = sent_line(done)
    quiet = turn.settings.quiet
    if done.waiting and quiet and quiet.contains(turn.now, turn.settings.zone):
        line += " " + quiet_note(release(turn, turn.now))
    return line


def quiet_note(goes: datetime) -> str:
    """Why announcements wait now, and until when."""
    return _("Sono le ore di quiete: l'invio partirà alle {time}.").format(time=format_time(goes))


def listing(turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
    """/eventi_staff: upcoming events and those of the last 30 days."""
    if not turn.is_staff:
        return replies.staff_only(turn)
    found = turn.session.scalars(
        select(Event)
        .where(Event.starts_at > turn.now - timedelta(days=30))
        .order_by(Event.starts_at)
        .limit(30)
    ).all()
    if not found:
        return say(_("Non ci sono eventi. Creane uno con /nuovo_evento."))
    buttons = [
        turn.button(
            ("❌ " if e.status == CANCELLED else "")
            + format_short_day(e.starts_at)
            + " · "
            + shorten(e.title, 40),
            "es_view",
            e.id,
        )
        for e in found
    ]
    return say(bold(_("Eventi")), buttons=rows(*buttons))


def view(turn: Turn, args: tuple[str, ...]) -> Answer:
    event = staff_event(turn, args)
    tally = counts(turn.session, event.id)
    lines: list[Rich | str] = [bold("📅 " + event.title), "🗓 " + when(event)]
    if event.status == CANCELLED:
        lines.append(_("Stato: annullato"))
    elif event.status == SCHEDULED:
        lines.append(
            _("Stato: l'annuncio partirà {when}").format(when=format_moment(event.announce_at))
        )
    else:
        lines.append(
            _("Annuncio: {progress}").format(progress=progress_line(turn, f"event:{event.id}"))
        )
    places = (
        ngettext("{yes} di {capacity} posto", "{yes} di {capacity} posti", event.capacity).format(
            yes=format_number(tally["yes"]), capacity=format_number(event.capacity)
        )
        if event.capacity
        else str(tally["yes"])
    )
    lines.append(
        _(
            "✅ Ci sarò: {places} · ⏳ In attesa: {waiting} · 🤔 Forse: {maybe} · ❌ No: {no}"
        ).format(places=places, waiting=tally["waiting"], maybe=tally["maybe"], no=tally["no"])
    )
    lines += feedback_lines(turn.session, event)
    buttons = [turn.button(_("🔄 Aggiorna"), "es_view", event.id)]
    if event.status != CANCELLED and event.starts_at > turn.now:
        buttons.append(turn.button(_("✏️ Modifica"), "es_edit", event.id))
    buttons.append(turn.button(_("👥 Partecipanti (CSV)"), "es_csv", event.id))
    if event.status != CANCELLED:
        buttons.append(turn.button(_("❌ Annulla l'evento"), "es_cancel", event.id))
    buttons.append(turn.button(_("⬅️ Tutti gli eventi"), "es_list"))
    return say(join(lines), buttons=rows(*buttons), replace=True)


def feedback_lines(session: Session, event: Event) -> list[Rich | str]:
    """The average score and the latest comments; nothing before the first score."""
    scores = session.execute(
        select(func.count(Rsvp.score), func.avg(Rsvp.score)).where(
            Rsvp.event_id == event.id, Rsvp.score.is_not(None)
        )
    ).one()
    if not scores[0]:
        return []
    average = format_number(round(float(scores[1]), 1))
    lines: list[Rich | str] = [
        ngettext(
            "⭐ Gradimento: {average} su 5 ({count} voto)",
            "⭐ Gradimento: {average} su 5 ({count} voti)",
            scores[0],
        ).format(average=average, count=format_number(scores[0]))
    ]
    comments = session.scalars(
        select(Rsvp.comment)
        .where(Rsvp.event_id == event.id, Rsvp.comment.is_not(None))
        .order_by(Rsvp.feedback_at.desc())
        .limit(10)
    ).all()
    lines += [f"💬 {comment}" for comment in comments]
    return lines


def broadcast_view(turn: Turn, args: tuple[str, ...]) -> Answer:
    """How far a /broadcast has gone."""
    if not turn.is_staff or not args or not args[0].isdigit():
        raise Stale
    broadcast = turn.session.get(Broadcast, int(args[0]))
    if broadcast is None:
        raise Stale
    line = _("📣 Messaggio del {day}: {progress}").format(
        day=format_date(broadcast.created_at),
        progress=progress_line(turn, f"broadcast:{broadcast.id}"),
    )
    return say(
        line,
        buttons=rows(turn.button(_("🔄 Aggiorna"), "es_bview", broadcast.id)),
        replace=True,
    )
