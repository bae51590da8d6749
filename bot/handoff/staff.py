"""The staff's side of the handoff, in the staff group: taking a request, answering in its
thread (relayed to the person), canned answers, /chiudi, the callback offer, the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot.core.turn import Stale, Turn
from bot.handoff import store
from bot.handoff.cards import card, relay_message, staff_address
from bot.handoff.config import HandoffConfig
from bot.handoff.desk import ask_score, close
from bot.handoff.report import figures_of
from bot.ops import metrics
from bot.storage import threads
from bot.storage.models import Handoff, User
from bot.values.i18n import _, format_number, format_time, use_locale
from bot.values.markup import Rich, bold, join
from bot.values.messages import (
    Address,
    Answer,
    Delivery,
    Kind,
    Media,
    Outbound,
    Reply,
    Thread,
    rows,
    say,
)

# Channels where a person can be written to freely only this long after their last message.
REPLY_WINDOWS = {"whatsapp": timedelta(hours=24)}
STAFF_SIGN = "👤"


class HandoffStaff:
    def __init__(self, config: HandoffConfig) -> None:
        self.config = config

    # Taking a request -----------------------------------------------------------------

    def on_take(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """🙋 Rispondo io: the first staff member holds the conversation; the card says who."""
        handoff = self.pressed(turn, args)
        if not turn.is_staff:
            return Answer(notice=_("Solo lo staff può rispondere."))
        if handoff.state == store.HELD:
            return Answer(notice=held_already(handoff))
        told = self.hold(turn, handoff)
        shown = card(turn.session, turn.settings, turn.signer, handoff)
        return Answer((replace(shown, replace=True),)) + told

    def hold(self, turn: Turn, handoff: Handoff) -> Answer:
        """This staff member holds the conversation now; the person is told who answers."""
        handoff.state, handoff.claimed_at = store.HELD, turn.now
        metrics.handoff("claimed")
        handoff.holder_id = turn.inbound.sender.platform_id
        handoff.holder_name = turn.inbound.sender.name.split(" ")[0] or "?"
        return self.to_person(
            turn,
            handoff,
            lambda: say(
                _("{name} dello staff ha preso la tua richiesta e ti risponde qui.").format(
                    name=handoff.holder_name
                )
            ),
        )

    def on_offer(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """📞 Proponi richiamata: the person gets a button to book one."""
        handoff = self.pressed(turn, args)
        if not turn.is_staff:
            return Answer(notice=_("Solo lo staff può rispondere."))
        offered = self.to_person(
            turn,
            handoff,
            lambda: say(
                _("Lo staff ti propone una richiamata: scegli tu giorno e ora."),
                buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            ),
        )
        return offered + Answer(notice=_("Richiamata proposta."))

    # Answering ------------------------------------------------------------------------

    def on_group_message(self, turn: Turn) -> Answer | None:
        """A staff member wrote in a request's thread: relayed if they hold it."""
        handoff = self._of_thread(turn)
        if handoff is None:
            return None  # staff talking among themselves
        refused = self._refusal(turn, handoff)
        return refused if refused is not None else self.relay_written(turn, handoff)

    def relay_written(self, turn: Turn, handoff: Handoff) -> Answer:
        """Relays what the holder wrote: text, a photo or a document."""
        inbound = turn.inbound
        if inbound.kind not in (Kind.TEXT, Kind.MEDIA) or (
            inbound.kind is Kind.MEDIA and inbound.media is None
        ):
            return say(_("Posso inoltrare solo testo, foto e documenti."))
        media = inbound.media
        return self._relay(turn, handoff, media.caption if media else inbound.text, media)

    def _relay(self, turn: Turn, handoff: Handoff, text: str, media: Media | None) -> Answer:
        """Relays what the holder wrote (or chose) to the person's chat, and keeps it."""
        user = self.person(turn, handoff)
        closed = self._window_closed(turn, user)
        if closed is not None:
            return closed
        store.relayed(
            turn.session,
            handoff,
            now=turn.now,
            text=text,
            author=handoff.holder_name,
            from_staff=True,
            media=media.kind if media is not None else None,
            source_ref=turn.inbound.message_ref,
        )
        message = relay_message(self._signature(handoff), text, media)
        to_person = Delivery(Address(user.channel, user.chat_id), message)
        if turn.inbound.in_group:
            return Answer(deliveries=(to_person,))
        # Held from the staff member's own chat: the request's topic keeps the record.
        with use_locale(turn.settings.default_locale, turn.settings.zone):
            header = f"{self._signature(handoff)} · {format_time(turn.now)}"
        record = relay_message(header, text, media, Thread(store.key(handoff)))
        return Answer(deliveries=(to_person, Delivery(staff_address(turn.settings), record)))

    @staticmethod
    def _signature(handoff: Handoff) -> str:
        return f"{STAFF_SIGN} {handoff.holder_name} · Società Mutua Piemonte"

    def _window_closed(self, turn: Turn, user: User) -> Answer | None:
        window = REPLY_WINDOWS.get(user.channel)
        if window is None or turn.now - user.last_seen_at < window:
            return None
        return say(
            _(
                "Non inoltrato: sono passate più di 24 ore dall'ultimo messaggio della "
                "persona, e ora solo un modello approvato di WhatsApp può raggiungerla."
            )
        )

    # Canned answers -------------------------------------------------------------------

    def canned_list(self, turn: Turn) -> Answer:
        """/risposte in a request's thread (or in the holder's own chat): one button per
        short answer."""
        in_group = turn.inbound.in_group
        handoff = self._of_thread(turn) if in_group else store.held_by(turn.session, turn.user.id)
        if handoff is None:
            return say(_("Usa /risposte dentro la conversazione con una persona."))
        buttons = (turn.button(a.id, "ho_canned", handoff.id, a.id) for a in self.config.answers)
        return say(
            _("Risposte pronte (inviate nella lingua della persona):"), buttons=rows(*buttons)
        )

    def on_canned(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        handoff = self.pressed(turn, args[:1])
        answer = self.config.answer(args[1]) if len(args) > 1 else None
        if answer is None:
            raise Stale
        refused = self._refusal(turn, handoff)
        if refused is not None:
            return refused
        text = answer.get(self.person(turn, handoff).locale)
        return self._relay(turn, handoff, text, None) + say(_("Inviata: {text}").format(text=text))

    # Closing --------------------------------------------------------------------------

    def close_command(self, turn: Turn) -> Answer:
        """/chiudi in a request's thread: the person is handed back to the bot."""
        handoff = self._of_thread(turn)
        if handoff is None:
            return say(_("Usa /chiudi dentro la conversazione con una persona."))
        if handoff.state == store.CLOSED:
            return say(_("Questa conversazione è già chiusa."))
        if handoff.state == store.HELD and handoff.holder_id != turn.inbound.sender.platform_id:
            return say(_("Può chiuderla solo {name}.").format(name=handoff.holder_name))
        closed = Reply(bold(closed_text()), thread=Thread(store.key(handoff), ending="close"))
        return Answer((closed,)) + self.hand_back(turn, handoff)

    def hand_back(self, turn: Turn, handoff: Handoff) -> Answer:
        """Closes the conversation: the person is back with the bot, and asked for a score."""
        close(handoff, "staff", turn.now)
        return self.to_person(turn, handoff, lambda: ask_score(turn, handoff))

    # Figures --------------------------------------------------------------------------

    def report(self, turn: Turn) -> Answer:
        """/handoff_report [giorni]: requests, taken, median first answer, unanswered, scores."""
        words = turn.inbound.text.split()
        days = int(words[1]) if len(words) > 1 and words[1].isdigit() else 30
        handoffs = store.since(turn.session, turn.now - timedelta(days=max(1, days)))
        figures = figures_of(handoffs)
        lines: list[Rich | str] = [
            bold(_("Conversazioni con lo staff, ultimi {days} giorni").format(days=days)),
            _("Richieste: {count}").format(count=figures.requests),
            _("Prese in carico: {count}").format(count=figures.claimed),
            _("Senza risposta: {count}").format(count=figures.unanswered),
            _("Prima risposta (mediana): {minutes} min").format(
                minutes=format_number(figures.median_minutes) if figures.median_minutes else "–"
            ),
            _("Voti: {scores} (media {mean})").format(
                scores=" ".join(f"{n}★×{c}" for n, c in figures.scores.items()) or "–",
                mean=format_number(figures.mean_score) if figures.mean_score else "–",
            ),
        ]
        return say(join(lines))

    # Helpers --------------------------------------------------------------------------

    def pressed(self, turn: Turn, args: tuple[str, ...]) -> Handoff:
        handoff = store.by_id(turn.session, args[0]) if args else None
        if handoff is None or handoff.state == store.CLOSED:
            raise Stale
        return handoff

    def _of_thread(self, turn: Turn) -> Handoff | None:
        inbound = turn.inbound
        key = threads.key_of(
            turn.session, inbound.channel, inbound.chat_id, inbound.thread, inbound.reply_to
        )
        return store.by_key(turn.session, key)

    def _refusal(self, turn: Turn, handoff: Handoff) -> Answer | None:
        """Why this staff member's message is not relayed, if it is not."""
        if handoff.state == store.CLOSED:
            return say(_("Questa conversazione è chiusa: il messaggio non è stato inoltrato."))
        if handoff.state == store.WAITING:
            return say(_("Premi prima «🙋 Rispondo io» sulla scheda: poi inoltro i tuoi messaggi."))
        if not turn.inbound.in_group:  # from a staff member's own chat: only its holder
            held_here = handoff.holder_user_id == turn.user.id
            return None if held_here else say(self._not_relayed(handoff))
        if handoff.holder_id != turn.inbound.sender.platform_id:
            return say(self._not_relayed(handoff))
        return None

    @staticmethod
    def _not_relayed(handoff: Handoff) -> str:
        return _("Risponde {name}: il tuo messaggio non è stato inoltrato.").format(
            name=handoff.holder_name
        )

    def person(self, turn: Turn, handoff: Handoff) -> User:
        user = turn.session.get(User, handoff.user_id)
        assert user is not None
        return user

    def to_person(self, turn: Turn, handoff: Handoff, build: Callable[[], Answer]) -> Answer:
        """What `build` says, in the person's language, delivered to their chat."""
        user = self.person(turn, handoff)
        with use_locale(user.locale, turn.settings.zone):
            messages: tuple[Outbound, ...] = build().replies
        address = Address(user.channel, user.chat_id)
        return Answer(deliveries=tuple(Delivery(address, m) for m in messages))


def held_already(handoff: Handoff) -> str:
    return _("Risponde già {name}.").format(name=handoff.holder_name)


def closed_text() -> str:
    return _("✅ Conversazione chiusa: la persona torna a Sportello.")
