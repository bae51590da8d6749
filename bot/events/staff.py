"""Staff write to subscribers: /nuovo_evento and /broadcast, guided, with a preview first."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from bot.core import replies
from bot.core.turn import Command, Stale, Turn
from bot.events.config import ALL, EventsConfig
from bot.events.desk import SCHEDULED, announcement, preview_button
from bot.events.logic import Invalid, parse_capacity, parse_place, parse_when
from bot.events.manage import EventsManager, draft_event
from bot.events.subscriptions import count_subscribers
from bot.storage.models import Broadcast
from bot.values.i18n import N_, _, current_locale, format_moment, format_number, ngettext
from bot.values.markup import Rich, bold, italic, join
from bot.values.messages import Answer, Button, Kind, Reply, rows, say

FLOW = "events_staff"
EVENT_STEPS = ("title", "description", "when", "place", "interests", "territories", "capacity")
BROADCAST_STEPS = ("text", "interests", "territories")
N_NEW = N_("crea un evento e annuncialo agli iscritti")
N_BROADCAST = N_("manda un messaggio a una parte degli iscritti")
WHEN_PROBLEMS = {
    "format": N_("Non riesco a leggere la data. Scrivila così: 12/3/2027 18:30."),
    "date": N_("Questa data non esiste: controlla giorno e mese."),
    "time": N_("Manca l'ora, o non è valida: per esempio 12/3/2027 18:30."),
    "past": N_("Questo momento è già passato: scrivi una data futura."),
}


def broadcast_message(text: str) -> Rich:
    """A broadcast as subscribers read it."""
    footer = italic(_("Non vuoi più ricevere questi avvisi? /disiscriviti"))
    return join([bold(_("📣 Società Mutua Piemonte")), text, footer])


class StaffEvents:
    def __init__(self, config: EventsConfig, manager: EventsManager) -> None:
        self.config = config
        self.manager = manager

    # Entry -----------------------------------------------------------------------------------

    def new_event(self, turn: Turn) -> Answer:
        """/nuovo_evento: asks the title first."""
        if turn.inbound.in_group:
            return private_chat_please()
        reminders = [rule.id for rule in self.config.reminders]
        draft = {"interests": [], "territories": [], "capacity": None, "reminders": reminders}
        turn.start_flow(FLOW, "title", {"kind": "event", "draft": draft})
        return self.ask(turn)

    def new_broadcast(self, turn: Turn) -> Answer:
        """/broadcast: asks the text first."""
        if turn.inbound.in_group:
            return private_chat_please()
        draft = {"interests": [ALL], "territories": list(self.config.territory_ids())}
        turn.start_flow(FLOW, "text", {"kind": "broadcast", "draft": draft})
        return self.ask(turn)

    @staticmethod
    def draft(turn: Turn) -> dict[str, Any]:
        return dict(turn.conversation.data.get("draft", {}))

    def _save(self, turn: Turn, **values: Any) -> None:
        turn.remember(draft={**self.draft(turn), **values})

    # Asking ----------------------------------------------------------------------------------

    def ask(self, turn: Turn, notice: str = "", replace: bool = False) -> Answer:
        step = turn.conversation.step or ""
        if step in ("interests", "territories"):
            return self._picker(turn, step, notice, replace)
        prompts = {
            "title": _("Nuovo evento. Come si intitola?"),
            "description": _("Scrivi una breve descrizione (cosa, per chi, chi interviene)."),
            "when": _("Quando? Scrivi data e ora, per esempio 12/3/2027 18:30."),
            "place": _(
                "Dove? Scrivi il luogo, oppure il collegamento per partecipare online "
                "(https://...), o entrambi."
            ),
            "capacity": _("Quanti posti ci sono? Scrivi un numero, oppure premi «Nessun limite»."),
            "text": _("Scrivi il messaggio da mandare agli iscritti."),
            "announce_at": _(
                "Quando lo annuncio? Scrivi data e ora (prima dell'evento), per esempio "
                "1/3/2027 9:00."
            ),
        }
        buttons: list[Button] = []
        if step == "description":
            buttons.append(turn.button(_("Salta ⏭"), "es_skip", step))
        if step == "capacity":
            buttons.append(turn.button(_("Nessun limite"), "es_skip", step))
        buttons.append(turn.button(_("✖️ Annulla"), "es_quit"))
        lines = [notice, prompts.get(step, "")] if notice else [prompts.get(step, "")]
        return say(join(lines), buttons=rows(*buttons, per_row=2), replace=replace)

    def _picker(self, turn: Turn, step: str, notice: str, replace: bool) -> Answer:
        draft, locale = self.draft(turn), current_locale()
        choices = self.config.interests if step == "interests" else self.config.territories
        chosen = draft.get(step, [])
        toggles = [
            turn.button(("✅ " if c.id in chosen else "▫️ ") + c.label.get(locale), "es_pick", c.id)
            for c in choices
        ]
        last = [turn.button(_("Avanti ➡️"), "es_next", step), turn.button(_("✖️ Annulla"), "es_quit")]
        if step == "territories":
            last.insert(0, turn.button(_("Tutti i territori"), "es_every"))
        question = (
            _("A chi interessa? Scegli uno o più argomenti, poi «Avanti».")
            if step == "interests"
            else _("Per quali territori? Scegline uno o più, poi «Avanti».")
        )
        lines = [notice, question] if notice else [question]
        keyboard = (*rows(*toggles, per_row=1 if step == "interests" else 2), tuple(last))
        return Answer((Reply(join(lines), keyboard, replace),))

    # Answers -----------------------------------------------------------------------------

    def on_text(self, turn: Turn) -> Answer:
        """Text typed during a staff flow: the answer to the current step."""
        if not turn.is_staff:
            turn.end_flow()
            return replies.staff_only(turn)
        if turn.conversation.data.get("kind") == "edit":
            return self.manager.on_edit_text(turn)
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
            self._save(turn, **{step: typed})
        elif step in ("when", "announce_at"):
            moment = parse_when(typed, turn.now, turn.settings.zone)
            if isinstance(moment, Invalid):
                return self.ask(turn, _(WHEN_PROBLEMS[moment.reason]))
            if step == "announce_at":
                return self._announce_later(turn, moment)
            self._save(turn, when=moment.isoformat())
        elif step == "place":
            place, link = parse_place(typed)
            self._save(turn, place=place[:300], link=link[:500] if link else None)
        elif step == "capacity":
            capacity = parse_capacity(typed)
            if isinstance(capacity, Invalid):
                return self.ask(turn, _("Mi serve un numero intero, per esempio 40."))
            self._save(turn, capacity=capacity)
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

    def _in_step(self, turn: Turn, *steps: str) -> None:
        if not turn.is_staff or turn.conversation.flow != FLOW:
            raise Stale
        if turn.conversation.step not in steps:
            raise Stale

    def on_skip(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        step = args[0] if args else ""
        self._in_step(turn, step)
        if step not in ("description", "capacity"):
            raise Stale
        self._save(turn, **{step: "" if step == "description" else None})
        return self._advance(turn)

    def on_pick(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        self._in_step(turn, "interests", "territories")
        step = turn.conversation.step or ""
        known = self.config.interest_ids() if step == "interests" else self.config.territory_ids()
        choice = args[0] if args else ""
        if choice not in known:
            raise Stale
        flipped = set(self.draft(turn).get(step, [])) ^ {choice}
        self._save(turn, **{step: [c for c in known if c in flipped]})
        return self.ask(turn, replace=True)

    def on_every(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        self._in_step(turn, "territories")
        self._save(turn, territories=list(self.config.territory_ids()))
        return self.ask(turn, replace=True)

    def on_next(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        step = args[0] if args else ""
        self._in_step(turn, step)
        if not self.draft(turn).get(step):
            return Answer(notice=_("Scegline almeno uno."))
        return self._advance(turn, replace=True)

    def on_quit(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if turn.conversation.flow != FLOW:
            raise Stale
        turn.end_flow()
        return say(_("Va bene, ho lasciato perdere: non ho salvato né inviato niente."))

    # Review and confirmation ---------------------------------------------------------------

    def review(self, turn: Turn) -> Answer:
        draft = self.draft(turn)
        recipients = count_subscribers(turn.session, draft["territories"], draft["interests"])
        count = recipients_line(recipients)
        if turn.conversation.data.get("kind") == "broadcast":
            preview = Reply(broadcast_message(draft["text"]))
            keyboard = rows(
                turn.button(_("📣 Invia"), "es_send", "1"),
                turn.button(_("✖️ Annulla"), "es_quit"),
            )
            note = join([bold(_("Anteprima qui sopra.")), count])
            return Answer((preview, Reply(note, keyboard)))
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
            before = _("{n} minuti prima").format(n=rule.before)
        who = _("a tutti") if rule.to == "targeted" else _("a chi ha detto «Ci sarò»")
        return f"{before}, {who}"

    def on_preview(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        return Answer(notice=_("È un'anteprima: i pulsanti funzioneranno nell'annuncio."))

    def on_rule(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        self._in_step(turn, "review")
        rule = self.config.rule(args[0] if args else "")
        if rule is None:
            raise Stale
        chosen = set(self.draft(turn)["reminders"]) ^ {rule.id}
        self._save(turn, reminders=[r.id for r in self.config.reminders if r.id in chosen])
        controls = self.review(turn).replies[-1]
        assert isinstance(controls, Reply)
        return Answer((dataclasses.replace(controls, replace=True),))

    def on_now(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        self._in_step(turn, "review")
        return self._create(turn, turn.now)

    def on_later(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        self._in_step(turn, "review")
        turn.conversation.step = "announce_at"
        return self.ask(turn)

    def _announce_later(self, turn: Turn, moment: datetime) -> Answer:
        if moment >= datetime.fromisoformat(self.draft(turn)["when"]):
            return self.ask(turn, _("L'annuncio deve partire prima dell'evento."))
        return self._create(turn, moment)

    def _create(self, turn: Turn, announce_at: datetime) -> Answer:
        event = draft_event(self.draft(turn))
        event.status, event.announce_at = SCHEDULED, announce_at
        event.created_by = turn.inbound.sender.platform_id or 0
        event.staff_chat = f"{turn.inbound.channel}:{turn.inbound.chat_id}"
        event.created_at = event.updated_at = turn.now
        turn.session.add(event)
        turn.session.flush()
        turn.end_flow()
        if announce_at <= turn.now:
            done = _(
                "✅ Evento creato: l'annuncio parte adesso. Ti scrivo quando l'invio è finito."
            )
        else:
            done = _("✅ Evento creato: l'annuncio partirà {when}.").format(
                when=format_moment(announce_at)
            )
        return say(done, buttons=rows(turn.button(_("📊 Apri l'evento"), "es_view", event.id)))

    def on_send(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """Sends the broadcast; above the threshold, only at the second confirmation."""
        self._in_step(turn, "review")
        draft = self.draft(turn)
        recipients = count_subscribers(turn.session, draft["territories"], draft["interests"])
        if recipients == 0:
            return Answer(notice=_("Nessun iscritto corrisponde: cambia argomenti o territori."))
        if recipients > self.config.broadcast_confirm_above and args[:1] != ("2",):
            return say(
                _("Stai per scrivere a {n} persone. Confermi?").format(n=format_number(recipients)),
                buttons=rows(
                    turn.button(
                        _("Sì, invia a {n} persone").format(n=format_number(recipients)),
                        "es_send",
                        "2",
                    ),
                    turn.button(_("✖️ Annulla"), "es_quit"),
                ),
            )
        broadcast = Broadcast(
            text=draft["text"],
            interests=draft["interests"],
            territories=draft["territories"],
            created_by=turn.inbound.sender.platform_id or 0,
            staff_chat=f"{turn.inbound.channel}:{turn.inbound.chat_id}",
            created_at=turn.now,
        )
        turn.session.add(broadcast)
        turn.session.flush()
        turn.end_flow()
        return say(
            _("📣 Messaggio in invio a {n} iscritti. Ti scrivo quando l'invio è finito.").format(
                n=format_number(recipients)
            ),
            buttons=rows(turn.button(_("📊 Avanzamento"), "es_bview", broadcast.id)),
        )


def private_chat_please() -> Answer:
    """Guided conversations read what staff type, and the desk reads no text in groups."""
    return say(_("Scrivimi in privato: qui nel gruppo non leggo le risposte."))


def recipients_line(count: int) -> str:
    return ngettext("Destinatari: {n} iscritto.", "Destinatari: {n} iscritti.", count).format(
        n=format_number(count)
    )


def commands(staff: StaffEvents) -> dict[str, Command]:
    return {
        "nuovo_evento": Command(staff.new_event, staff=True, description=N_NEW),
        "broadcast": Command(staff.new_broadcast, staff=True, description=N_BROADCAST),
    }


def staff_buttons(staff: StaffEvents) -> dict[str, Any]:
    return {
        "es_skip": staff.on_skip,
        "es_pick": staff.on_pick,
        "es_every": staff.on_every,
        "es_next": staff.on_next,
        "es_quit": staff.on_quit,
        "es_preview": staff.on_preview,
        "es_rule": staff.on_rule,
        "es_now": staff.on_now,
        "es_later": staff.on_later,
        "es_send": staff.on_send,
    }
