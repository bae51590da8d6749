"""/nuovo_evento: staff draft an event step by step, see the announcement, pick its reminders,
and have it announced now or at a time they choose."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from bot.core.turn import Stale, Turn
from bot.events import costs, questions
from bot.events.announcement import announcement, preview_button
from bot.events.config import EventsConfig
from bot.events.store import SCHEDULED, release
from bot.storage.models import Event
from bot.values.i18n import _, format_moment, ngettext
from bot.values.markup import bold, join
from bot.values.messages import Answer, Reply, rows, say

EVENT_STEPS = ("title", "description", "when", "place", "interests", "territories", "capacity")


def draft_event(draft: dict[str, Any]) -> Event:
    """An event not yet saved, from the answers of /nuovo_evento."""
    return Event(
        title=draft.get("title", ""),
        description=draft.get("description", ""),
        starts_at=datetime.fromisoformat(draft["when"]),
        place=draft.get("place", ""),
        link=draft.get("link"),
        interests=list(draft.get("interests", [])),
        territories=list(draft.get("territories", [])),
        capacity=draft.get("capacity"),
        reminders=list(draft.get("reminders", [])),
        status=SCHEDULED,
        edition=1,
        announced_up_to=0,
    )


class Planner:
    def __init__(self, config: EventsConfig) -> None:
        self.config = config

    def new_event(self, turn: Turn) -> Answer:
        """/nuovo_evento: asks the title first."""
        reminders = [rule.id for rule in self.config.reminders]
        draft = {"interests": [], "territories": [], "capacity": None, "reminders": reminders}
        return questions.start(turn, self.config, "event", "title", draft)

    def review(self, turn: Turn) -> Answer:
        """The announcement as subscribers will see it, and the reminders to pick."""
        draft = questions.draft(turn)
        count = questions.recipients_line(questions.recipients(turn))
        territories, interests = draft["territories"], draft["interests"]
        on_whatsapp = costs.preview(turn, "announcement", territories, interests)
        event = draft_event(draft)
        preview = announcement(event, self.config, preview_button(turn))
        toggles = [
            turn.button(
                ("✅ " if rule.id in draft["reminders"] else "▫️ ") + self._rule_label(rule.id),
                "es_rule",
                rule.id,
            )
            for rule in self.config.reminders
        ]
        keyboard = (
            (turn.button(_("📣 Annuncia ora"), "es_now"),),
            (turn.button(_("🕒 Annuncia più tardi"), "es_later"),),
            *rows(*toggles),
            (turn.button(_("✖️ Annulla"), "es_quit"),),
        )
        note = join(
            [
                bold(_("Anteprima: così lo vedranno gli iscritti.")),
                count,
                *filter(None, [on_whatsapp]),
                _("Promemoria (tocca per togliere o rimettere):"),
            ]
        )
        return Answer((preview, Reply(note, keyboard)))

    def _rule_label(self, rule_id: str) -> str:
        rule = self.config.rule(rule_id)
        if rule is None:
            return rule_id
        if rule.before % 1440 == 0:
            days = rule.before // 1440
            before = ngettext("{n} giorno prima", "{n} giorni prima", days).format(n=days)
        elif rule.before % 60 == 0:
            hours = rule.before // 60
            before = ngettext("{n} ora prima", "{n} ore prima", hours).format(n=hours)
        else:
            before = ngettext("{n} minuto prima", "{n} minuti prima", rule.before).format(
                n=rule.before
            )
        who = _("a tutti") if rule.to == "targeted" else _("a chi ha detto «Ci sarò»")
        return f"{before}, {who}"

    def on_rule(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        questions.in_step(turn, "review")
        rule = self.config.rule(args[0] if args else "")
        if rule is None:
            raise Stale
        chosen = set(questions.draft(turn)["reminders"]) ^ {rule.id}
        questions.save(turn, reminders=[r.id for r in self.config.reminders if r.id in chosen])
        controls = self.review(turn).replies[-1]
        assert isinstance(controls, Reply)
        return Answer((dataclasses.replace(controls, replace=True),))

    def on_now(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        questions.in_step(turn, "review")
        return self._create(turn, turn.now)

    def on_later(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        questions.in_step(turn, "review")
        turn.conversation.step = "announce_at"
        return questions.ask(turn, self.config)

    def announce_later(self, turn: Turn, moment: datetime) -> Answer:
        """The answer to "Quando lo annuncio?", already read as a future moment."""
        if moment >= datetime.fromisoformat(questions.draft(turn)["when"]):
            return questions.ask(turn, self.config, _("L'annuncio deve partire prima dell'evento."))
        return self._create(turn, moment)

    def _create(self, turn: Turn, announce_at: datetime) -> Answer:
        event = draft_event(questions.draft(turn))
        event.status, event.announce_at = SCHEDULED, announce_at
        event.created_by = turn.inbound.sender.platform_id or 0
        event.staff_chat = f"{turn.inbound.channel}:{turn.inbound.chat_id}"
        event.created_at = event.updated_at = turn.now
        turn.session.add(event)
        turn.session.flush()
        turn.end_flow()
        goes = release(turn, announce_at)
        if goes <= turn.now:
            done = _(
                "✅ Evento creato: l'annuncio parte adesso. Ti scrivo quando l'invio è finito."
            )
        else:
            done = _("✅ Evento creato: l'annuncio partirà {when}.").format(
                when=format_moment(goes)
            )
            if goes > announce_at:
                done += " " + _("(Prima è nelle ore di quiete, quando gli annunci aspettano.)")
        return say(done, buttons=rows(turn.button(_("📊 Apri l'evento"), "es_view", event.id)))
