"""Events for subscribers: announcements, "Ci sarò" / "Forse" / "No", reminders, feedback."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.orm import Session

from bot.basics import privacy
from bot.config import Settings
from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.delivery import reminders
from bot.delivery.reminders import Due
from bot.events.config import ALL, EventsConfig
from bot.events.logic import (
    MAYBE,
    NO,
    YES,
    Seat,
    choose,
    feedback_time,
    free_places,
    reminder_times,
    targets,
)
from bot.events.subscriptions import subscription, unsubscribe
from bot.storage.models import Event, Reminder, Rsvp, User
from bot.values import ics
from bot.values.i18n import _, current_locale, format_day, format_time, ngettext, use_locale, zone
from bot.values.markup import Rich, bold, italic, join, link
from bot.values.messages import (
    Address,
    Answer,
    Button,
    Delivery,
    Document,
    Keyboard,
    Outbound,
    Reply,
    rows,
    say,
)
from bot.values.payload import Signer

SCHEDULED, ANNOUNCED, CANCELLED = "scheduled", "announced", "cancelled"
REMIND_TARGETED, REMIND_YES, FEEDBACK = "event_targeted", "event_yes", "event_feedback"
CODES = {"y": YES, "m": MAYBE, "n": NO}
FEEDBACK_OPEN = timedelta(days=7)
ANSWERS_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('sportello:answers:' || current_schema()), :event)"
)
FLOW = "events"
SignButton = Callable[[str, str, int, str], Button]  # label, action, event id, argument


def signed(signer: Signer) -> SignButton:
    return lambda label, action, event_id, arg: Button(label, signer.pack(action, event_id, arg))


def preview_button(turn: Turn) -> SignButton:
    """Buttons that look like the announcement's; pressed, they say it is a preview."""
    return lambda label, _action, _event_id, arg: turn.button(label, "es_preview", arg)


def event_ref(event_id: int) -> str:
    return f"event:{event_id}"


def address_of(user: User) -> Address:
    return Address(user.channel, user.chat_id)


# Showing an event -----------------------------------------------------------------------


def when(event: Event) -> str:
    """ "giovedì 12 marzo 2027, 18:30", in the user's language and the desk's time zone."""
    start = event.starts_at
    return f"{format_day(start)} {start.astimezone(zone()).year}, {format_time(start)}"


def body(event: Event, config: EventsConfig, header: Rich | str | None = None) -> Rich:
    """The announcement as subscribers read it (also the preview, reminders, corrections)."""
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
        lines.append(_("Posti disponibili: {count}").format(count=event.capacity))
    return join(lines)


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
) -> Reply:
    if event.status == CANCELLED:
        return Reply(join([bold(_("❌ Evento annullato")), body(event, config)]), (), replace)
    footer = italic(_("Non vuoi più ricevere questi avvisi? /disiscriviti"))
    text = join([body(event, config, header), choice_line(seat), footer])
    return Reply(text, rsvp_keyboard(event, seat, button), replace)


