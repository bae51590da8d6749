"""Callback booking in the chat, once a time is chosen: hold it, phone, note, confirm."""

from __future__ import annotations

from datetime import date

from bot.booking import staff as booking_staff
from bot.booking import store as booking_store
from bot.booking.calendar import describe, ics_for
from bot.booking.card import cards, move_or_cancel
from bot.booking.flow import (
    BookingFlow,
    back_button,
    cancel_button,
    in_flow,
    parse_stamp,
    stamp_of,
)
from bot.booking.phone import BadPhone, CostlyPhone, normalise_phone, readable_phone
from bot.booking.setup import BookingSetup
from bot.booking.store import Request
from bot.core.turn import Stale, Turn
from bot.values.choices import choose
from bot.values.i18n import _, format_moment, format_time, ngettext
from bot.values.markup import Rich, bold, join, text
from bot.values.messages import Answer, Kind, Reply, rows, say, typed

MAX_NOTE = 500


def shared(phone: str) -> str:
    """Telegram sends a shared contact's number without the "+" of its country code."""
    return phone if phone.startswith(("+", "00")) else "+" + phone


class BookingDetails:
    def __init__(self, setup: BookingSetup, flow: BookingFlow) -> None:
        self.setup, self.flow = setup, flow

    # The time -------------------------------------------------------------------

    def on_time(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """Holds the chosen time; if someone was quicker, offers the nearest free ones."""
        data = in_flow(turn)
        start = parse_stamp(args[0] if args else "")
        request = Request(turn.user.id, data.get("topic", ""), data.get("mode", "phone"), start)
        held = booking_store.hold(turn.session, self.setup, request, turn.now, turn.settings.zone)
        if held is None:
            return self.flow.taken(turn, start)
        turn.remember(booking=held.id)
        if data.get("phone"):  # moving a booking: same number and note
            return self.summary(turn)
        return self.ask_phone(turn)

    # Phone and note -------------------------------------------------------------

    def ask_phone(self, turn: Turn, problem: str | None = None) -> Answer:
        turn.conversation.step = "phone"
        known = turn.inbound.sender.phone
        if known:  # the channel has the number (WhatsApp): confirm it or type another
            question = _("Ti chiamiamo a questo numero? Se preferisci un altro, scrivilo.")
            use = _("📱 Usa {phone}").format(phone=readable_phone(shared(known)))
            texts = [problem, question] if problem else [question]
            keyboard = rows(turn.button(use, "bk_phone"), back_button(turn))
            return typed(say(*texts, buttons=keyboard))
        question = _(
            "A quale numero ti chiamiamo? Premi il pulsante qui sotto per condividere il tuo "
            "numero, oppure scrivilo (per esempio 333 123 4567)."
        )
        texts = [problem, question] if problem else [question]
        replies = say(*texts).replies
        last = replies[-1]
        assert isinstance(last, Reply)
        share = Reply(last.text, request_contact=_("📱 Condividi il mio numero"))
        # The share key takes the message's keyboard: the way back goes in a note below it.
        back = Reply(text(_("Vuoi cambiare qualcosa prima?")), rows(back_button(turn)), typed=True)
        return Answer((*replies[:-1], share, back))

    def on_known_phone(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        """The number the channel knows, confirmed with a tap."""
        in_flow(turn)
        known = turn.inbound.sender.phone
        if turn.conversation.step != "phone" or not known:
            raise Stale
        return self._accept_phone(turn, shared(known))

    def on_text(self, turn: Turn) -> Answer:
        """Text or a contact while booking: the phone number, the note, a choice typed
        instead of pressed, else a nudge."""
        step = turn.conversation.step
        if step == "phone":
            return self._on_phone(turn)
        if step == "note" and turn.inbound.kind is Kind.TEXT:
            return self._on_note(turn, turn.inbound.text.strip())
        if turn.inbound.kind is Kind.TEXT:
            typed = turn.inbound.text
            chosen = self._typed_time(turn, typed) or self.flow.typed_choice(turn, typed)
            if chosen is not None:
                return chosen
        return say(
            _("Usa i pulsanti qui sopra per continuare, oppure scrivi /annulla per uscire."),
        )

    def _typed_time(self, turn: Turn, typed: str) -> Answer | None:
        """A time typed at the time step ("10:30", "10.30"), as if pressed."""
        day = turn.conversation.data.get("day")
        if turn.conversation.step != "time" or not day:
            return None
        offers = self.flow.times_on_offer(turn, date.fromisoformat(day))
        stamp = choose(typed, [(format_time(o.start), stamp_of(o.start)) for o in offers])
        return self.on_time(turn, (stamp,)) if stamp else None

    def on_back(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        """⬅️ at each step: the question before."""
        in_flow(turn)
        step = turn.conversation.step or ""
        if step == "note":
            return self.ask_phone(turn)
        if step not in ("mode", "day", "time", "phone"):
            raise Stale
        return self.flow.back_to(turn, step)

    def on_fix(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """From the summary: a new number or a new note, then the summary again."""
        in_flow(turn)
        if turn.conversation.step != "summary" or args[:1] not in (("phone",), ("note",)):
            raise Stale
        return self.ask_phone(turn) if args[0] == "phone" else self.ask_note(turn)

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
        except CostlyPhone:
            return self.ask_phone(
                turn,
                _(
                    "Questo è un numero a pagamento o a costo condiviso (come 899, 892, 166, "
                    "144): non possiamo chiamarlo. Scrivi un numero di cellulare o di rete fissa."
                ),
            )
        except BadPhone:
            return self.ask_phone(
                turn,
                _(
                    "Non riesco a leggere questo numero. Scrivilo con il prefisso se non è "
                    "italiano, per esempio 333 123 4567 oppure +33 6 12 34 56 78."
                ),
            )
        turn.remember(phone=phone)
        thanks = _("Grazie, ti chiameremo al {phone}.").format(phone=readable_phone(phone))
        closed = Answer((Reply(text(thanks), close_keyboard=True),))
        if "note" in turn.conversation.data:  # a new number from the summary
            return closed + self.summary(turn)
        return closed + self.ask_note(turn)

    def ask_note(self, turn: Turn) -> Answer:
        turn.conversation.step = "note"
        return typed(
            say(
                _("Vuoi lasciare una nota per chi ti chiamerà? Scrivila qui sotto."),
                buttons=rows(turn.button(_("Nessuna nota"), "bk_nonote"), back_button(turn)),
            )
        )

    def on_no_note(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        in_flow(turn)
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
            return self.flow.ask_day(turn, _("Il tempo per confermare è scaduto: scegli di nuovo."))
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
                turn.button(_("📱 Cambia numero"), "bk_fix", "phone"),
                turn.button(_("📝 Cambia nota"), "bk_fix", "note"),
                cancel_button(turn),
            ),
        )

    def on_confirm(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        data = in_flow(turn)
        if turn.conversation.step != "summary":
            raise Stale
        booking = booking_store.held_by(turn.session, turn.user.id, data.get("booking"))
        if booking is None or booking.starts_at <= turn.now:
            return self.flow.ask_day(turn, _("Il tempo per confermare è scaduto: scegli di nuovo."))
        moving = booking_store.own_booking(turn.session, turn.user.id, data.get("moving"), turn.now)
        booked = booking_store.future_bookings(turn.session, turn.user.id, turn.now)
        if moving is None and len(booked) >= self.setup.max_future_bookings:
            turn.end_flow()
            booking_store.release_holds(turn.session, turn.user.id)
            return say(_("Hai già il massimo di richiamate in programma.")) + cards(
                turn.signer, self.setup, booked
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
            move_or_cancel(turn.signer, booking),
        )
        staff = booking_staff.announce(turn, self.setup, booking, event)
        domain = turn.settings.uid_domain
        calendar = ics_for(booking, self.setup, turn.now, domain, replaces=moving)
        return Answer((confirmation, calendar), staff.deliveries)
