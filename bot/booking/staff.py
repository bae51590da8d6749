"""Bookings for staff: a card per booking in the staff chat, /agenda, /assenza, morning agenda."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.booking import store as booking_store
from bot.booking.calendar import ics_for
from bot.booking.phone import readable_phone
from bot.booking.setup import BookingSetup
from bot.config import Settings
from bot.core import replies
from bot.core.turn import ButtonHandler, Command, Stale, Turn
from bot.delivery import alerts, outbox
from bot.storage.db import Database
from bot.storage.models import Absence, Booking, User
from bot.values.i18n import (
    N_,
    _,
    current_locale,
    format_date,
    format_day,
    format_moment,
    format_time,
    ngettext,
    use_locale,
)
from bot.values.markup import Rich, bold, join, text
from bot.values.messages import Address, Answer, Button, Delivery, Keyboard, Reply, rows, say
from bot.values.payload import Signer

N_AGENDA = N_("le chiamate del giorno per operatore (facoltativo: una data)")
N_ABSENCE = N_("segna un'assenza: /assenza 24/12 oppure /assenza giulia 24/12 28/12")
DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?$")

HEADS = {
    "new": N_("🆕 Nuova richiamata"),
    "moved": N_("🔁 Richiamata spostata"),
    "cancelled": N_("✖️ Richiamata annullata dalla persona"),
    "absent": N_("⚠️ Da riassegnare: l'operatore è assente"),
    "erased": N_("✖️ Richiamata annullata: la persona ha cancellato i suoi dati"),
}
STATES = {
    booking_store.DONE: N_("✅ Fatta da {who}"),
    booking_store.NO_ANSWER: N_("📵 Non risponde (segnato da {who})"),
    booking_store.CANCELLED: N_("✖️ Annullata da {who}"),
}


def parse_day(word: str, today: date) -> date | None:
    """ "oggi", "domani", 24/12, 24/12/2026, 2026-12-24; a day/month long past is next year's."""
    word = word.strip().lower()
    if word in ("oggi", "today", "aujourd'hui"):
        return today
    if word in ("domani", "tomorrow", "demain"):
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    match = DATE.match(word)
    if not match:
        return None
    day, month, year = match.groups()
    full_year = int(year) + (2000 if len(year) == 2 else 0) if year else today.year
    try:
        found = date(full_year, int(month), int(day))
    except ValueError:
        return None
    if not year and found < today - timedelta(days=31):
        found = found.replace(year=found.year + 1)
    return found


def parse_range(words: list[str], today: date) -> tuple[date, date] | None:
    """One day or two ("24/12 28/12", "24/12-28/12", "24/12 - 28/12"), in order."""
    joined = " ".join(words)
    parts = joined.split() if "/" not in joined else re.split(r"\s*-\s*|\s+", joined)
    days = [parse_day(part, today) for part in parts if part]
    if not 1 <= len(days) <= 2:
        return None
    first, last = days[0], days[-1]
    if first is None or last is None or last < first:
        return None
    return first, last


def operator_name(session: Session, setup: BookingSetup, telegram_id: int | None) -> str:
    if telegram_id is None:
        return "—"
    operator = setup.operator_by_telegram(telegram_id)
    if operator:
        return operator.name
    name = session.scalars(
        select(User.name).where(User.channel == "telegram", User.external_id == str(telegram_id))
    ).first()
    return name or str(telegram_id)


def card_text(
    session: Session, setup: BookingSetup, booking: Booking, head: str | None = None
) -> Rich:
    """A booking as staff read it: who, when, number, topic, note, and where it stands."""
    user = session.get(User, booking.user_id)
    topic = setup.topic(booking.topic)
    how = _("📞 Telefonata") if booking.mode == "phone" else _("🎥 Videochiamata")
    lines: list[Rich | str] = [bold(_(head))] if head else []
    lines += [
        bold(f"{format_moment(booking.starts_at)} · {how}"),
        _("Persona: {name}").format(name=(user.name if user else "") or "—"),
        _("Telefono: {phone}").format(
            phone=readable_phone(booking.phone) if booking.phone else "—"
        ),
        _("Argomento: {topic}").format(topic=topic.label.get(current_locale()) if topic else "—"),
        _("Operatore: {name}").format(name=operator_name(session, setup, booking.operator_id)),
    ]
    if booking.note:
        lines.append(_("Nota: {note}").format(note=booking.note))
    if booking.taken_by and booking.status == booking_store.CONFIRMED:
        lines.append(
            _("🙋 Presa da {who}").format(who=operator_name(session, setup, booking.taken_by))
        )
    if booking.status in STATES:
        who = operator_name(session, setup, booking.taken_by)
        lines.append(_(STATES[booking.status]).format(who=who))
    return join(lines)


