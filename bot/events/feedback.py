"""After an event, those who had a place are asked for a score, then an optional comment."""

from __future__ import annotations

from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.delivery.reminders import Due
from bot.events.announcement import signed
from bot.events.logic import Seat
from bot.events.reminders import announced_event
from bot.events.store import open_event, seat_of
from bot.values.i18n import _
from bot.values.markup import Rich
from bot.values.messages import Answer, Outbound, Reply, rows, say

FLOW = "events"  # the subscriber's feature; the comment is its only flow


def render_question(due: Due) -> Outbound | None:
    """The score from 1 to 5, the day after; once, and only to those who had a place."""
    event = announced_event(due)
    seat = seat_of(due.session, event.id, due.user.id) if event else None
    if event is None or seat is None:
        return None
    if not Seat(seat.answer, seat.waiting).holds_place or seat.score is not None:
        return None
    button = signed(due.signer)
    scores = tuple(button(str(n), "ev_fb", event.id, str(n)) for n in range(1, 6))
    question = _(
        "Com'è andato «{title}»? Dai un voto da 1 (per niente utile) a 5 (molto utile)."
    ).format(title=event.title)
    return Reply(Rich() + question, (scores,))


def on_score(turn: Turn, args: tuple[str, ...]) -> Answer:
    event = open_event(turn, args)
    score = args[1] if len(args) > 1 else ""
    seat = seat_of(turn.session, event.id, turn.user.id)
    if score not in {"1", "2", "3", "4", "5"} or seat is None or event.starts_at > turn.now:
        raise Stale
    seat.score, seat.feedback_at = int(score), turn.now
    turn.start_flow(FLOW, f"comment:{event.id}")
    return say(
        _("Grazie per il voto! Vuoi aggiungere un commento? Scrivilo qui sotto."),
        buttons=rows(turn.button(_("No, grazie"), "ev_fbno")),
        replace=True,
    )


def on_no_comment(turn: Turn, _args: tuple[str, ...]) -> Answer:
    turn.end_flow()
    return menu.show(turn, _("Grazie, alla prossima!"), replace=True)


def on_comment(turn: Turn) -> Answer:
    """The optional comment after the score."""
    step = turn.conversation.step or ""
    event_id = step.removeprefix("comment:")
    seat = seat_of(turn.session, int(event_id), turn.user.id) if event_id.isdigit() else None
    turn.end_flow()
    typed = turn.inbound.text.strip()
    if seat is None or not typed:
        return menu.show(turn)
    seat.comment, seat.feedback_at = typed[:1000], turn.now
    return menu.show(turn, _("Grazie, il tuo commento è arrivato allo staff."))
