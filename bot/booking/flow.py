"""Callback booking in the chat: topic, call or video, day, time, phone, note, confirm."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.basics import privacy
from bot.booking import staff as booking_staff
from bot.booking import store as booking_store
from bot.booking.calendar import describe, ics_for
from bot.booking.phone import BadPhone, normalise_phone, readable_phone
from bot.booking.setup import BookingSetup
from bot.booking.slots import Calendar, days_with_offers, nearest, offers_on
from bot.booking.store import Request
from bot.core import menu
from bot.core.turn import Command, Feature, Stale, Turn
from bot.delivery.reminders import Due
from bot.storage.models import Booking
from bot.values.i18n import _, current_locale, format_day, format_moment, format_time, ngettext
from bot.values.markup import Rich, bold, join, text
from bot.values.messages import Answer, Button, Kind, Outbound, Reply, rows, say

FLOW = "booking"
STAMP = "%Y%m%d%H%M"  # a slot's start in button data, UTC
MAX_NOTE = 500


def stamp_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def parse_stamp(value: str) -> datetime:
    try:
        return datetime.strptime(value, STAMP).replace(tzinfo=UTC)
    except ValueError:
        raise Stale from None


def shared(phone: str) -> str:
    """Telegram sends a shared contact's number without the "+" of its country code."""
    return phone if phone.startswith(("+", "00")) else "+" + phone