def card_buttons(signer: Signer, booking: Booking) -> Keyboard:
    """Actions on a booking that still stands; none on one that is closed."""
    if booking.status != booking_store.CONFIRMED:
        return ()

    def button(label: str, action: str) -> Button:
        return Button(_(label), signer.pack(action, booking.id))

    return rows(
        button(N_("🙋 La prendo io"), "bks_take"),
        button(N_("✅ Fatto"), "bks_done"),
        button(N_("📵 Non risponde"), "bks_noanswer"),
        button(N_("✖️ Annulla"), "bks_cancel"),
        per_row=2,
    )


def staff_locale(session: Session, settings: Settings, address: Address) -> str:
    """A staff member's own language in a private chat; the default in the staff group."""
    stored = session.scalars(
        select(User.locale).where(User.channel == address.channel, User.chat_id == address.chat_id)
    ).first()
    private = address.chat_id != str(settings.staff_chat_id)
    return stored if private and stored else settings.default_locale


def cards(
    session: Session,
    settings: Settings,
    signer: Signer,
    setup: BookingSetup,
    booking: Booking,
    event: str,
) -> tuple[Delivery, ...]:
    """The booking's card for the staff chat (or each staff member), in their language."""
    deliveries = []
    for address in alerts.staff_addresses(settings):
        with use_locale(staff_locale(session, settings, address), settings.zone):
            card = Reply(
                card_text(session, setup, booking, HEADS[event]), card_buttons(signer, booking)
            )
        key = f"booking:{booking.id}:{event}:{booking.updated_at.timestamp():.0f}:{address.chat_id}"
        deliveries.append(Delivery(address, card, key))
    return tuple(deliveries)


def announce(turn: Turn, setup: BookingSetup, booking: Booking, event: str) -> Answer:
    """Tells staff about a new, moved or cancelled booking."""
    return Answer(deliveries=cards(turn.session, turn.settings, turn.signer, setup, booking, event))


