"""Callback booking in the chat, up to the time: consent, topic, call or video, day, time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.basics import privacy
from bot.booking import store as booking_store
from bot.booking.card import cards
from bot.booking.setup import BookingSetup
from bot.booking.slots import Calendar, Offer, days_with_offers, nearest, offers_on
from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.values.choices import choose
from bot.values.i18n import _, current_locale, format_day, format_moment, format_time, ngettext
from bot.values.messages import Answer, Button, rows, say

FLOW = "booking"
STAMP = "%Y%m%d%H%M"  # a slot's start in button data, UTC


def stamp_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def parse_stamp(value: str) -> datetime:
    try:
        return datetime.strptime(value, STAMP).replace(tzinfo=UTC)
    except ValueError:
        raise Stale from None


def in_flow(turn: Turn) -> dict[str, Any]:
    """The answers so far; a button from a booking that is over is stale."""
    if turn.conversation.flow != FLOW:
        raise Stale
    return dict(turn.conversation.data)


def cancel_button(turn: Turn) -> Button:
    return turn.button(_("✖️ Annulla"), "cancel_booking")


def back_button(turn: Turn) -> Button:
    return turn.button(_("⬅️ Indietro"), "bk_back")


def capitalised(value: str) -> str:
    """The first letter in upper case, the rest as Babel wrote it ("Monday 7 December")."""
    return value[:1].upper() + value[1:]


class BookingFlow:
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
            return say(limit) + cards(turn.signer, self.setup, booked)
        booking_store.release_holds(turn.session, turn.user.id)
        turn.start_flow(FLOW, "topic")
        topic = args[0] if args and self.setup.topic(args[0]) else None
        return self._after_topic(turn, topic) if topic else self.ask_topic(turn)

    def ask_topic(self, turn: Turn) -> Answer:
        locale = current_locale()
        buttons = [turn.button(t.label.get(locale), "bk_topic", t.id) for t in self.setup.topics]
        return say(
            _("Fissiamo una richiamata con lo staff. Di cosa vuoi parlare?"),
            buttons=rows(*buttons, cancel_button(turn)),
        )

    def on_topic(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        in_flow(turn)
        topic = args[0] if args else ""
        if self.setup.topic(topic) is None:
            raise Stale
        return self._after_topic(turn, topic)

    def _after_topic(self, turn: Turn, topic: str) -> Answer:
        turn.remember(topic=topic)
        if len(self.setup.modes) == 1:
            return self._after_mode(turn, self.setup.modes[0])
        return self.ask_mode(turn)

    def ask_mode(self, turn: Turn) -> Answer:
        turn.conversation.step = "mode"
        return say(
            _("Preferisci una telefonata o una videochiamata?"),
            buttons=rows(
                *(turn.button(label, "bk_mode", mode) for mode, label in self.mode_labels()),
                back_button(turn),
                cancel_button(turn),
            ),
            replace=True,
        )

    def mode_labels(self) -> list[tuple[str, str]]:
        labels = {"phone": _("📞 Telefonata"), "video": _("🎥 Videochiamata")}
        return [(mode, labels[mode]) for mode in ("phone", "video") if mode in self.setup.modes]

    def on_mode(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        in_flow(turn)
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
        days = self.days_on_offer(turn)
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
        return say(*texts, buttons=rows(*buttons, back_button(turn), cancel_button(turn)))

    def days_on_offer(self, turn: Turn) -> list[date]:
        topic = turn.conversation.data.get("topic", "")
        calendar_ = self._calendar(turn)
        return days_with_offers(self.setup, topic, calendar_, turn.now, turn.settings.zone)

    def on_day(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        in_flow(turn)
        try:
            day = date.fromisoformat(args[0] if args else "")
        except ValueError:
            raise Stale from None
        return self.ask_time(turn, day)

    def ask_time(self, turn: Turn, day: date, intro: str | None = None) -> Answer:
        turn.conversation.step = "time"
        turn.remember(day=day.isoformat())
        offers = self.times_on_offer(turn, day)
        if not offers:
            return self.ask_day(turn, _("Quel giorno non ha più orari liberi."))
        times = [turn.button(format_time(o.start), "bk_time", stamp_of(o.start)) for o in offers]
        question = _("{day}: a che ora?").format(day=capitalised(format_day(day)))
        texts = [intro, question] if intro else [question]
        keyboard = (*rows(*times, per_row=4), (turn.button(_("◀️ Altri giorni"), "bk_days"),))
        return say(*texts, buttons=keyboard)

    def times_on_offer(self, turn: Turn, day: date) -> list[Offer]:
        topic = turn.conversation.data.get("topic", "")
        zone = turn.settings.zone
        return offers_on(self.setup, topic, day, self._calendar(turn), turn.now, zone)

    def on_days(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        in_flow(turn)
        return self.ask_day(turn)

    def back_to(self, turn: Turn, step: str) -> Answer:
        """The question before `step`, up to the time: a way back at each step."""
        if step == "mode" or (step == "day" and len(self.setup.modes) == 1):
            turn.conversation.step = "topic"
            return self.ask_topic(turn)
        if step == "day":
            return self.ask_mode(turn)
        if step == "time":
            return self.ask_day(turn)
        day = turn.conversation.data.get("day")
        return self.ask_time(turn, date.fromisoformat(day)) if day else self.ask_day(turn)

    def typed_choice(self, turn: Turn, typed: str) -> Answer | None:
        """A topic, mode, day or time typed instead of pressed: as if pressed (None: no fit)."""
        step = turn.conversation.step
        locale = current_locale()
        if step == "topic":
            topic = choose(typed, [(t.label.get(locale), t.id) for t in self.setup.topics])
            return self._after_topic(turn, topic) if topic else None
        if step == "mode":
            mode = choose(typed, self.mode_labels())
            return self._after_mode(turn, mode) if mode else None
        if step == "day":
            days = {day.isoformat(): day for day in self.days_on_offer(turn)}
            chosen = choose(typed, [(format_day(day), key) for key, day in days.items()])
            return self.ask_time(turn, days[chosen]) if chosen else None
        return None

    def taken(self, turn: Turn, start: datetime) -> Answer:
        """Someone was quicker to the time: the nearest free ones, else the days."""
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

    def _calendar(self, turn: Turn) -> Calendar:
        zone = turn.settings.zone
        today = turn.now.astimezone(zone).date()
        last = today + timedelta(days=self.setup.horizon_days)
        return booking_store.load_calendar(turn.session, today, last, turn.now, zone)

    # Leaving ------------------------------------------------------------------

    def cancel_flow(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        """/annulla or ✖️ while booking: the held time is let go."""
        booking_store.release_holds(turn.session, turn.user.id)
        turn.end_flow()
        return menu.show(turn, _("Va bene, nessuna richiamata fissata."))
