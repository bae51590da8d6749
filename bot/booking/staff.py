"""Bookings for staff: a card per booking in the staff chat, and what staff do on a card."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.booking import store as booking_store
from bot.booking.calendar import ics_for
from bot.booking.phone import readable_phone
from bot.booking.setup import BookingSetup
from bot.config import Settings
from bot.core import replies
from bot.core.turn import ButtonHandler, Stale, Turn
from bot.delivery import alerts
from bot.storage.models import Booking, User
from bot.values.i18n import N_, _, current_locale, format_moment, use_locale
from bot.values.markup import Rich, bold, join, text
from bot.values.messages import Address, Answer, Button, Delivery, Keyboard, Reply, rows
from bot.values.payload import Signer

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
    if booking.mode == "video":
        link = setup.video_link_of(booking.operator_id, booking.room)
        lines.append(_("Link della videochiamata: {link}").format(link=link))
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


def erased_text(session: Session, setup: BookingSetup, booking: Booking) -> Rich:
    """The call staff no longer make, without a word about the person (they asked for that)."""
    how = _("📞 Telefonata") if booking.mode == "phone" else _("🎥 Videochiamata")
    return join(
        [
            bold(_(HEADS["erased"])),
            bold(f"{format_moment(booking.starts_at)} · {how}"),
            _("Operatore: {name}").format(name=operator_name(session, setup, booking.operator_id)),
        ]
    )


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
    """The booking's card for the staff chat (or each staff member), in their language.

    A card carries the person's data, and says so (`about`); the one telling staff that the
    person erased their data carries none."""
    deliveries = []
    erased = event == "erased"
    for address in alerts.staff_addresses(settings):
        with use_locale(staff_locale(session, settings, address), settings.zone):
            card = (
                Reply(erased_text(session, setup, booking))
                if erased
                else Reply(
                    card_text(session, setup, booking, HEADS[event]),
                    card_buttons(signer, booking),
                )
            )
        key = f"booking:{booking.id}:{event}:{booking.updated_at.timestamp():.0f}:{address.chat_id}"
        about = None if erased else booking.user_id
        deliveries.append(Delivery(address, card, key, about=about))
    return tuple(deliveries)


def announce(turn: Turn, setup: BookingSetup, booking: Booking, event: str) -> Answer:
    """Tells staff about a new, moved or cancelled booking."""
    return Answer(deliveries=cards(turn.session, turn.settings, turn.signer, setup, booking, event))


class StaffCards:
    def __init__(self, setup: BookingSetup) -> None:
        self.setup = setup

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
        me = self._me(turn)
        if me is None:  # on WhatsApp, staff who are not an operator
            return Answer(notice=_("Solo gli operatori possono prendere una chiamata."))
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

    def _me(self, turn: Turn) -> int | None:
        """The staff member's Telegram id, or that of the operator they are on WhatsApp."""
        sender = turn.inbound.sender
        if sender.platform_id is not None:
            return sender.platform_id
        ids = {sender.id, (sender.phone or "").lstrip("+"), *sender.aliases}
        operator = self.setup.operator_by_whatsapp(ids)
        return operator.telegram_id if operator else None

    def _close_as(self, turn: Turn, booking: Booking, status: str) -> None:
        booking.taken_by = self._me(turn)
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
                ics_for(booking, self.setup, turn.now, turn.settings.uid_domain, cancelled=True)
                if with_calendar
                else None
            )
        address = Address(user.channel, user.chat_id)
        key = f"booking:{booking.id}:{event}"
        deliveries = [Delivery(address, reply, key)]
        if calendar is not None:
            deliveries.append(Delivery(address, calendar, f"{key}:ics"))
        return Answer(deliveries=tuple(deliveries))


def staff_only(handler: ButtonHandler) -> ButtonHandler:
    """Card buttons can be pressed by anyone in the staff group: only staff may act."""

    def guarded(turn: Turn, args: tuple[str, ...]) -> Answer:
        if not turn.is_staff:
            return replies.staff_only(turn)
        return handler(turn, args)

    return guarded
