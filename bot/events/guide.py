"""The staff's guided conversation: one step at a time, by typed text or by buttons, until the
review of /nuovo_evento or /broadcast; text while editing an event goes to the editor."""

from __future__ import annotations

from bot.core import replies
from bot.core.turn import Stale, Turn
from bot.events import questions
from bot.events.broadcaster import BROADCAST_STEPS, Broadcaster
from bot.events.config import EventsConfig
from bot.events.editor import Editor
from bot.events.logic import Invalid, parse_capacity, parse_place, parse_when
from bot.events.planner import EVENT_STEPS, Planner
from bot.values.i18n import N_, _
from bot.values.messages import Answer, Kind, say

WHEN_PROBLEMS = {
    "format": N_("Non riesco a leggere la data. Scrivila così: 12/3/2027 18:30."),
    "date": N_("Questa data non esiste: controlla giorno e mese."),
    "time": N_("Manca l'ora, o non è valida: per esempio 12/3/2027 18:30."),
    "past": N_("Questo momento è già passato: scrivi una data futura."),
}


class Guide:
    def __init__(
        self, config: EventsConfig, planner: Planner, broadcaster: Broadcaster, editor: Editor
    ) -> None:
        self.config = config
        self.planner = planner
        self.broadcaster = broadcaster
        self.editor = editor

    def ask(self, turn: Turn, notice: str = "", replace: bool = False) -> Answer:
        return questions.ask(turn, self.config, notice, replace)

    def review(self, turn: Turn) -> Answer:
        if turn.conversation.data.get("kind") == "broadcast":
            return self.broadcaster.review(turn)
        return self.planner.review(turn)

    # Answers -----------------------------------------------------------------------------

    def on_text(self, turn: Turn) -> Answer:
        """Text typed during a staff flow: the answer to the current step."""
        if not turn.is_staff:
            turn.end_flow()
            return replies.staff_only(turn)
        if turn.conversation.data.get("kind") == "edit":
            return self.editor.on_text(turn)
        typed = turn.inbound.text.strip()
        if turn.inbound.kind is not Kind.TEXT or not typed:
            return self.ask(turn, _("Mi serve un testo scritto."))
        if typed.casefold() in ("annulla", "/annulla", "stop"):
            return self.on_quit(turn, ())
        return self._take(turn, turn.conversation.step or "", typed)

    def _take(self, turn: Turn, step: str, typed: str) -> Answer:
        if step in ("title", "description", "text"):
            limit = {"title": 200, "description": 2000, "text": 3000}[step]
            if len(typed) > limit:
                return self.ask(
                    turn, _("È troppo lungo: al massimo {n} caratteri.").format(n=limit)
                )
            questions.save(turn, **{step: typed})
        elif step in ("when", "announce_at"):
            moment = parse_when(typed, turn.now, turn.settings.zone)
            if isinstance(moment, Invalid):
                return self.ask(turn, _(WHEN_PROBLEMS[moment.reason]))
            if step == "announce_at":
                return self.planner.announce_later(turn, moment)
            questions.save(turn, when=moment.isoformat())
        elif step == "place":
            place, link = parse_place(typed)
            questions.save(turn, place=place[:300], link=link[:500] if link else None)
        elif step == "capacity":
            capacity = parse_capacity(typed)
            if isinstance(capacity, Invalid):
                return self.ask(turn, _("Mi serve un numero intero, per esempio 40."))
            questions.save(turn, capacity=capacity)
        else:  # text at a step that wants a button: show the step again
            return self.review(turn) if step == "review" else self.ask(turn)
        return self._advance(turn)

    def _steps(self, turn: Turn) -> tuple[str, ...]:
        return EVENT_STEPS if turn.conversation.data.get("kind") == "event" else BROADCAST_STEPS

    def _advance(self, turn: Turn, replace: bool = False) -> Answer:
        steps = self._steps(turn)
        step = turn.conversation.step or ""
        following = steps[steps.index(step) + 1 :] if step in steps else ()
        if following:
            turn.conversation.step = following[0]
            return self.ask(turn, replace=replace)
        turn.conversation.step = "review"
        return self.review(turn)

    # Buttons -----------------------------------------------------------------------------

    def on_skip(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        step = args[0] if args else ""
        questions.in_step(turn, step)
        if step not in ("description", "capacity"):
            raise Stale
        questions.save(turn, **{step: "" if step == "description" else None})
        return self._advance(turn)

    def on_pick(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        questions.in_step(turn, "interests", "territories")
        step = turn.conversation.step or ""
        known = self.config.interest_ids() if step == "interests" else self.config.territory_ids()
        choice = args[0] if args else ""
        if choice not in known:
            raise Stale
        flipped = set(questions.draft(turn).get(step, [])) ^ {choice}
        questions.save(turn, **{step: [c for c in known if c in flipped]})
        return self.ask(turn, replace=True)

    def on_every(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        """Ticks every territory, or unticks them all when they all are."""
        questions.in_step(turn, "territories")
        every = list(self.config.territory_ids())
        chosen = questions.draft(turn).get("territories", [])
        questions.save(turn, territories=[] if set(chosen) >= set(every) else every)
        return self.ask(turn, replace=True)

    def on_next(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        step = args[0] if args else ""
        questions.in_step(turn, step)
        if not questions.draft(turn).get(step):
            return Answer(notice=_("Scegline almeno uno."))
        return self._advance(turn, replace=True)

    def on_quit(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if turn.conversation.flow != questions.FLOW:
            raise Stale
        turn.end_flow()
        return say(_("Va bene, ho lasciato perdere: non ho salvato né inviato niente."))
