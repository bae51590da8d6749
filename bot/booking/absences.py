"""Operators' days away: /assenza marks, lists and removes them; their calls go to others."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.booking import store as booking_store
from bot.booking.dates import parse_range
from bot.booking.setup import BookingSetup
from bot.booking.staff import cards, operator_name
from bot.core import replies
from bot.core.turn import Stale, Turn
from bot.storage.models import Absence, Booking
from bot.values.i18n import N_, _, format_date, ngettext
from bot.values.markup import bold, join, shorten
from bot.values.messages import Answer, Delivery, rows, say

N_ABSENCE = N_("segna un'assenza: /assenza 24/12 oppure /assenza giulia 24/12 28/12")


class Absences:
    def __init__(self, setup: BookingSetup) -> None:
        self.setup = setup

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
            turn.button(shorten(_("🗑 Togli: {line}").format(line=line), 60), "bka_del", a.id)
            for a, line in zip(found, lines, strict=True)
        ]
        return say(join([bold(_("Assenze in programma")), *lines, usage]), buttons=rows(*buttons))

    def on_delete(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        if not turn.is_staff:
            return replies.staff_only(turn)
        absence = turn.session.get(Absence, int(args[0])) if args and args[0].isdigit() else None
        if absence is None:
            raise Stale
        turn.session.delete(absence)
        return say(_("Assenza tolta."), replace=True)
