"""A staff member holds a conversation from their own chat with Sportello (where staff use
WhatsApp, or privately on Telegram): /conversazioni lists the open requests, one tap takes
one, what they write goes to the person until /chiudi; the request's topic keeps the record."""

from __future__ import annotations

from dataclasses import replace

from bot.core.turn import Turn
from bot.handoff import store
from bot.handoff.cards import CHANNEL_NAMES, card, staff_address
from bot.handoff.staff import HandoffStaff, closed_text, held_already
from bot.storage.models import Handoff
from bot.values.i18n import _, format_time, use_locale
from bot.values.markup import Rich, bold, italic, join
from bot.values.messages import Answer, Delivery, Kind, Reply, Thread, rows, say

LISTED = 10  # a WhatsApp list shows at most ten rows
LABEL = 20  # and a reply button's label at most twenty characters


class StaffChat:
    def __init__(self, staff: HandoffStaff) -> None:
        self.staff = staff

    def requests(self, turn: Turn) -> Answer:
        """/conversazioni: the open requests, one button each to take it."""
        if turn.inbound.in_group:
            return say(_("Scrivi /conversazioni nella tua chat privata con Sportello."))
        handoffs = store.waiting_or_held(turn.session, LISTED)
        if not handoffs:
            return say(_("Nessuna richiesta aperta in questo momento."))
        lines: list[Rich | str] = [bold(_("Richieste aperte:"))]
        lines += [self._line(turn, n, handoff) for n, handoff in enumerate(handoffs, 1)]
        buttons = (
            turn.button(self._label(turn, n, handoff), "ho_hold", handoff.id)
            for n, handoff in enumerate(handoffs, 1)
        )
        return say(join(lines), buttons=rows(*buttons))

    def take(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """One tap on a listed request: this staff member holds it, like «🙋 Rispondo io»."""
        handoff = self.staff.pressed(turn, args)
        if not turn.is_staff:
            return say(_("Solo lo staff può rispondere."))
        if handoff.state == store.HELD and handoff.holder_user_id == turn.user.id:
            return say(self._holding(turn, handoff))
        if handoff.state == store.HELD:
            return say(held_already(handoff))
        current = store.held_by(turn.session, turn.user.id)
        if current is not None:
            return say(
                _("Stai già rispondendo a {name}: /chiudi prima di prenderne un'altra.").format(
                    name=self.staff.person(turn, current).name or "?"
                )
            )
        told = self.staff.hold(turn, handoff)
        handoff.holder_user_id = turn.user.id
        shown = card(turn.session, turn.settings, turn.signer, handoff)
        with use_locale(turn.settings.default_locale, turn.settings.zone):
            note = _("🙋 Risponde {name}, dalla sua chat con Sportello.").format(
                name=handoff.holder_name
            )
        record = Reply(italic(note), thread=Thread(store.key(handoff)))
        here = Answer((replace(shown, thread=None),)) + say(self._holding(turn, handoff))
        return here + told + Answer(deliveries=(Delivery(staff_address(turn.settings), record),))

    def claim(self, turn: Turn) -> Answer | None:
        """What the holder writes in their own chat goes to the person (commands still reach
        the bot: /chiudi, /menu...)."""
        if not turn.is_staff or turn.inbound.kind is Kind.COMMAND:
            return None
        handoff = store.held_by(turn.session, turn.user.id)
        if handoff is None:
            return None
        return self.staff.relay_written(turn, handoff)

    def close(self, turn: Turn) -> Answer:
        """/chiudi: in a request's topic as before; in a staff member's own chat, the
        conversation they hold."""
        if turn.inbound.in_group:
            return self.staff.close_command(turn)
        handoff = store.held_by(turn.session, turn.user.id)
        if handoff is None:
            return say(_("Non stai rispondendo a nessuno: /conversazioni per le richieste aperte."))
        with use_locale(turn.settings.default_locale, turn.settings.zone):
            note = _("{name} ha chiuso la conversazione dalla sua chat con Sportello.").format(
                name=handoff.holder_name
            )
        record = Reply(italic(note), thread=Thread(store.key(handoff), ending="close"))
        told = Answer(deliveries=(Delivery(staff_address(turn.settings), record),))
        return say(bold(closed_text())) + self.staff.hand_back(turn, handoff) + told

    # Helpers --------------------------------------------------------------------------

    def _holding(self, turn: Turn, handoff: Handoff) -> str:
        return _("Ora quello che scrivi qui arriva a {name}. /chiudi per chiudere.").format(
            name=self.staff.person(turn, handoff).name or "?"
        )

    def _line(self, turn: Turn, n: int, handoff: Handoff) -> str:
        person = self.staff.person(turn, handoff)
        channel = CHANNEL_NAMES.get(person.channel, person.channel)
        if handoff.state == store.HELD:
            state = _("risponde {name}").format(name=handoff.holder_name)
        else:
            state = _("in attesa dalle {time}").format(time=format_time(handoff.asked_at))
        who = f"{n}. {person.name or '?'} · {channel} · {person.locale.upper()}"
        return f"{who} · {state}\n   «{handoff.question[:120]}»"

    def _label(self, turn: Turn, n: int, handoff: Handoff) -> str:
        mark = "👤" if handoff.state == store.HELD else "🙋"
        return f"{mark} {n}. {self.staff.person(turn, handoff).name or '?'}"[:LABEL]