class BookingDesk:
    def __init__(self, setup: BookingSetup) -> None:
        self.setup = setup

    # Entry ----------------------------------------------------------------------

    def open(self, turn: Turn, args: tuple[str, ...] = ()) -> Answer:
        """From the menu, /richiamata, the FAQ or the survey: consent, then the topic."""
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "callback")
        booked = booking_store.future_bookings(turn.session, turn.user.id, turn.now)
        if len(booked) >= self.setup.max_future_bookings:
            limit = ngettext(
                "Hai già {count} richiamata in programma, il massimo. Puoi spostarla o annullarla:",
                "Hai già {count} richiamate in programma, il massimo. Puoi spostarne o "
                "annullarne una:",
                len(booked),
            ).format(count=len(booked))
            return say(limit) + self._cards(turn, booked)
        booking_store.release_holds(turn.session, turn.user.id)
        turn.start_flow(FLOW, "topic")
        topic = args[0] if args and self.setup.topic(args[0]) else None
        return self._after_topic(turn, topic) if topic else self.ask_topic(turn)

    def ask_topic(self, turn: Turn) -> Answer:
        locale = current_locale()
        buttons = [turn.button(t.label.get(locale), "bk_topic", t.id) for t in self.setup.topics]
        return say(
            _("Fissiamo una richiamata con lo staff. Di cosa vuoi parlare?"),
            buttons=rows(*buttons, self._cancel_button(turn)),
        )

    def on_topic(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        self._in_flow(turn)
        topic = args[0] if args else ""
        if self.setup.topic(topic) is None:
            raise Stale
        return self._after_topic(turn, topic)

    def _after_topic(self, turn: Turn, topic: str) -> Answer:
        turn.remember(topic=topic)
        if len(self.setup.modes) == 1:
            return self._after_mode(turn, self.setup.modes[0])
        turn.conversation.step = "mode"
        return say(
            _("Preferisci una telefonata o una videochiamata?"),
            buttons=rows(
                turn.button(_("📞 Telefonata"), "bk_mode", "phone"),
                turn.button(_("🎥 Videochiamata"), "bk_mode", "video"),
                self._cancel_button(turn),
            ),
            replace=True,
        )

    def on_mode(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        self._in_flow(turn)
        mode = args[0] if args else ""
        if mode not in self.setup.modes:
            raise Stale
        return self._after_mode(turn, mode)

    def _after_mode(self, turn: Turn, mode: str) -> Answer:
        turn.remember(mode=mode)
        return self.ask_day(turn)

    # Day and time -------------------------------------------------------------

    def ask_day(self, turn: Turn, intro: str | None = None) -> Answer:
        turn.conversation.step = "day"
        booking_store.release_holds(turn.session, turn.user.id)
        topic = turn.conversation.data.get("topic", "")
        calendar_ = self._calendar(turn)
        days = days_with_offers(self.setup, topic, calendar_, turn.now, turn.settings.zone)
        if not days:
            turn.end_flow()
            return say(
                _(
                    "Mi dispiace, nei prossimi giorni non ci sono orari liberi per questo "
                    "argomento. Riprova tra qualche giorno, oppure chiama la Società Mutua "
                    "Piemonte in orario d'ufficio."
                ),
                buttons=menu.menu_button(turn),
            )
        buttons = [turn.button(format_day(day), "bk_day", day.isoformat()) for day in days]
        question = _("Quale giorno ti va bene? (orari di Roma)")
        texts = [intro, question] if intro else [question]
        return say(*texts, buttons=rows(*buttons, self._cancel_button(turn)))

    def on_day(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        self._in_flow(turn)
        try:
            day = date.fromisoformat(args[0] if args else "")
        except ValueError:
            raise Stale from None
        return self.ask_time(turn, day)

    def ask_time(self, turn: Turn, day: date, intro: str | None = None) -> Answer:
        turn.conversation.step = "time"
        topic = turn.conversation.data.get("topic", "")
        offers = offers_on(
            self.setup, topic, day, self._calendar(turn), turn.now, turn.settings.zone
        )
        if not offers:
            return self.ask_day(turn, _("Quel giorno non ha più orari liberi."))
        times = [turn.button(format_time(o.start), "bk_time", stamp_of(o.start)) for o in offers]
        question = _("{day}: a che ora?").format(day=format_day(day).capitalize())
        texts = [intro, question] if intro else [question]
        keyboard = (*rows(*times, per_row=4), (turn.button(_("◀️ Altri giorni"), "bk_days"),))
        return say(*texts, buttons=keyboard)

    def on_days(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        self._in_flow(turn)
        return self.ask_day(turn)

    def on_time(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """Holds the chosen time; if someone was quicker, offers the nearest free ones."""
        data = self._in_flow(turn)
        start = parse_stamp(args[0] if args else "")
        request = Request(turn.user.id, data.get("topic", ""), data.get("mode", "phone"), start)
        held = booking_store.hold(turn.session, self.setup, request, turn.now, turn.settings.zone)
        if held is None:
            return self._taken(turn, start)
        turn.remember(booking=held.id)
        if data.get("phone"):  # moving a booking: same number and note
            return self.summary(turn)
        return self.ask_phone(turn)

    def _taken(self, turn: Turn, start: datetime) -> Answer:
        zone = turn.settings.zone
        day = start.astimezone(zone).date()
        topic = turn.conversation.data.get("topic", "")
        offers = offers_on(self.setup, topic, day, self._calendar(turn), turn.now, zone)
        sorry = _("Mi dispiace, quell'orario non è più libero.")
        if not offers:
            return self.ask_day(turn, sorry)
        closest = nearest(offers, start)
        turn.conversation.step = "time"
        buttons = [
            turn.button(format_moment(o.start), "bk_time", stamp_of(o.start)) for o in closest
        ]
        return say(
            sorry + " " + _("Questi sono gli orari liberi più vicini:"),
            buttons=rows(*buttons, turn.button(_("◀️ Altri giorni"), "bk_days")),
        )

    # Phone and note -------------------------------------------------------------

    def ask_phone(self, turn: Turn, problem: str | None = None) -> Answer:
        turn.conversation.step = "phone"
        known = turn.inbound.sender.phone
        if known:  # the channel has the number (WhatsApp): confirm it or type another
            question = _("Ti chiamiamo a questo numero? Se preferisci un altro, scrivilo.")
            use = _("📱 Usa {phone}").format(phone=readable_phone(shared(known)))
            texts = [problem, question] if problem else [question]
            return say(*texts, buttons=rows(turn.button(use, "bk_phone")))
        question = _(
            "A quale numero ti chiamiamo? Premi il pulsante qui sotto per condividere il tuo "
            "numero, oppure scrivilo (per esempio 333 123 4567)."
        )
        texts = [problem, question] if problem else [question]
        replies = say(*texts).replies
        last = replies[-1]
        assert isinstance(last, Reply)
        share = Reply(last.text, request_contact=_("📱 Condividi il mio numero"))
        return Answer((*replies[:-1], share))

    def on_known_phone(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        """The number the channel knows, confirmed with a tap."""
        self._in_flow(turn)
        known = turn.inbound.sender.phone
        if turn.conversation.step != "phone" or not known:
            raise Stale
        return self._accept_phone(turn, shared(known))

    def on_text(self, turn: Turn) -> Answer:
        """Text or a contact while booking: the phone number or the note, else a nudge."""
        step = turn.conversation.step
        if step == "phone":
            return self._on_phone(turn)
        if step == "note" and turn.inbound.kind is Kind.TEXT:
            return self._on_note(turn, turn.inbound.text.strip())
        return say(
            _("Usa i pulsanti qui sopra per continuare, oppure scrivi /annulla per uscire."),
        )

    def _on_phone(self, turn: Turn) -> Answer:
        inbound = turn.inbound
        if inbound.kind is Kind.CONTACT and inbound.contact is not None:
            if inbound.contact.owner_id != inbound.sender.id:
                return self.ask_phone(
                    turn, _("Questo contatto non è il tuo: condividi il tuo numero o scrivilo.")
                )
            return self._accept_phone(turn, shared(inbound.contact.phone))
        return self._accept_phone(turn, inbound.text)

    def _accept_phone(self, turn: Turn, typed: str) -> Answer:
        try:
            phone = normalise_phone(typed)
        except BadPhone:
            return self.ask_phone(
                turn,
                _(
                    "Non riesco a leggere questo numero. Scrivilo con il prefisso se non è "
                    "italiano, per esempio 333 123 4567 oppure +33 6 12 34 56 78."
                ),
            )
        turn.remember(phone=phone)
        turn.conversation.step = "note"
        thanks = _("Grazie, ti chiameremo al {phone}.").format(phone=readable_phone(phone))
        return Answer((Reply(text(thanks), close_keyboard=True),)) + say(
            _("Vuoi lasciare una nota per chi ti chiamerà? Scrivila qui sotto."),
            buttons=rows(turn.button(_("Nessuna nota"), "bk_nonote")),
        )

    def on_no_note(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        self._in_flow(turn)
        if turn.conversation.step != "note":
            raise Stale
        return self._on_note(turn, "")

    def _on_note(self, turn: Turn, note: str) -> Answer:
        if len(note) > MAX_NOTE:
            return say(
                _("La nota è lunga: stai entro {count} caratteri, per favore.").format(
                    count=MAX_NOTE
                )
            )
        turn.remember(note=note)
        return self.summary(turn)

    # Summary and confirmation ---------------------------------------------------

    def summary(self, turn: Turn) -> Answer:
        data = turn.conversation.data
        booking = booking_store.held_by(turn.session, turn.user.id, data.get("booking"))
        if booking is None:
            return self.ask_day(turn, _("Il tempo per confermare è scaduto: scegli di nuovo."))
        turn.conversation.step = "summary"
        booking.phone, booking.note = data.get("phone", ""), data.get("note", "")
        lines: list[Rich | str] = [
            bold(_("Ecco la tua richiamata:")),
            describe(booking, self.setup),
        ]
        moving = booking_store.own_booking(turn.session, turn.user.id, data.get("moving"), turn.now)
        if moving is not None:
            lines.append(
                _("Al posto di quella di {moment}.").format(moment=format_moment(moving.starts_at))
            )
        lines.append(
            ngettext(
                "Tengo l'orario per te per {minutes} minuto: conferma per fissarlo.",
                "Tengo l'orario per te per {minutes} minuti: conferma per fissarlo.",
                self.setup.hold_minutes,
            ).format(minutes=self.setup.hold_minutes)
        )
        return say(
            join(lines),
            buttons=rows(
                turn.button(_("✅ Conferma"), "bk_confirm"),
                turn.button(_("🕑 Cambia orario"), "bk_days"),
                self._cancel_button(turn),
            ),
        )

    def on_confirm(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        data = self._in_flow(turn)
        if turn.conversation.step != "summary":
            raise Stale
        booking = booking_store.held_by(turn.session, turn.user.id, data.get("booking"))
        if booking is None or booking.starts_at <= turn.now:
            return self.ask_day(turn, _("Il tempo per confermare è scaduto: scegli di nuovo."))
        moving = booking_store.own_booking(turn.session, turn.user.id, data.get("moving"), turn.now)
        booked = booking_store.future_bookings(turn.session, turn.user.id, turn.now)
        if moving is None and len(booked) >= self.setup.max_future_bookings:
            turn.end_flow()
            booking_store.release_holds(turn.session, turn.user.id)
            return say(_("Hai già il massimo di richiamate in programma.")) + self._cards(
                turn, booked
            )
        booking.phone, booking.note = data.get("phone", ""), data.get("note", "")
        booking_store.confirm(turn.session, booking, turn.now)
        event = "new"
        if moving is not None:
            booking.replaces_id = moving.id
            booking_store.close(turn.session, moving, booking_store.MOVED, turn.now, "user")
            event = "moved"
        turn.end_flow()
        done = _("Fatto! Ti chiameremo {moment}.").format(moment=format_moment(booking.starts_at))
        reminder = _("Ti ricorderò la chiamata il giorno prima e un'ora prima.")
        confirmation = Reply(
            join([bold(done), describe(booking, self.setup), reminder]),
            self._booking_buttons(turn, booking),
        )
        staff = booking_staff.announce(turn, self.setup, booking, event)
        calendar = ics_for(booking, self.setup, turn.now, replaces=moving)
        return Answer((confirmation, calendar), staff.deliveries)

    # The user's bookings ------------------------------------------------------

    def list_bookings(self, turn: Turn) -> Answer:
        """/prenotazioni: the user's future calls, each with move and cancel."""
        booked = booking_store.future_bookings(turn.session, turn.user.id, turn.now)
        if not booked:
            return say(
                _("Non hai richiamate in programma."),
                buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            )
        return self._cards(turn, booked)

    def _cards(self, turn: Turn, booked: list[Booking]) -> Answer:
        cards: list[Outbound] = [
            Reply(describe(b, self.setup), self._booking_buttons(turn, b)) for b in booked
        ]
        return Answer(tuple(cards))

    def _booking_buttons(self, turn: Turn, booking: Booking) -> tuple[tuple[Button, ...], ...]:
        return rows(
            turn.button(_("🕑 Sposta"), "bk_move", booking.id),
            turn.button(_("✖️ Annulla la richiamata"), "bk_cancel", booking.id),
            per_row=2,
        )

    def on_move(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._own(turn, args)
        turn.start_flow(
            FLOW,
            "day",
            {
                "moving": booking.id,
                "topic": booking.topic,
                "mode": booking.mode,
                "phone": booking.phone,
                "note": booking.note,
            },
        )
        intro = _("Spostiamo la richiamata di {moment}.").format(
            moment=format_moment(booking.starts_at)
        )
        return self.ask_day(turn, intro)

    def on_cancel(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._own(turn, args)
        return say(
            _("Vuoi annullare la richiamata di {moment}?").format(
                moment=format_moment(booking.starts_at)
            ),
            buttons=rows(
                turn.button(_("Sì, annulla"), "bk_cancel_yes", booking.id),
                turn.button(_("No, la tengo"), "bk_keep"),
            ),
            replace=True,
        )

    def on_cancel_yes(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        booking = self._own(turn, args)
        booking_store.close(turn.session, booking, booking_store.CANCELLED, turn.now, "user")
        staff = booking_staff.announce(turn, self.setup, booking, "cancelled")
        answer = say(
            _("Richiamata annullata. Se ti serve, puoi fissarne un'altra quando vuoi."),
            buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            replace=True,
        )
        calendar = ics_for(booking, self.setup, turn.now, cancelled=True)
        return answer + Answer((calendar,)) + staff

    def on_keep(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        return say(
            _("Bene, la richiamata resta com'è."), buttons=menu.menu_button(turn), replace=True
        )

    def _own(self, turn: Turn, args: tuple[str, ...]) -> Booking:
        booking = booking_store.own_booking(
            turn.session, turn.user.id, args[0] if args else "", turn.now
        )
        if booking is None:
            raise Stale
        return booking

    # Leaving ------------------------------------------------------------------

    def cancel_flow(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        """/annulla or ✖️ while booking: the held time is let go."""
        booking_store.release_holds(turn.session, turn.user.id)
        turn.end_flow()
        return menu.show(turn, _("Va bene, nessuna richiamata fissata."))

    def _cancel_button(self, turn: Turn) -> Button:
        return turn.button(_("✖️ Annulla"), "cancel_booking")

    def _in_flow(self, turn: Turn) -> dict[str, Any]:
        if turn.conversation.flow != FLOW:
            raise Stale
        return dict(turn.conversation.data)

    def _calendar(self, turn: Turn) -> Calendar:
        zone = turn.settings.zone
        today = turn.now.astimezone(zone).date()
        last = today + timedelta(days=self.setup.horizon_days)
        return booking_store.load_calendar(turn.session, today, last, turn.now, zone)

    def forget(self, turn: Turn) -> Answer:
        """Before erasure: the person's future calls are off, and staff are told."""
        booking_store.release_holds(turn.session, turn.user.id)
        answer = Answer()
        for booking in booking_store.future_bookings(turn.session, turn.user.id, turn.now):
            booking_store.close(turn.session, booking, booking_store.CANCELLED, turn.now, "user")
            answer += booking_staff.announce(turn, self.setup, booking, "erased")
        return answer

    # Reminders ------------------------------------------------------------------

    def remind(self, due: Due) -> Outbound | None:
        """A booking's reminder, or nothing if the booking no longer stands."""
        booking = booking_store.booking_of(due.session, due.reminder.ref)
        if booking is None or booking.status != booking_store.CONFIRMED:
            return None
        if due.reminder.kind == "booking_1h":
            head = _("Tra poco ti chiamiamo: {time}.").format(time=format_time(booking.starts_at))
        else:
            head = _("Promemoria: ti chiamiamo {moment}.").format(
                moment=format_moment(booking.starts_at)
            )
        move = due.signer.pack("bk_move", booking.id)
        cancel = due.signer.pack("bk_cancel", booking.id)
        buttons = rows(
            Button(_("🕑 Sposta"), move), Button(_("✖️ Annulla la richiamata"), cancel), per_row=2
        )
        return Reply(join([bold(head), describe(booking, self.setup)]), buttons)


def feature(setup: BookingSetup) -> Feature:
    desk = BookingDesk(setup)
    return Feature(
        name=FLOW,
        commands={
            **booking_staff.commands(setup),
            "richiamata": Command(lambda turn: desk.open(turn)),
            "prenotazioni": Command(desk.list_bookings),
        },
        buttons={
            "callback": desk.open,
            "bk_topic": desk.on_topic,
            "bk_mode": desk.on_mode,
            "bk_day": desk.on_day,
            "bk_days": desk.on_days,
            "bk_time": desk.on_time,
            "bk_nonote": desk.on_no_note,
            "bk_phone": desk.on_known_phone,
            "bk_confirm": desk.on_confirm,
            "bk_move": desk.on_move,
            "bk_cancel": desk.on_cancel,
            "bk_cancel_yes": desk.on_cancel_yes,
            "bk_keep": desk.on_keep,
            "cancel_booking": desk.cancel_flow,
            **booking_staff.buttons(setup),
        },
        flow=desk.on_text,
        reminders={"booking_24h": desk.remind, "booking_1h": desk.remind},
        forget=desk.forget,
    )
