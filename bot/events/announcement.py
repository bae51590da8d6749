"""An event as subscribers read it: the announcement, its answer buttons, its calendar file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.turn import Turn
from bot.events.config import ALL, EventsConfig
from bot.events.logic import MAYBE, NO, YES
from bot.events.store import CANCELLED
from bot.storage.models import Event, Rsvp
from bot.values import ics
from bot.values.i18n import (
    _,
    current_locale,
    format_day,
    format_number,
    format_time,
    ngettext,
    zone,
)
from bot.values.markup import Rich, bold, italic, join, link
from bot.values.messages import Answer, Button, Document, Keyboard, Reply
from bot.values.payload import Signer

CODES = {"y": YES, "m": MAYBE, "n": NO}
SignButton = Callable[[str, str, int, str], Button]  # label, action, event id, argument


def signed(signer: Signer) -> SignButton:
    return lambda label, action, event_id, arg: Button(label, signer.pack(action, event_id, arg))


def preview_button(turn: Turn) -> SignButton:
    """Buttons that look like the announcement's; pressed, they say it is a preview."""
    return lambda label, _action, _event_id, arg: turn.button(label, "es_preview", arg)


def on_preview(turn: Turn, _args: tuple[str, ...]) -> Answer:
    return Answer(notice=_("È un'anteprima: i pulsanti funzioneranno nell'annuncio."))


def when(event: Event) -> str:
    """ "giovedì 12 marzo 2027, 18:30", in the user's language and the desk's time zone."""
    start = event.starts_at
    return f"{format_day(start)} {start.astimezone(zone()).year}, {format_time(start)}"


def body(
    event: Event, config: EventsConfig, header: Rich | str | None = None, taken: int = 0
) -> Rich:
    """The announcement as subscribers read it (also the preview, reminders, corrections);
    `taken`: the places given so far."""
    locale = current_locale()
    lines: list[Rich | str] = [header] if header else []
    lines += [bold("📅 " + event.title), "🗓 " + when(event)]
    if event.place:
        lines.append("📍 " + event.place)
    if event.link:
        lines.append("🔗 " + link(_("Collegamento per partecipare online"), event.link))
    if event.description:
        lines.append(event.description)
    topics = [config.label(i, locale) for i in event.interests if i != ALL]
    if topics:
        lines.append(_("Argomenti: {names}").format(names=", ".join(topics)))
    if event.capacity:
        lines.append(places_line(event.capacity, taken))
    return join(lines)


def places_line(capacity: int, taken: int) -> str:
    """The places still free, not the capacity (once some are taken)."""
    left = max(capacity - taken, 0)
    if not taken:
        return _("Posti disponibili: {count}").format(count=format_number(capacity))
    if not left:
        return _("Posti esauriti: rispondendo «Ci sarò» entri in lista d'attesa.")
    return ngettext(
        "Ancora {count} posto libero su {capacity}",
        "Ancora {count} posti liberi su {capacity}",
        left,
    ).format(count=format_number(left), capacity=format_number(capacity))


def choice_line(seat: Rsvp | None) -> str:
    if seat is None:
        return _("Ci sarai? Rispondi con i pulsanti qui sotto.")
    if seat.answer == YES and seat.waiting:
        return _("⏳ Sei in lista d'attesa: ti scrivo appena si libera un posto.")
    return {
        YES: _("La tua risposta: ✅ Ci sarò"),
        MAYBE: _("La tua risposta: 🤔 Forse"),
        NO: _("La tua risposta: ❌ No"),
    }[seat.answer]


def rsvp_keyboard(event: Event, seat: Rsvp | None, button: SignButton) -> Keyboard:
    chosen = seat.answer if seat else None
    labels = {YES: _("✅ Ci sarò"), MAYBE: _("🤔 Forse"), NO: _("❌ No")}
    return (
        tuple(
            button(("• " if answer == chosen else "") + labels[answer], "ev_rsvp", event.id, code)
            for code, answer in CODES.items()
        ),
    )


def announcement(
    event: Event,
    config: EventsConfig,
    button: SignButton,
    seat: Rsvp | None = None,
    header: Rich | str | None = None,
    replace: bool = False,
    taken: int = 0,
) -> Reply:
    if event.status == CANCELLED:
        return Reply(join([bold(_("❌ Evento annullato")), body(event, config)]), (), replace)
    footer = italic(_("Non vuoi più ricevere questi avvisi? /disiscriviti"))
    text = join([body(event, config, header, taken), choice_line(seat), footer])
    return Reply(text, rsvp_keyboard(event, seat, button), replace, fields=template_fields(event))


def template_fields(event: Event) -> tuple[tuple[str, str], ...]:
    """What varies in the announcement's fixed-wording template: title, date, place."""
    return (("title", event.title), ("date", when(event)), ("place", event.place or "-"))


def calendar_file(
    event: Event, config: EventsConfig, now: datetime, domain: str, *, update: bool = False
) -> Document:
    """The event for the person's calendar; `update` replaces a copy sent before (same UID,
    a higher sequence), which a cancelled event marks as cancelled."""
    content = ics.calendar(
        uid=f"sportello-event-{event.id}",
        domain=domain,
        title=event.title,
        starts_at=event.starts_at,
        duration=timedelta(minutes=config.duration),
        description=event.description,
        location=event.place,
        url=event.link,
        sequence=event.edition,
        cancelled=event.status == CANCELLED,
        stamp=now,
    )
    if event.status == CANCELLED:
        caption = Rich() + _("Apri il file per segnare l'evento come annullato nel calendario.")
    elif update:
        caption = Rich() + _("Apri il file per aggiornare l'evento nel tuo calendario.")
    else:
        caption = Rich() + _("Aggiungi l'evento al tuo calendario.")
    name = _("evento-{number}.ics").format(number=event.id)
    return Document(name, content, ics.MIME_TYPE, caption)
