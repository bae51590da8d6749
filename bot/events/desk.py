"""Events for subscribers: /eventi lists the upcoming ones, each with the user's answer."""

from __future__ import annotations

from bot.basics import privacy
from bot.core.turn import Turn
from bot.events.announcement import announcement, signed
from bot.events.config import EventsConfig
from bot.events.store import places_taken, seat_of, upcoming
from bot.events.subscriptions import subscription
from bot.values.i18n import _
from bot.values.markup import Rich, bold, join
from bot.values.messages import Answer, Outbound, Reply, rows, say


class EventsDesk:
    def __init__(self, config: EventsConfig) -> None:
        self.config = config

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
            taken = places_taken(turn.session, event.id)
            replies.append(announcement(event, self.config, button, seat, taken=taken))
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
