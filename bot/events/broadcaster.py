"""/broadcast: staff write a message, choose who gets it, see it, and confirm the sending."""

from __future__ import annotations

from bot.core.turn import Turn
from bot.events import costs, questions
from bot.events.config import ALL, EventsConfig
from bot.events.overview import quiet_note
from bot.events.store import release
from bot.storage.models import Broadcast
from bot.values.i18n import _, format_number, ngettext
from bot.values.markup import Rich, bold, italic, join
from bot.values.messages import Answer, Reply, rows, say

BROADCAST_STEPS = ("text", "interests", "territories")


def broadcast_message(text: str) -> Rich:
    """A broadcast as subscribers read it."""
    footer = italic(_("Non vuoi più ricevere questi avvisi? /disiscriviti"))
    return join([bold(_("📣 Società Mutua Piemonte")), text, footer])


class Broadcaster:
    def __init__(self, config: EventsConfig) -> None:
        self.config = config

    def new_broadcast(self, turn: Turn) -> Answer:
        """/broadcast: asks the text first."""
        draft = {"interests": [ALL], "territories": list(self.config.territory_ids())}
        return questions.start(turn, self.config, "broadcast", "text", draft)

    def review(self, turn: Turn) -> Answer:
        """The message as subscribers will read it, and how many will."""
        count = questions.recipients_line(questions.recipients(turn))
        chosen = questions.draft(turn)
        on_whatsapp = costs.preview(turn, "broadcast", chosen["territories"], chosen["interests"])
        preview = Reply(broadcast_message(chosen["text"]))
        keyboard = rows(
            turn.button(_("📣 Invia"), "es_send", "1"),
            turn.button(_("✖️ Annulla"), "es_quit"),
        )
        note = join([bold(_("Anteprima qui sopra.")), count, *filter(None, [on_whatsapp])])
        return Answer((preview, Reply(note, keyboard)))

    def on_send(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """Sends the broadcast; above the threshold, only at the second confirmation."""
        questions.in_step(turn, "review")
        draft = questions.draft(turn)
        recipients = questions.recipients(turn)
        if recipients == 0:
            return Answer(notice=_("Nessun iscritto corrisponde: cambia argomenti o territori."))
        if recipients > self.config.broadcast_confirm_above and args[:1] != ("2",):
            n = format_number(recipients)
            return say(
                ngettext(
                    "Stai per scrivere a {n} persona. Confermi?",
                    "Stai per scrivere a {n} persone. Confermi?",
                    recipients,
                ).format(n=n),
                buttons=rows(
                    turn.button(
                        ngettext(
                            "Sì, invia a {n} persona", "Sì, invia a {n} persone", recipients
                        ).format(n=n),
                        "es_send",
                        "2",
                    ),
                    turn.button(_("✖️ Annulla"), "es_quit"),
                ),
            )
        broadcast = Broadcast(
            text=draft["text"],
            interests=draft["interests"],
            territories=draft["territories"],
            created_by=turn.inbound.sender.platform_id or 0,
            staff_chat=f"{turn.inbound.channel}:{turn.inbound.chat_id}",
            created_at=turn.now,
        )
        turn.session.add(broadcast)
        turn.session.flush()
        turn.end_flow()
        sending = ngettext(
            "📣 Messaggio in invio a {n} iscritto. Ti scrivo quando l'invio è finito.",
            "📣 Messaggio in invio a {n} iscritti. Ti scrivo quando l'invio è finito.",
            recipients,
        ).format(n=format_number(recipients))
        goes = release(turn, turn.now)
        if goes > turn.now:
            sending += " " + quiet_note(goes)
        return say(
            sending,
            buttons=rows(turn.button(_("📊 Avanzamento"), "es_bview", broadcast.id)),
        )