def calendar_file(
    event: Event, config: EventsConfig, now: datetime, *, update: bool = False
) -> Document:
    """The event for the person's calendar; `update` replaces a copy sent before (same UID,
    a higher sequence), which a cancelled event marks as cancelled."""
    content = ics.calendar(
        uid=f"sportello-event-{event.id}@smp",
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
    return Document(f"evento-{event.id}.ics", content, ics.MIME_TYPE, caption)


# Storage ----------------------------------------------------------------------------------


def seat_of(session: Session, event_id: int, user_id: int) -> Rsvp | None:
    query = select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
    return session.scalars(query).one_or_none()


def holds_place() -> ColumnElement[bool]:
    """An RSVP that has a place: a yes, not on the waiting list."""
    return (Rsvp.answer == YES) & Rsvp.waiting.is_(False)


def places_taken(session: Session, event_id: int, but: int | None = None) -> int:
    query = select(func.count()).where(Rsvp.event_id == event_id, holds_place())
    if but is not None:
        query = query.where(Rsvp.user_id != but)
    return int(session.scalar(query) or 0)


def counts(session: Session, event_id: int) -> dict[str, int]:
    """Answers by kind: yes (with a place), waiting, maybe, no."""
    found = dict.fromkeys(("yes", "waiting", "maybe", "no"), 0)
    query = (
        select(Rsvp.answer, Rsvp.waiting, func.count())
        .where(Rsvp.event_id == event_id)
        .group_by(Rsvp.answer, Rsvp.waiting)
    )
    for answer, waiting, count in session.execute(query):
        found["waiting" if answer == YES and waiting else answer] += int(count)
    return found


def upcoming(session: Session, now: datetime, limit: int = 10) -> list[Event]:
    query = (
        select(Event)
        .where(Event.status == ANNOUNCED, Event.starts_at > now)
        .order_by(Event.starts_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def lock_answers(session: Session, event_id: int) -> None:
    """Serialises the answers to one event, so a place is never given twice.

    On PostgreSQL a transaction-scoped advisory lock keyed by the schema and the event, not
    the event's row: the announcer holds that row while it queues, and its inserts wait on the
    users' rows that turns hold. SQLite serialises writers already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(ANSWERS_LOCK, {"event": event_id})


def cancel_event_reminders(session: Session, event_id: int, user_id: int | None = None) -> None:
    """Cancels the pending reminders of an event (of one user's "yes", when given)."""
    ref = event_ref(event_id)
    where: ColumnElement[bool] = Reminder.ref == f"{ref}:u{user_id}"
    if user_id is None:
        reminders.cancel(session, ref)
        where = Reminder.ref.like(f"{ref}:%")
    session.execute(
        update(Reminder)
        .where(where, Reminder.state == reminders.PENDING)
        .values(state=reminders.CANCELLED)
        .execution_options(synchronize_session=False)
    )


class EventsDesk:
    """The subscriber's side of events; also renders their reminders at send time."""

    def __init__(self, config: EventsConfig) -> None:
        self.config = config

    # Reminders -------------------------------------------------------------------------

    def schedule_targeted(
        self, session: Session, event: Event, user_id: int, now: datetime
    ) -> None:
        """The reminders for everyone the announcement reached (at most once per edition)."""
        chosen = [r.id for r in self.config.reminders if r.to == "targeted"]
        for rule, due in reminder_times(event.starts_at, self.config.reminders, chosen, now):
            if rule.id in event.reminders:
                reminders.schedule(
                    session,
                    key=f"event:{event.id}:e{event.edition}:{rule.id}:{user_id}",
                    kind=REMIND_TARGETED,
                    ref=event_ref(event.id),
                    user_id=user_id,
                    due_at=due,
                    expires_at=event.starts_at,
                )

    def schedule_yes(
        self, session: Session, event: Event, user_id: int, now: datetime, settings: Settings
    ) -> None:
        """The reminders of one "Ci sarò", and the feedback question the day after."""
        token = uuid.uuid4().hex[:8]  # a yes can be withdrawn and given again
        chosen = [r.id for r in self.config.reminders if r.to == "yes" and r.id in event.reminders]
        ref = f"{event_ref(event.id)}:u{user_id}"
        for rule, due in reminder_times(event.starts_at, self.config.reminders, chosen, now):
            key = f"event:{event.id}:{rule.id}:{user_id}:{token}"
            reminders.schedule(
                session,
                key=key,
                kind=REMIND_YES,
                ref=ref,
                user_id=user_id,
                due_at=due,
                expires_at=event.starts_at,
            )
        asked = feedback_time(event.starts_at, self.config.feedback, settings.zone)
        reminders.schedule(
            session,
            key=f"event:{event.id}:fb:{user_id}:{token}",
            kind=FEEDBACK,
            ref=ref,
            user_id=user_id,
            due_at=asked,
            expires_at=asked + FEEDBACK_OPEN,
        )

    def _event_of(self, due: Due) -> Event | None:
        """The announced event a reminder refers to ("event:12" or "event:12:u7")."""
        parts = due.reminder.ref.split(":")
        if len(parts) < 2 or not parts[1].isdigit():
            return None
        event = due.session.get(Event, int(parts[1]))
        return event if event is not None and event.status == ANNOUNCED else None

    def render_targeted(self, due: Due) -> Outbound | None:
        """7 and 1 day before: only to subscribers the (possibly edited) event still targets."""
        event = self._event_of(due)
        found = subscription(due.session, due.user.id)
        if event is None or found is None or event.starts_at <= due.now:
            return None
        if not targets(event.territories, event.interests, found.territories, found.interests):
            return None
        seat = seat_of(due.session, event.id, due.user.id)
        if seat is not None and seat.answer == NO:
            return None
        return self._reminder(event, due, seat)

    def render_yes(self, due: Due) -> Outbound | None:
        event = self._event_of(due)
        seat = seat_of(due.session, event.id, due.user.id) if event else None
        if event is None or seat is None or not Seat(seat.answer, seat.waiting).holds_place:
            return None
        return self._reminder(event, due, seat)

    def _reminder(self, event: Event, due: Due, seat: Rsvp | None) -> Reply:
        left = event.starts_at - due.now
        if left >= timedelta(hours=36):
            days = round(left / timedelta(days=1))
            soon = ngettext("tra {n} giorno", "tra {n} giorni", days).format(n=days)
        elif left >= timedelta(hours=12):
            soon = _("domani")
        else:
            hours = max(1, round(left / timedelta(hours=1)))
            soon = ngettext("tra {n} ora", "tra {n} ore", hours).format(n=hours)
        header = bold(_("⏰ Promemoria: l'evento è {when}.").format(when=soon))
        return announcement(event, self.config, signed(due.signer), seat, header)

    def render_feedback(self, due: Due) -> Outbound | None:
        event = self._event_of(due)
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

    def renderers(self) -> dict[str, Callable[[Due], Outbound | None]]:
        return {
            REMIND_TARGETED: self.render_targeted,
            REMIND_YES: self.render_yes,
            FEEDBACK: self.render_feedback,
        }

    # /eventi -----------------------------------------------------------------------------

    def upcoming_list(self, turn: Turn) -> Answer:
        """/eventi: the upcoming events, each with the user's answer and the buttons."""
        found = upcoming(turn.session, turn.now)
        subscribed = subscription(turn.session, turn.user.id) is not None
        if not found:
            lines = [_("Al momento non ci sono eventi in programma.")]
            buttons = [turn.button(_("☰ Menu"), "menu")]
            if not subscribed:
                lines.append(_("Iscriviti agli avvisi: ti scrivo io quando ce n'è uno."))
                buttons.insert(0, turn.button(_("🔔 Iscriviti agli avvisi"), "sub_open"))
            return say(join(lines), buttons=rows(*buttons))
        button = signed(turn.signer)
        replies: list[Outbound] = [Reply(bold(_("📅 Prossimi eventi")))]
        for event in found:
            seat = seat_of(turn.session, event.id, turn.user.id)
            replies.append(announcement(event, self.config, button, seat))
        more = [turn.button(_("⚙️ Cambia iscrizione"), "sub_open")] if subscribed else []
        if not subscribed:
            more.append(turn.button(_("🔔 Iscriviti agli avvisi"), "sub_open"))
        replies.append(
            Reply(Rich() + _("Cosa vuoi fare?"), rows(*more, turn.button(_("☰ Menu"), "menu")))
        )
        return Answer(tuple(replies))

    def hub(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        """The menu's "Eventi e seminari": subscribe first, else the upcoming events."""
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "events")
        if subscription(turn.session, turn.user.id) is None:
            return turn.follow("sub_open")
        return self.upcoming_list(turn)

    # RSVP --------------------------------------------------------------------------------

    def _open_event(self, turn: Turn, args: tuple[str, ...]) -> Event:
        """The event a button refers to, locked; a forged or stale reference is refused."""
        if not args or not args[0].isdigit():
            raise Stale
        lock_answers(turn.session, int(args[0]))
        event = turn.session.get(Event, int(args[0]))
        if event is None or event.status == SCHEDULED:
            raise Stale
        return event

    def on_rsvp(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._open_event(turn, args)
        answer = CODES.get(args[1] if len(args) > 1 else "")
        if answer is None:
            raise Stale
        if event.status == CANCELLED or event.starts_at <= turn.now:
            closed = (
                _("Questo evento è stato annullato.")
                if event.status == CANCELLED
                else _("Questo evento è già iniziato: non si può più rispondere.")
            )
            return say(closed)
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "ev_list")
        return self._answer(turn, event, answer)

    def _answer(self, turn: Turn, event: Event, answer: str) -> Answer:
        seat = seat_of(turn.session, event.id, turn.user.id)
        before = Seat(seat.answer, seat.waiting) if seat else None
        taken = places_taken(turn.session, event.id, but=turn.user.id)
        after = choose(before, answer, event.capacity, taken)
        if seat is None:
            seat = Rsvp(event_id=event.id, user_id=turn.user.id, answered_at=turn.now)
            turn.session.add(seat)
        if after != before:
            seat.answer, seat.waiting, seat.answered_at = after.answer, after.waiting, turn.now
        turn.session.flush()
        extra: list[Outbound] = []
        deliveries: list[Delivery] = []
        held_before = before is not None and before.holds_place
        if after.holds_place and not held_before:
            self.schedule_yes(turn.session, event, turn.user.id, turn.now, turn.settings)
            extra.append(calendar_file(event, self.config, turn.now))
        if held_before and not after.holds_place:
            cancel_event_reminders(turn.session, event.id, turn.user.id)
            deliveries += self.promote(turn.session, event, turn.now, turn.signer, turn.settings)
        reply = announcement(event, self.config, signed(turn.signer), seat, replace=True)
        notice = choice_line(seat)
        return Answer((reply, *extra), tuple(deliveries), notice)

    def promote(
        self, session: Session, event: Event, now: datetime, signer: Signer, settings: Settings
    ) -> list[Delivery]:
        """Gives freed places to the waiting list, in order, and tells each one."""
        waiting = session.scalars(
            select(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.answer == YES, Rsvp.waiting.is_(True))
            .order_by(Rsvp.answered_at, Rsvp.id)
        ).all()
        room = free_places(event.capacity, places_taken(session, event.id), len(waiting))
        deliveries = []
        for seat in waiting[:room]:
            seat.waiting = False
            user = session.get(User, seat.user_id)
            if user is None:
                continue
            self.schedule_yes(session, event, user.id, now, settings)
            with use_locale(user.locale, settings.zone):
                header = bold(_("🎉 Si è liberato un posto: ci sei!"))
                reply = announcement(event, self.config, signed(signer), seat, header)
                ics_file = calendar_file(event, self.config, now)
            for message in (reply, ics_file):
                deliveries.append(Delivery(address_of(user), message))
        return deliveries

    def forget(self, turn: Turn) -> Answer:
        """Before consent is withdrawn or data erased: nothing more goes out to this person,
        and the places they held at upcoming events go to the waiting list."""
        unsubscribe(turn.session, turn.user.id)
        held = turn.session.scalars(
            select(Rsvp)
            .join(Event, Event.id == Rsvp.event_id)
            .where(
                Rsvp.user_id == turn.user.id,
                holds_place(),
                Event.status != CANCELLED,
                Event.starts_at > turn.now,
            )
        ).all()
        deliveries: list[Delivery] = []
        for seat in held:
            event = turn.session.get_one(Event, seat.event_id)
            cancel_event_reminders(turn.session, event.id, turn.user.id)
            turn.session.delete(seat)
            turn.session.flush()
            deliveries += self.promote(turn.session, event, turn.now, turn.signer, turn.settings)
        return Answer(deliveries=tuple(deliveries))

    # Feedback ----------------------------------------------------------------------------

    def on_score(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        event = self._open_event(turn, args)
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

    def on_no_comment(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        turn.end_flow()
        return menu.show(turn, _("Grazie, alla prossima!"), replace=True)

    def on_text(self, turn: Turn) -> Answer:
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
