"""What the staff's guided conversations ask, and the draft their answers fill in."""

from __future__ import annotations

from typing import Any

from bot.core.turn import Stale, Turn
from bot.events.config import EventsConfig
from bot.events.subscriptions import count_subscribers
from bot.values.i18n import _, current_locale, format_number, ngettext
from bot.values.markup import join
from bot.values.messages import Answer, Button, Reply, rows, say, typed

FLOW = "events_staff"  # /nuovo_evento, /broadcast and editing an event share it


def draft(turn: Turn) -> dict[str, Any]:
    return dict(turn.conversation.data.get("draft", {}))


def save(turn: Turn, **values: Any) -> None:
    turn.remember(draft={**draft(turn), **values})


def in_step(turn: Turn, *steps: str) -> None:
    """Refuses a button pressed outside the staff flow's `steps`."""
    if not turn.is_staff or turn.conversation.flow != FLOW:
        raise Stale
    if turn.conversation.step not in steps:
        raise Stale


def recipients(turn: Turn) -> int:
    """How many subscribers the draft reaches."""
    chosen = draft(turn)
    return count_subscribers(turn.session, chosen["territories"], chosen["interests"])


def recipients_line(count: int) -> str:
    return ngettext("Destinatari: {n} iscritto.", "Destinatari: {n} iscritti.", count).format(
        n=format_number(count)
    )


def private_chat_please() -> Answer:
    """Guided conversations read what staff type, and the desk reads no text in groups."""
    return say(_("Scrivimi in privato: qui nel gruppo non leggo le risposte."))


def start(turn: Turn, config: EventsConfig, kind: str, step: str, draft: dict[str, Any]) -> Answer:
    """Starts a guided conversation of `kind` at `step`, in a private chat only."""
    if turn.inbound.in_group:
        return private_chat_please()
    turn.start_flow(FLOW, step, {"kind": kind, "draft": draft})
    return ask(turn, config)


def ask(turn: Turn, config: EventsConfig, notice: str = "", replace: bool = False) -> Answer:
    """The question of the current step, after `notice` (what was wrong with the answer)."""
    step = turn.conversation.step or ""
    if step in ("interests", "territories"):
        return picker(turn, config, step, notice, replace)
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
            "Quando lo annuncio? Scrivi data e ora (prima dell'evento), per esempio 1/3/2027 9:00."
        ),
    }
    buttons: list[Button] = []
    if step == "description":
        buttons.append(turn.button(_("Salta ⏭"), "es_skip", step))
    if step == "capacity":
        buttons.append(turn.button(_("Nessun limite"), "es_skip", step))
    buttons.append(turn.button(_("✖️ Annulla"), "es_quit"))
    lines = [notice, prompts.get(step, "")] if notice else [prompts.get(step, "")]
    return typed(say(join(lines), buttons=rows(*buttons, per_row=2), replace=replace))


def picker(turn: Turn, config: EventsConfig, step: str, notice: str, replace: bool) -> Answer:
    """Interests or territories, each a button to tick or untick."""
    locale = current_locale()
    choices = config.interests if step == "interests" else config.territories
    chosen = draft(turn).get(step, [])
    toggles = [
        turn.button(("✅ " if c.id in chosen else "▫️ ") + c.label.get(locale), "es_pick", c.id)
        for c in choices
    ]
    if step == "territories":  # ticked like "every topic" is, when every territory is
        every = set(chosen) >= set(config.territory_ids())
        toggles.append(turn.button(("✅ " if every else "▫️ ") + _("Tutti i territori"), "es_every"))
    last = [turn.button(_("Avanti ➡️"), "es_next", step), turn.button(_("✖️ Annulla"), "es_quit")]
    question = (
        _("A chi interessa? Scegli uno o più argomenti, poi «Avanti».")
        if step == "interests"
        else _("Per quali territori? Scegline uno o più, poi «Avanti».")
    )
    lines = [notice, question] if notice else [question]
    keyboard = (*rows(*toggles, per_row=1 if step == "interests" else 2), tuple(last))
    return Answer((Reply(join(lines), keyboard, replace),))