class StaffDesk:
    def __init__(self, setup: BookingSetup) -> None:
        self.setup = setup

    # Actions on a card ----------------------------------------------------------

    def _booking(self, turn: Turn, args: tuple[str, ...]) -> Booking:
        booking = turn.session.get(Booking, int(args[0])) if args and args[0].isdigit() else None
        if booking is None:
            raise Stale
        return booking

    def _card(self, turn: Turn, booking: Booking, head: str = "new", notice: str = "") -> Answer:
        locale = turn.settings.default_locale if turn.inbound.in_group else turn.user.locale
        with use_locale(locale, turn.settings.zone):
            card = Reply(
                card_text(turn.session, self.setup, booking, HEADS[head]),
                card_buttons(turn.signer, booking),
                replace=True,
            )
        return Answer((card,), notice=notice or None)

    def on_take(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._open_booking(turn, args)
        me = turn.inbound.sender.platform_id
        assert me is not None
        if booking.operator_id != me:
            try:
                with turn.session.begin_nested():
                    booking.operator_id = me
            except IntegrityError:  # the taker has a call of their own at that time
                turn.session.refresh(booking)
                return Answer(notice=_("Hai già una chiamata a quell'ora."))
        booking.taken_by, booking.updated_at = me, turn.now
        return self._card(turn, booking, notice=_("La chiamata è tua."))

    def on_done(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._open_booking(turn, args)
        self._close_as(turn, booking, booking_store.DONE)
        return self._card(turn, booking)

    def on_no_answer(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._open_booking(turn, args)
        self._close_as(turn, booking, booking_store.NO_ANSWER)
        message = _(
            "Abbiamo provato a chiamarti {moment}, ma non ti abbiamo trovato. Vuoi fissare "
            "un'altra richiamata?"
        )
        return self._card(turn, booking) + self._tell_user(turn, booking, message, "noanswer")

    def on_cancel(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._open_booking(turn, args)
        question = _("Annullare la chiamata? La persona sarà avvisata.")
        keyboard = rows(
            turn.button(_("Sì, annulla"), "bks_cancel_yes", booking.id),
            turn.button(_("No"), "bks_show", booking.id),
            per_row=2,
        )
        locale = turn.settings.default_locale if turn.inbound.in_group else turn.user.locale
        with use_locale(locale, turn.settings.zone):
            head = card_text(turn.session, self.setup, booking, HEADS["new"])
        return Answer((Reply(join([head, bold(question)]), keyboard, replace=True),))

    def on_cancel_yes(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._open_booking(turn, args)
        self._close_as(turn, booking, booking_store.CANCELLED)
        message = _(
            "Ci dispiace: lo staff ha dovuto annullare la richiamata di {moment}. Puoi "
            "fissarne un'altra quando vuoi."
        )
        told = self._tell_user(turn, booking, message, "cancelled", with_calendar=True)
        return self._card(turn, booking) + told

    def on_show(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        return self._card(turn, self._booking(turn, args))

    def _open_booking(self, turn: Turn, args: tuple[str, ...]) -> Booking:
        booking = self._booking(turn, args)
        if booking.status != booking_store.CONFIRMED:
            raise Stale
        return booking

    def _close_as(self, turn: Turn, booking: Booking, status: str) -> None:
        booking.taken_by = turn.inbound.sender.platform_id
        booking_store.close(turn.session, booking, status, turn.now, "staff")

    def _tell_user(
        self,
        turn: Turn,
        booking: Booking,
        message: str,
        event: str,
        with_calendar: bool = False,
    ) -> Answer:
        """A message to the person whose call it was, in their language, via the outbox; with
        a calendar file that marks the call cancelled, when it is."""
        user = turn.session.get(User, booking.user_id)
        if user is None:
            return Answer()
        with use_locale(user.locale, turn.settings.zone):
            body = message.format(moment=format_moment(booking.starts_at))
            reply = Reply(
                text(body),
                rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            )
            calendar = (
                ics_for(booking, self.setup, turn.now, cancelled=True) if with_calendar else None
            )
        address = Address(user.channel, user.chat_id)
        key = f"booking:{booking.id}:{event}"
        deliveries = [Delivery(address, reply, key)]
        if calendar is not None:
            deliveries.append(Delivery(address, calendar, f"{key}:ics"))
        return Answer(deliveries=tuple(deliveries))

    # Commands -----------------------------------------------------------------

    def agenda(self, turn: Turn) -> Answer:
        """/agenda [data]: the day's calls, per operator."""
        words = turn.inbound.text.split()[1:]
        today = turn.now.astimezone(turn.settings.zone).date()
        day = parse_day(words[0], today) if words else today
        if day is None:
            return say(_("Non capisco la data. Scrivi per esempio /agenda domani o /agenda 24/12."))
        return say(agenda_text(turn.session, self.setup, day, turn.settings.zone))

    def absence(self, turn: Turn) -> Answer:
        """/assenza [operatore] giorno [giorno]: an operator's days away."""
        words = turn.inbound.text.split()[1:]
        me = turn.inbound.sender.platform_id
        operator = self.setup.operator_by_telegram(me or 0)
        if words and words[0].lower() in {o.id for o in self.setup.operators}:
            operator = self.setup.operator(words.pop(0).lower())
        if not words:
            return self._absences(turn)
        if operator is None:
            return say(
                _(
                    "Non sei tra gli operatori delle richiamate: indica chi è assente, per "
                    "esempio /assenza {operator} 24/12."
                ).format(operator=self.setup.operators[0].id)
            )
        today = turn.now.astimezone(turn.settings.zone).date()
        span = parse_range(words, today)
        if span is None:
            return say(
                _(
                    "Non capisco le date. Scrivi per esempio /assenza 24/12 oppure "
                    "/assenza 24/12 28/12."
                )
            )
        first, last = span
        turn.session.add(
            Absence(
                operator_id=operator.telegram_id,
                first_day=first,
                last_day=last,
                created_by=me or 0,
                created_at=turn.now,
            )
        )
        flagged = self._flag_calls(turn, operator.telegram_id, first, last)
        done = _("Segnato: {name} assente dal {first} al {last}.").format(
            name=operator.name, first=format_date(first), last=format_date(last)
        )
        moved = ngettext(
            "{count} chiamata già fissata è stata segnalata agli altri.",
            "{count} chiamate già fissate sono state segnalate agli altri.",
            len(flagged),
        ).format(count=len(flagged))
        return say(done + " " + moved) + Answer(deliveries=flagged)

    def _flag_calls(
        self, turn: Turn, operator: int, first: date, last: date
    ) -> tuple[Delivery, ...]:
        zone = turn.settings.zone
        begin = datetime.combine(first, datetime.min.time(), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        query = select(Booking).where(
            Booking.operator_id == operator,
            Booking.status == booking_store.CONFIRMED,
            Booking.starts_at >= max(begin, turn.now),
            Booking.starts_at < end,
        )
        deliveries: tuple[Delivery, ...] = ()
        for booking in turn.session.scalars(query):
            booking.updated_at = turn.now
            deliveries += cards(
                turn.session, turn.settings, turn.signer, self.setup, booking, "absent"
            )
        return deliveries

    def _absences(self, turn: Turn) -> Answer:
        today = turn.now.astimezone(turn.settings.zone).date()
        query = select(Absence).where(Absence.last_day >= today).order_by(Absence.first_day)
        found = list(turn.session.scalars(query))
        usage = _(
            "Per segnare un'assenza: /assenza 24/12, /assenza 24/12 28/12, /assenza giulia 24/12."
        )
        if not found:
            return say(_("Nessuna assenza in programma.") + "\n" + usage)
        lines = [
            _("{name}: dal {first} al {last}").format(
                name=operator_name(turn.session, self.setup, a.operator_id),
                first=format_date(a.first_day),
                last=format_date(a.last_day),
            )
            for a in found
        ]
        buttons = [
            turn.button(_("🗑 Togli: {line}").format(line=line)[:60], "bka_del", a.id)
            for a, line in zip(found, lines, strict=True)
        ]
        return say(join([bold(_("Assenze in programma")), *lines, usage]), buttons=rows(*buttons))

    def on_absence_delete(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        if not turn.is_staff:
            return replies.staff_only(turn)
        absence = turn.session.get(Absence, int(args[0])) if args and args[0].isdigit() else None
        if absence is None:
            raise Stale
        turn.session.delete(absence)
        return say(_("Assenza tolta."), replace=True)


def agenda_text(session: Session, setup: BookingSetup, day: date, zone: ZoneInfo) -> Rich:
    calls = booking_store.day_calls(session, day, zone)
    title = bold(_("Agenda di {day}").format(day=format_day(day)))
    if not calls:
        return join([title, _("Nessuna chiamata.")])
    lines: list[Rich | str] = [title]
    for operator in sorted({c.operator_id for c in calls}):
        lines.append(bold(operator_name(session, setup, operator)))
        lines += [_agenda_line(session, setup, c) for c in calls if c.operator_id == operator]
    return join(lines)


def _agenda_line(session: Session, setup: BookingSetup, booking: Booking) -> str:
    user = session.get(User, booking.user_id)
    topic = setup.topic(booking.topic)
    mark = {booking_store.DONE: " ✅", booking_store.NO_ANSWER: " 📵"}.get(booking.status, "")
    parts = [
        f"{format_time(booking.starts_at)} {'📞' if booking.mode == 'phone' else '🎥'}",
        (user.name if user else "") or "—",
        readable_phone(booking.phone) if booking.phone else "—",
        topic.label.get(current_locale()) if topic else booking.topic,
    ]
    line = " · ".join(parts) + mark
    return line + (f" — {booking.note}" if booking.note else "")


def queue_agendas(session: Session, settings: Settings, setup: BookingSetup, now: datetime) -> int:
    """Each operator's calls of the day, once, from the morning's agenda time."""
    zone = settings.zone
    local = now.astimezone(zone)
    if local.time() < setup.agenda_time:
        return 0
    calls = booking_store.day_calls(session, local.date(), zone)
    queued = 0
    for operator in sorted({c.operator_id for c in calls if c.status == booking_store.CONFIRMED}):
        address = Address("telegram", str(operator))
        with use_locale(staff_locale(session, settings, address), zone):
            agenda = Reply(agenda_text(session, setup, local.date(), zone))
        key = f"agenda:{operator}:{local.date().isoformat()}"
        queued += outbox.enqueue(session, Delivery(address, agenda, key), now)
    return queued


def commands(setup: BookingSetup) -> dict[str, Command]:
    desk = StaffDesk(setup)
    return {
        "agenda": Command(desk.agenda, staff=True, description=N_AGENDA),
        "assenza": Command(desk.absence, staff=True, description=N_ABSENCE),
    }


def buttons(setup: BookingSetup) -> dict[str, ButtonHandler]:
    desk = StaffDesk(setup)
    handlers: dict[str, Callable[[Turn, tuple[str, ...]], Answer]] = {
        "bks_take": desk.on_take,
        "bks_done": desk.on_done,
        "bks_noanswer": desk.on_no_answer,
        "bks_cancel": desk.on_cancel,
        "bks_cancel_yes": desk.on_cancel_yes,
        "bks_show": desk.on_show,
        "bka_del": desk.on_absence_delete,
    }
    return {action: _staff_only(handler) for action, handler in handlers.items()}


def _staff_only(handler: ButtonHandler) -> ButtonHandler:
    """Card buttons can be pressed by anyone in the staff group: only staff may act."""

    def guarded(turn: Turn, args: tuple[str, ...]) -> Answer:
        if not turn.is_staff:
            return replies.staff_only(turn)
        return handler(turn, args)

    return guarded


class MorningAgenda:
    """The periodic job that queues each operator's agenda once a day."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        setup: BookingSetup,
        clock: Callable[[], datetime],
    ) -> None:
        self.database, self.settings, self.setup, self.clock = database, settings, setup, clock

    async def run(self) -> int:
        return await asyncio.to_thread(self._queue)

    def _queue(self) -> int:
        with self.database.transaction() as session:
            return queue_agendas(session, self.settings, self.setup, self.clock())
