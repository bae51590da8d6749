"""The person's side of the handoff: asking for a person, the relay while staff hold the
conversation, /fine and the score afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.basics import privacy
from bot.basics.onboarding import normalise
from bot.config import Settings
from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.delivery import reminders
from bot.handoff import store
from bot.handoff.cards import (
    card,
    person_line,
    relay_message,
    staff_address,
    told_on_whatsapp,
)
from bot.handoff.config import HandoffConfig
from bot.ops import metrics
from bot.storage.models import Handoff, User
from bot.values.i18n import _, format_moment, use_locale
from bot.values.markup import Rich, bold, italic, join
from bot.values.messages import (
    Address,
    Answer,
    Delivery,
    Kind,
    Outbound,
    Reply,
    Thread,
    rows,
    say,
)

FLOW = "handoff"
FALLBACK = "handoff_fallback"
# While staff hold the conversation, these still reach the bot (aliases included), and so do
# the person's privacy rights.
PASS_THROUGH = frozenset(
    {"menu", "start", "annulla", "fine", "end", "fin", "privacy", "miei_dati", "cancella"}
)
END_COMMANDS = ("fine", "end", "fin")


class HandoffDesk:
    def __init__(self, config: HandoffConfig) -> None:
        self.config = config
        self.triggers = {
            normalise(t) for lang in ("it", "en", "fr") for t in config.triggers.get(lang)
        }

    # Asking ---------------------------------------------------------------------------

    def ask(self, turn: Turn) -> Answer:
        """/operatore, the menu, the FAQ's "talk to a person": consent first."""
        if turn.settings.staff_chat_id is None:
            return self._no_desk(turn)
        if store.open_of(turn.session, turn.user.id) is not None:
            return say(_("Sei già in contatto con lo staff: scrivi pure qui. /fine per chiudere."))
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "ho_notice")
        return self.notice(turn)

    def notice(self, turn: Turn) -> Answer:
        """What happens to what they write, before they write it."""
        keyboard = rows(
            turn.button(_("✅ Va bene"), "ho_write"), turn.button(_("No, grazie"), "menu")
        )
        return say(
            _(
                "Ti metto in contatto con una persona dello staff della Società Mutua "
                "Piemonte. Quello che scrivi da ora sarà letto dallo staff, nella sua chat di "
                "gruppo o nella chat con Sportello di chi ti risponde, e conservato con la "
                "conversazione (vedi /privacy)."
            ),
            buttons=keyboard,
        )

    def write(self, turn: Turn) -> Answer:
        """Asks for the question; says first when staff are back, outside office hours."""
        turn.start_flow(FLOW, "question")
        ask = _("Scrivi in un messaggio la tua domanda: la giro subito allo staff.")
        if self.config.is_open(turn.now, turn.settings.zone):
            return say(ask)
        callback = rows(turn.button(_("📞 Fissa una richiamata"), "callback"))
        return say(self._closed_now(turn), ask, buttons=callback)

    def text(self, turn: Turn) -> Answer | None:
        """Typed requests ("voglio parlare con una persona"); anything else is not mine."""
        return self.ask(turn) if self.wants_a_person(turn.inbound.text) else None

    def wants_a_person(self, typed: str) -> bool:
        words = normalise(typed)
        return any(trigger in words for trigger in self.triggers)

    def on_text(self, turn: Turn) -> Answer:
        """The question (then staff get it), or the comment after the score."""
        if turn.conversation.step == "comment":
            return self._comment(turn)
        question = turn.inbound.text.strip()
        if not question:
            return say(_("Scrivimi la domanda a parole, per favore."))
        turn.end_flow()
        handoff = self._open(turn, question)
        return self._asked(turn, handoff)

    def cancel(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        turn.end_flow()
        return menu.show(turn, _("Va bene, niente richiesta allo staff."))

    def _open(self, turn: Turn, question: str) -> Handoff:
        out_of_hours = not self.config.is_open(turn.now, turn.settings.zone)
        handoff = Handoff(
            user_id=turn.user.id,
            state=store.WAITING,
            question=question,
            asked_at=turn.now,
            out_of_hours=out_of_hours,
        )
        turn.session.add(handoff)
        turn.session.flush()
        metrics.handoff("requested")
        store.relayed(turn.session, handoff, now=turn.now, text=question)
        reminders.schedule(
            turn.session,
            key=f"{store.key(handoff)}:fallback",
            kind=FALLBACK,
            ref=store.key(handoff),
            user_id=turn.user.id,
            due_at=self.config.fallback_at(turn.now, turn.settings.zone),
        )
        return handoff

    def _asked(self, turn: Turn, handoff: Handoff) -> Answer:
        delivery = Delivery(
            staff_address(turn.settings),
            card(turn.session, turn.settings, turn.signer, handoff),
            key=f"{store.key(handoff)}:card",
        )
        if handoff.out_of_hours:
            told = say(
                _(
                    "Ho girato la tua domanda allo staff: la leggeranno alla riapertura e ti "
                    "risponderanno qui. Se preferisci, fissa una richiamata."
                ),
                buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
            )
        else:
            told = say(
                _(
                    "Fatto: una persona dello staff ti risponderà a breve, qui in questa chat. "
                    "Intanto io resto in silenzio; /fine per chiudere la conversazione."
                )
            )
        notices = told_on_whatsapp(turn.settings, handoff, turn.user)
        return told + Answer(deliveries=(delivery, *notices))

    def _closed_now(self, turn: Turn) -> str:
        opening = self.config.next_opening(turn.now, turn.settings.zone)
        if opening is None:
            return _("In questo momento lo staff non è in ufficio.")
        return _("In questo momento lo staff non è in ufficio: torna {when}.").format(
            when=format_moment(opening)
        )

    def _no_desk(self, turn: Turn) -> Answer:
        return say(
            _("La chat con lo staff non è attiva. Puoi fissare una richiamata."),
            buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
        )

    # While staff hold the conversation ------------------------------------------------

    def claim(self, turn: Turn) -> Answer | None:
        """Everything the person writes goes to staff, and the bot stays silent; /menu,
        /annulla and /fine still reach the bot."""
        if turn.conversation.flow == FLOW:
            return None
        inbound = turn.inbound
        if inbound.kind is Kind.COMMAND and inbound.command in PASS_THROUGH:
            return None
        handoff = store.open_of(turn.session, turn.user.id)
        if handoff is None:
            return None
        return self._relay(turn, handoff)

    def _relay(self, turn: Turn, handoff: Handoff) -> Answer:
        inbound = turn.inbound
        media = inbound.media
        if inbound.kind not in (Kind.TEXT, Kind.COMMAND) and media is None:
            return say(_("Posso girare allo staff solo testo, foto e documenti."))
        text = media.caption if media is not None else inbound.text
        store.relayed(
            turn.session,
            handoff,
            now=turn.now,
            text=text,
            author=turn.user.name,
            media=media.kind if media is not None else None,
            source_ref=inbound.message_ref,
        )
        with use_locale(turn.settings.default_locale, turn.settings.zone):
            header = person_line(turn.user.name, turn.now)
            message = relay_message(header, text, media, Thread(store.key(handoff)))
        to_topic = Answer(deliveries=(Delivery(staff_address(turn.settings), message),))
        return to_topic + to_holder(
            turn, handoff, lambda: relay_message(person_line(turn.user.name, turn.now), text, media)
        )

    def end(self, turn: Turn) -> Answer:
        """/fine: the person closes the conversation with staff."""
        handoff = store.open_of(turn.session, turn.user.id)
        if handoff is None:
            return menu.show(turn, _("Non hai conversazioni aperte con lo staff."))
        close(handoff, "person", turn.now)
        with use_locale(turn.settings.default_locale, turn.settings.zone):
            note = Reply(
                italic(closed_by_person(turn.user.name)),
                thread=Thread(store.key(handoff), ending="close"),
            )
        delivery = Delivery(staff_address(turn.settings), note)
        told = to_holder(turn, handoff, lambda: Reply(italic(closed_by_person(turn.user.name))))
        return ask_score(turn, handoff) + Answer(deliveries=(delivery,)) + told

    # The score ------------------------------------------------------------------------

    def on_score(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        handoff_id, score = (*args, "", "")[:2]
        handoff = store.by_id(turn.session, handoff_id)
        if handoff is None or handoff.user_id != turn.user.id or not score.isdigit():
            raise Stale
        handoff.score = min(5, max(1, int(score)))
        turn.start_flow(FLOW, "comment", {"handoff": handoff.id})
        return say(
            _("Grazie! Vuoi aggiungere un commento? Scrivilo qui, oppure:"),
            buttons=rows(turn.button(_("Nessun commento"), "ho_nocomment")),
            replace=True,
        )

    def on_no_comment(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        turn.end_flow()
        return menu.show(turn, _("Grazie del giudizio!"), replace=True)

    def _comment(self, turn: Turn) -> Answer:
        handoff = turn.session.get(Handoff, int(turn.conversation.data.get("handoff", 0)))
        if handoff is not None and handoff.user_id == turn.user.id:
            handoff.comment = turn.inbound.text.strip()[:1000]
        turn.end_flow()
        return menu.show(turn, _("Grazie, lo leggeremo con attenzione."))

    # Leaving --------------------------------------------------------------------------

    def forget(self, turn: Turn) -> Answer:
        """Before an erasure: each request's topic in the staff group is deleted, and a staff
        member holding the conversation from their own chat is told."""
        deleted = Answer(deliveries=topics_deleted(turn.settings, turn.session, turn.user.id))
        deleted += released(turn)
        handoff = store.open_of(turn.session, turn.user.id)
        if handoff is None:
            return deleted
        return deleted + to_holder(turn, handoff, lambda: Reply(italic(erased_note())))


def released(turn: Turn) -> Answer:
    """A staff member erasing their data lets go of the conversation they hold from their own
    chat: the request waits again, and its topic says so."""
    handoff = store.held_by(turn.session, turn.user.id)
    if handoff is None:
        return Answer()
    with use_locale(turn.settings.default_locale, turn.settings.zone):
        note = _("{name} non risponde più: la richiesta è di nuovo libera.").format(
            name=handoff.holder_name
        )
    handoff.state, handoff.holder_user_id, handoff.holder_id = store.WAITING, None, None
    handoff.holder_name = ""
    freed = Reply(italic(note), thread=Thread(store.key(handoff)))
    return Answer(deliveries=(Delivery(staff_address(turn.settings), freed),))


def topics_deleted(settings: Settings, session: Session, user_id: int) -> tuple[Delivery, ...]:
    """Deletes the topics of a person's requests (their data is being erased), with a note."""
    with use_locale(settings.default_locale, settings.zone):
        note = italic(erased_note())
    address = staff_address(settings)
    return tuple(
        Delivery(address, Reply(note, thread=Thread(store.key(handoff), ending="delete")))
        for handoff in store.all_of(session, user_id)
    )


def erased_note() -> str:
    return _("Una conversazione è stata cancellata insieme ai dati della persona.")


def closed_by_person(name: str) -> str:
    return _("{name} ha chiuso la conversazione.").format(name=name)


def to_holder(turn: Turn, handoff: Handoff, build: Callable[[], Outbound]) -> Answer:
    """What `build` makes, in the holder's language, to the staff member who holds the
    conversation from their own chat with Sportello (none when it is held in the group)."""
    holder = turn.session.get(User, handoff.holder_user_id) if handoff.holder_user_id else None
    if holder is None:
        return Answer()
    with use_locale(holder.locale, turn.settings.zone):
        message = build()
    return Answer(deliveries=(Delivery(Address(holder.channel, holder.chat_id), message),))


def close(handoff: Handoff, by: str, now: datetime) -> None:
    handoff.state, handoff.closed_by, handoff.closed_at = store.CLOSED, by, now
    metrics.handoff("closed")


def ask_score(turn: Turn, handoff: Handoff) -> Answer:
    """The person is back with the bot: told so, and asked for a score."""
    scores = tuple(turn.button(str(n), "ho_score", handoff.id, n) for n in range(1, 6))
    text = join(
        [
            bold(_("La conversazione con lo staff è chiusa: ora ti risponde di nuovo Sportello.")),
            _("Come è andata? Dai un voto da 1 (male) a 5 (benissimo)."),
        ]
    )
    return Answer((Reply(Rich() + text, (scores, (turn.button(_("☰ Menu"), "menu"),))),))
