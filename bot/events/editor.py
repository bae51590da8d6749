"""Staff edit an event one field at a time, see it corrected, then save and send the correction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import replies
from bot.core.turn import Stale, Turn
from bot.events.announcement import announcement, preview_button
from bot.events.attendance import Attendance
from bot.events.config import EventsConfig
from bot.events.correction import Correction
from bot.events.logic import Invalid, parse_capacity, parse_place, parse_when
from bot.events.questions import FLOW, private_chat_please
from bot.events.store import ANNOUNCED, CANCELLED, staff_event
from bot.storage.models import Event
from bot.values.i18n import N_, _, ngettext
from bot.values.markup import Rich
from bot.values.messages import Answer, Delivery, Reply, rows, say, typed

FIELDS = {
    "title": N_("Titolo"),
    "description": N_("Descrizione"),
    "when": N_("Data e ora"),
    "place": N_("Luogo o collegamento"),
    "capacity": N_("Posti"),
}


@dataclass(frozen=True)
class Problem:
    """A value staff typed that cannot be used, and what to tell them."""

    text: str


class Editor:
    def __init__(
        self, config: EventsConfig, correction: Correction, attendance: Attendance
    ) -> None:
        self.config = config
        self.correction = correction
        self.attendance = attendance

    def ask_field(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = staff_event(turn, args)
        if event.status == CANCELLED or event.starts_at <= turn.now:
            raise Stale
        buttons = [
            turn.button(_(label), "es_field", event.id, name) for name, label in FIELDS.items()
        ]
        return say(_("Cosa vuoi cambiare?"), buttons=rows(*buttons, per_row=2))

    def on_field(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = staff_event(turn, args)
        field = args[1] if len(args) > 1 else ""
        if field not in FIELDS or event.status == CANCELLED:
            raise Stale
        if turn.inbound.in_group:
            return private_chat_please()
        turn.start_flow(FLOW, "edit", {"kind": "edit", "event": event.id, "field": field})
        prompts = {
            "title": _("Scrivi il nuovo titolo."),
            "description": _("Scrivi la nuova descrizione."),
            "when": _("Scrivi la nuova data e ora, per esempio 12/3/2027 18:30."),
            "place": _("Scrivi il nuovo luogo o collegamento (https://...)."),
            "capacity": _("Scrivi il nuovo numero di posti (0 per nessun limite)."),
        }
        return typed(say(prompts[field], buttons=rows(turn.button(_("✖️ Annulla"), "es_quit"))))

    def on_text(self, turn: Turn) -> Answer:
        """The new value: shows the event corrected, to save or leave."""
        data = turn.conversation.data
        event = turn.session.get(Event, int(data.get("event", 0)))
        if event is None or event.status == CANCELLED:
            turn.end_flow()
            return replies.stale_button(turn)
        value = parse_value(turn, data.get("field", ""), turn.inbound.text.strip())
        if isinstance(value, Problem):
            return say(value.text, buttons=rows(turn.button(_("✖️ Annulla"), "es_quit")))
        turn.remember(value=value)
        turn.conversation.step = "edit_review"
        changed = edited(event, data["field"], value)
        preview = announcement(changed, self.config, preview_button(turn))
        note = _("Ecco l'evento corretto. Chi ha già ricevuto l'annuncio riceverà la correzione.")
        keyboard = rows(
            turn.button(_("✅ Salva e invia la correzione"), "es_apply", event.id),
            turn.button(_("✖️ Annulla"), "es_quit"),
        )
        return Answer((preview, Reply(Rich() + note, keyboard)))

    def apply(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = staff_event(turn, args, lock=True)
        data = turn.conversation.data
        if turn.conversation.step != "edit_review" or data.get("event") != event.id:
            raise Stale
        if event.status == CANCELLED:
            raise Stale
        turn.end_flow()
        change(event, data["field"], data.get("value"))
        event.edition, event.updated_at = event.edition + 1, turn.now
        deliveries: list[Delivery] = []
        if event.status == ANNOUNCED:
            corrected = self.correction.send(
                turn.session, event, data["field"], turn.now, turn.signer, turn.settings
            )
            deliveries = self.attendance.promote(
                turn.session, event, turn.now, turn.signer, turn.settings
            )
            done = ngettext(
                "Salvato: la correzione va a {n} persona.",
                "Salvato: la correzione va a {n} persone.",
                corrected,
            ).format(n=corrected)
        else:
            done = _("Salvato: l'annuncio partirà già corretto.")
        answer = say(done, buttons=rows(turn.button(_("📊 Apri l'evento"), "es_view", event.id)))
        return dataclasses.replace(answer, deliveries=tuple(deliveries))


def parse_value(turn: Turn, field: str, typed: str) -> Any:
    """The new value as stored in the flow, or a `Problem` to show."""
    if not typed:
        return Problem(_("Mi serve un testo scritto."))
    if field == "when":
        moment = parse_when(typed, turn.now, turn.settings.zone)
        if isinstance(moment, Invalid):
            return Problem(
                _("Non riesco a leggere la data, o è già passata: per esempio 12/3/2027 18:30.")
            )
        return moment.isoformat()
    if field == "capacity":
        capacity = None if typed == "0" else parse_capacity(typed)
        if isinstance(capacity, Invalid):
            return Problem(_("Mi serve un numero intero, per esempio 40."))
        return capacity
    if field == "place":
        return list(parse_place(typed))
    return typed[: 200 if field == "title" else 2000]


def edited(event: Event, field: str, value: Any) -> Event:
    """A copy of the event with the change, for the preview; the event itself stays as it is."""
    changed = Event(**{c.key: getattr(event, c.key) for c in Event.__table__.columns})
    change(changed, field, value)
    return changed


def change(event: Event, field: str, value: Any) -> None:
    if field == "when":
        event.starts_at = datetime.fromisoformat(value)
    elif field == "place":
        event.place, event.link = value[0][:300], value[1]
    else:
        setattr(event, field, value)
