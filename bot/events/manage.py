"""Staff manage events: /eventi_staff lists them; view, edit, cancel, attendee list."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.basics import privacy
from bot.config import Settings
from bot.core import replies
from bot.core.turn import Command, Stale, Turn
from bot.delivery import codec, outbox
from bot.events.config import EventsConfig
from bot.events.desk import (
    ANNOUNCED,
    CANCELLED,
    SCHEDULED,
    EventsDesk,
    address_of,
    announcement,
    calendar_file,
    cancel_event_reminders,
    counts,
    holds_place,
    preview_button,
    seat_of,
    signed,
    when,
)
from bot.events.logic import YES, Invalid, parse_capacity, parse_place, parse_when
from bot.storage.models import Broadcast, Event, OutboxMessage, Rsvp, User
from bot.values.i18n import N_, _, format_date, format_moment, format_number, ngettext, use_locale
from bot.values.markup import Rich, bold, join
from bot.values.messages import Answer, Delivery, Document, Reply, rows, say
from bot.values.payload import Signer

FLOW = "events_staff"
FIELDS = {
    "title": N_("Titolo"),
    "description": N_("Descrizione"),
    "when": N_("Data e ora"),
    "place": N_("Luogo o collegamento"),
    "capacity": N_("Posti"),
}
N_LIST = N_("gli eventi: avanzamento dell'invio, risposte, modifica, annullamento, partecipanti")
REACHED = (outbox.SENT, outbox.SENDING, outbox.UNCERTAIN)


@dataclass(frozen=True)
class Problem:
    """A value staff typed that cannot be used, and what to tell them."""

    text: str


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


def progress_line(session: Session, batch: str) -> str:
    done = outbox.progress(session, batch)
    line = _("Inviati {sent} di {total}").format(
        sent=format_number(done.sent), total=format_number(done.total)
    )
    problems = done.failed + done.blocked + done.uncertain
    if problems:
        line += " " + _(
            "(non consegnati {failed}, bloccati {blocked}, incerti {uncertain})"
        ).format(failed=done.failed, blocked=done.blocked, uncertain=done.uncertain)
    return line


class EventsManager:
    def __init__(self, config: EventsConfig, desk: EventsDesk) -> None:
        self.config = config
        self.desk = desk

    def _event(self, turn: Turn, args: tuple[str, ...], lock: bool = False) -> Event:
        if not turn.is_staff or not args or not args[0].isdigit():
            raise Stale
        event = turn.session.get(Event, int(args[0]), with_for_update=lock)
        if event is None:
            raise Stale
        return event

    # List and view -------------------------------------------------------------------------

    def listing(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
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
                + e.starts_at.astimezone(turn.settings.zone).strftime("%d/%m")
                + " · "
                + e.title[:40],
                "es_view",
                e.id,
            )
            for e in found
        ]
        return say(bold(_("Eventi")), buttons=rows(*buttons))

    def view(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._event(turn, args)
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
                _("Annuncio: {progress}").format(
                    progress=progress_line(turn.session, f"event:{event.id}")
                )
            )
        places = (
            _("{yes} di {capacity} posti").format(yes=tally["yes"], capacity=event.capacity)
            if event.capacity
            else str(tally["yes"])
        )
        lines.append(
            _(
                "✅ Ci sarò: {places} · ⏳ In attesa: {waiting} · 🤔 Forse: {maybe} · ❌ No: {no}"
            ).format(places=places, waiting=tally["waiting"], maybe=tally["maybe"], no=tally["no"])
        )
        lines += self._feedback(turn.session, event)
        buttons = [turn.button(_("🔄 Aggiorna"), "es_view", event.id)]
        if event.status != CANCELLED and event.starts_at > turn.now:
            buttons.append(turn.button(_("✏️ Modifica"), "es_edit", event.id))
        buttons.append(turn.button(_("👥 Partecipanti (CSV)"), "es_csv", event.id))
        if event.status != CANCELLED:
            buttons.append(turn.button(_("❌ Annulla l'evento"), "es_cancel", event.id))
        buttons.append(turn.button(_("⬅️ Tutti gli eventi"), "es_list"))
        return say(join(lines), buttons=rows(*buttons), replace=True)

    def _feedback(self, session: Session, event: Event) -> list[Rich | str]:
        scores = session.execute(
            select(func.count(Rsvp.score), func.avg(Rsvp.score)).where(
                Rsvp.event_id == event.id, Rsvp.score.is_not(None)
            )
        ).one()
        if not scores[0]:
            return []
        average = format_number(round(float(scores[1]), 1))
        lines: list[Rich | str] = [
            _("⭐ Gradimento: {average} su 5 ({count} voti)").format(
                average=average, count=scores[0]
            )
        ]
        comments = session.scalars(
            select(Rsvp.comment)
            .where(Rsvp.event_id == event.id, Rsvp.comment.is_not(None))
            .order_by(Rsvp.feedback_at.desc())
            .limit(10)
        ).all()
        lines += [f"💬 {comment}" for comment in comments]
        return lines

    def export(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """The attendee list as CSV: names only of people whose consent is current."""
        event = self._event(turn, args)
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
        return Answer(
            (Document(f"evento-{event.id}-partecipanti.csv", content, "text/csv", caption),)
        )

    def broadcast_view(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        if not turn.is_staff or not args or not args[0].isdigit():
            raise Stale
        broadcast = turn.session.get(Broadcast, int(args[0]))
        if broadcast is None:
            raise Stale
        line = _("📣 Messaggio del {day}: {progress}").format(
            day=format_date(broadcast.created_at),
            progress=progress_line(turn.session, f"broadcast:{broadcast.id}"),
        )
        return say(
            line,
            buttons=rows(turn.button(_("🔄 Aggiorna"), "es_bview", broadcast.id)),
            replace=True,
        )

    # Cancel ---------------------------------------------------------------------------------

    def ask_cancel(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._event(turn, args)
        if event.status == CANCELLED:
            raise Stale
        return say(
            _(
                "Vuoi davvero annullare «{title}»? Chi ha risposto «Ci sarò» riceverà un avviso."
            ).format(title=event.title),
            buttons=rows(
                turn.button(_("Sì, annulla l'evento"), "es_cancel_yes", event.id),
                turn.button(_("No"), "es_view", event.id),
            ),
        )

    def cancel(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._event(turn, args, lock=True)
        if event.status == CANCELLED:
            raise Stale
        was_announced = event.status == ANNOUNCED
        event.status, event.updated_at, event.reported_at = CANCELLED, turn.now, turn.now
        event.edition += 1  # the cancelling calendar file replaces the one sent before
        cancel_event_reminders(turn.session, event.id)
        self._drop_queued(turn.session, event.id)
        told = (
            self._tell_cancelled(turn.session, event, turn.now, turn.settings)
            if was_announced
            else 0
        )
        done = ngettext_told(told)
        return say(
            join([_("Evento annullato."), done]),
            buttons=rows(turn.button(_("⬅️ Tutti gli eventi"), "es_list")),
        )

    @staticmethod
    def _drop_queued(session: Session, event_id: int) -> None:
        for row in session.scalars(
            select(OutboxMessage).where(
                or_(
                    OutboxMessage.key.like(f"event:{event_id}:%"),
                    OutboxMessage.key.like(f"reminder:event:{event_id}:%"),
                ),
                OutboxMessage.state == outbox.QUEUED,
            )
        ):
            session.delete(row)

    def _tell_cancelled(
        self, session: Session, event: Event, now: datetime, settings: Settings
    ) -> int:
        seats = session.execute(
            select(Rsvp, User)
            .join(User, User.id == Rsvp.user_id)
            .where(Rsvp.event_id == event.id, Rsvp.answer == YES)
        ).all()
        for seat, user in seats:
            with use_locale(user.locale, settings.zone):
                text = join(
                    [
                        bold(_("❌ Evento annullato")),
                        _(
                            "«{title}» di {when} è stato annullato. Ci scusiamo per il disagio."
                        ).format(title=event.title, when=when(event)),
                    ]
                )
                # the waiting list got no calendar file, so it needs no cancelling one
                ics_file = None if seat.waiting else calendar_file(event, self.config, now)
            key = f"event:{event.id}:cancelled:{user.id}"
            outbox.enqueue(session, Delivery(address_of(user), Reply(text), key), now)
            if ics_file is not None:
                outbox.enqueue(session, Delivery(address_of(user), ics_file, f"{key}:ics"), now)
        return len(seats)

    def _update_calendars(
        self, session: Session, event: Event, now: datetime, settings: Settings
    ) -> None:
        """Those with a place got a calendar file: the corrected one replaces it."""
        holders = session.scalars(
            select(User)
            .join(Rsvp, Rsvp.user_id == User.id)
            .where(Rsvp.event_id == event.id, holds_place())
        ).all()
        for user in holders:
            with use_locale(user.locale, settings.zone):
                ics_file = calendar_file(event, self.config, now, update=True)
            key = f"event:{event.id}:e{event.edition}:ics:{user.id}"
            # as the correction (it waits out quiet hours as that does), and after it
            delivery = Delivery(address_of(user), ics_file, key, kind="announcement")
            outbox.enqueue(session, delivery, now)

    # Edit ---------------------------------------------------------------------------------

    def ask_field(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._event(turn, args)
        if event.status == CANCELLED or event.starts_at <= turn.now:
            raise Stale
        buttons = [
            turn.button(_(label), "es_field", event.id, name) for name, label in FIELDS.items()
        ]
        return say(_("Cosa vuoi cambiare?"), buttons=rows(*buttons, per_row=2))

    def on_field(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._event(turn, args)
        field = args[1] if len(args) > 1 else ""
        if field not in FIELDS or event.status == CANCELLED:
            raise Stale
        if turn.inbound.in_group:
            return say(_("Scrivimi in privato: qui nel gruppo non leggo le risposte."))
        turn.start_flow(FLOW, "edit", {"kind": "edit", "event": event.id, "field": field})
        prompts = {
            "title": _("Scrivi il nuovo titolo."),
            "description": _("Scrivi la nuova descrizione."),
            "when": _("Scrivi la nuova data e ora, per esempio 12/3/2027 18:30."),
            "place": _("Scrivi il nuovo luogo o collegamento (https://...)."),
            "capacity": _("Scrivi il nuovo numero di posti (0 per nessun limite)."),
        }
        return say(prompts[field], buttons=rows(turn.button(_("✖️ Annulla"), "es_quit")))

    def on_edit_text(self, turn: Turn) -> Answer:
        data = turn.conversation.data
        event = turn.session.get(Event, int(data.get("event", 0)))
        if event is None or event.status == CANCELLED:
            turn.end_flow()
            return replies.stale_button(turn)
        value = self._parse(turn, data.get("field", ""), turn.inbound.text.strip())
        if isinstance(value, Problem):
            return say(value.text, buttons=rows(turn.button(_("✖️ Annulla"), "es_quit")))
        turn.remember(value=value)
        turn.conversation.step = "edit_review"
        changed = self._edited(event, data["field"], value)
        preview = announcement(changed, self.config, preview_button(turn))
        note = _("Ecco l'evento corretto. Chi ha già ricevuto l'annuncio riceverà la correzione.")
        keyboard = rows(
            turn.button(_("✅ Salva e invia la correzione"), "es_apply", event.id),
            turn.button(_("✖️ Annulla"), "es_quit"),
        )
        return Answer((preview, Reply(Rich() + note, keyboard)))

    def _parse(self, turn: Turn, field: str, typed: str) -> Any:
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

    @staticmethod
    def _edited(event: Event, field: str, value: Any) -> Event:
        changed = Event(**{c.key: getattr(event, c.key) for c in Event.__table__.columns})
        _apply(changed, field, value)
        return changed

    def apply(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._event(turn, args, lock=True)
        data = turn.conversation.data
        if turn.conversation.step != "edit_review" or data.get("event") != event.id:
            raise Stale
        if event.status == CANCELLED:
            raise Stale
        turn.end_flow()
        moved = data["field"] == "when"
        _apply(event, data["field"], data.get("value"))
        event.edition, event.updated_at = event.edition + 1, turn.now
        deliveries: list[Delivery] = []
        if event.status == ANNOUNCED:
            corrected = self._correct(turn.session, event, turn.now, turn.signer, turn.settings)
            if moved:
                self._replan(turn.session, event, turn.now, turn.settings)
            if data["field"] != "capacity":
                self._update_calendars(turn.session, event, turn.now, turn.settings)
            deliveries = self.desk.promote(
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

    def _reached(self, session: Session, event_id: int) -> list[OutboxMessage]:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.key.like(f"event:{event_id}:announce:%"))
            )
        )

    def _correct(
        self, session: Session, event: Event, now: datetime, signer: Signer, settings: Settings
    ) -> int:
        """Queued announcements are rewritten; those already out get a correction, as do
        those who answered from /eventi without an announcement of their own."""
        corrected = 0
        reached: set[int] = set()
        for row in self._reached(session, event.id):
            user = session.get(User, row.user_id) if row.user_id else None
            if user is None or row.state not in (outbox.QUEUED, *REACHED):
                continue
            reached.add(user.id)
            if row.state == outbox.QUEUED:
                seat = seat_of(session, event.id, user.id)
                with use_locale(user.locale, settings.zone):
                    fresh = announcement(event, self.config, signed(signer), seat)
                row.body = codec.encode(fresh)
                continue
            corrected += self._send_correction(session, event, user, now, signer, settings)
        answered = session.scalars(
            select(User).join(Rsvp, Rsvp.user_id == User.id).where(Rsvp.event_id == event.id)
        ).all()
        for user in answered:
            if user.id not in reached:
                corrected += self._send_correction(session, event, user, now, signer, settings)
        return corrected

    def _send_correction(
        self,
        session: Session,
        event: Event,
        user: User,
        now: datetime,
        signer: Signer,
        settings: Settings,
    ) -> bool:
        seat = seat_of(session, event.id, user.id)
        with use_locale(user.locale, settings.zone):
            header = bold(_("✏️ Correzione: l'evento è cambiato, ecco i dettagli aggiornati."))
            message = announcement(event, self.config, signed(signer), seat, header)
        delivery = Delivery(
            address_of(user),
            message,
            f"event:{event.id}:e{event.edition}:{user.id}",
            kind="announcement",
            batch=f"event:{event.id}:e{event.edition}",
        )
        return outbox.enqueue(session, delivery, now)

    def _replan(self, session: Session, event: Event, now: datetime, settings: Settings) -> None:
        """A new date: every pending reminder is cancelled and planned again."""
        cancel_event_reminders(session, event.id)
        for row in self._reached(session, event.id):
            if row.user_id is not None and row.state in (outbox.QUEUED, *REACHED):
                self.desk.schedule_targeted(session, event, row.user_id, now)
        holders = session.scalars(
            select(Rsvp.user_id).where(Rsvp.event_id == event.id, holds_place())
        ).all()
        for user_id in holders:
            self.desk.schedule_yes(session, event, user_id, now, settings)


def _apply(event: Event, field: str, value: Any) -> None:
    if field == "when":
        event.starts_at = datetime.fromisoformat(value)
    elif field == "place":
        event.place, event.link = value[0][:300], value[1]
    else:
        setattr(event, field, value)


def ngettext_told(count: int) -> str:
    return ngettext(
        "Ho avvisato {n} persona che aveva risposto «Ci sarò».",
        "Ho avvisato {n} persone che avevano risposto «Ci sarò».",
        count,
    ).format(n=count)


def commands(manager: EventsManager) -> dict[str, Command]:
    return {"eventi_staff": Command(manager.listing, staff=True, description=N_LIST)}


def buttons(manager: EventsManager) -> dict[str, Any]:
    return {
        "es_list": manager.listing,
        "es_view": manager.view,
        "es_csv": manager.export,
        "es_bview": manager.broadcast_view,
        "es_cancel": manager.ask_cancel,
        "es_cancel_yes": manager.cancel,
        "es_edit": manager.ask_field,
        "es_field": manager.on_field,
        "es_apply": manager.apply,
    }
