"""The FAQ desk: free text matched to a topic, answers with figures and the law behind them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.basics.privacy import has_consent
from bot.config import SUPPORTED_LOCALES
from bot.core.turn import Command, Feature, Stale, Turn
from bot.faq.knowledge import Contacts, KnowledgeBase, KnowledgeError, Topic
from bot.faq.library import Library
from bot.faq.matcher import Match
from bot.faq.teaching import Teacher
from bot.ops import metrics
from bot.storage.models import FaqQuestion, FaqVote
from bot.values.content import Texts
from bot.values.i18n import (
    N_,
    _,
    current_locale,
    format_date,
    format_money,
    format_number,
    format_percent,
    ngettext,
    use_locale,
)
from bot.values.markup import Rich, bold, italic, join, quote, text
from bot.values.messages import Answer, Button, Reply, rows, say

FAQ_OUTCOMES = {"answer": "answered", "suggest": "offered"}  # the matcher's words -> /metrics


def figure_text(topic: Topic, figure_id: str, locale: str) -> str:
    figure = topic.figure(figure_id)
    if figure.kind == "money":
        value = format_money(figure.value)
    elif figure.kind == "percent":
        value = format_percent(figure.value / Decimal(100))
    else:
        value = format_number(figure.value)
    return f"{value} {figure.unit.get(locale)}" if figure.unit else value


def fill(template: str, topic: Topic, locale: str) -> str:
    """Puts each figure, formatted for the locale, where its {placeholder} stands."""
    values = {figure.id: figure_text(topic, figure.id, locale) for figure in topic.figures}
    return template.format_map(values) if values else template


FIRST_MESSAGE_LIMIT = 500  # characters: one phone screen, title and footer included


def validity_line(topic: Topic, today: date) -> str | None:
    """How long the answer holds, said once: the end date of its figures, else its period."""
    ends = sorted({f.valid_to for f in topic.figures if f.valid_to and f.current(today)})
    if ends:
        return _("Valido fino al {day}: la prossima legge di bilancio potrebbe cambiarlo.").format(
            day=format_date(ends[-1])
        )
    if topic.validity:
        return _("Valido: {period}.").format(period=topic.validity.get(current_locale()))
    return None


def answer_text(topic: Topic, today: date, contacts: Contacts | None = None) -> Rich:
    """The first message: the answer with its key figure, the validity, one short footer."""
    locale = current_locale()
    parts: list[Rich | str] = [bold(topic.title.get(locale)), fill_text(topic, topic.answer)]
    if contacts and "contacts" in topic.actions:
        parts += contact_lines(contacts)
    parts += [line for line in [validity_line(topic, today)] if line]
    parts.append(
        italic(
            _("Aggiornato al {day} · informazione generale, non consulenza.").format(
                day=format_date(topic.reviewed)
            )
        )
    )
    return join(parts)


def details_text(topic: Topic) -> Rich:
    """Behind "Più dettagli": conditions, what is not sure, the law (folded on Telegram)."""
    locale = current_locale()
    parts: list[Rich | str] = [bold(topic.title.get(locale)), fill_text(topic, topic.details)]
    if topic.uncertain:
        parts.append("⚠️ " + fill_text(topic, topic.uncertain))
    references = "; ".join(topic.references)
    parts.append(quote(_("Riferimenti: {references}").format(references=references)))
    return join(parts)


def fill_text(topic: Topic, texts: Texts) -> str:
    locale = current_locale()
    return fill(texts.get(locale), topic, locale).strip()


def contact_lines(contacts: Contacts) -> list[str]:
    """Only what staff wrote in faq/contacts.yaml: a missing line is left out, never guessed."""
    lines = [
        ("📞 " + contacts.phone) if contacts.phone else None,
        ("✉️ " + contacts.email) if contacts.email else None,
        ("📍 " + contacts.address) if contacts.address else None,
        ("🕘 " + contacts.hours.get(current_locale())) if contacts.hours else None,
    ]
    return [line for line in lines if line]


def first_message_problems(kb: KnowledgeBase, today: date) -> list[str]:
    """Each topic's first message must fit a phone screen, in every language."""
    problems: list[str] = []
    for topic in kb.topics.values():
        for locale in SUPPORTED_LOCALES:
            with use_locale(locale):
                size = len(answer_text(topic, today, kb.contacts).plain)
            if size > FIRST_MESSAGE_LIMIT:
                problems.append(
                    f"{topic.id}.yaml: answer.{locale}: the first message is {size} characters, "
                    f"over {FIRST_MESSAGE_LIMIT}: move some of it to details"
                )
    return problems


class FaqDesk:
    """The FAQ feature's handlers, over the live library."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.teacher = Teacher(library)

    @property
    def kb(self) -> KnowledgeBase:
        return self.library.current.kb

    # Free text ------------------------------------------------------------------

    def on_text(self, turn: Turn) -> Answer:
        question = turn.inbound.text.strip()
        self.teacher.sync(turn.session)
        match = self.library.current.matcher.match(question, turn.user.locale)
        self._log(turn, question, match)
        if match.outcome == "answer" and match.topic_id:
            return self.answer(turn, match.topic_id)
        if match.outcome == "suggest":
            return self.suggest(turn, match)
        return self.unknown(turn)

    def _log(self, turn: Turn, question: str, match: Match) -> None:
        metrics.faq_outcome(FAQ_OUTCOMES.get(match.outcome, "unknown"))
        turn.session.add(
            FaqQuestion(
                # Before consent the question is kept for the report, but not who asked it.
                user_id=turn.user.id if has_consent(turn) else None,
                text=question[:500],
                locale=turn.user.locale,
                outcome=match.outcome,
                topic_id=match.topic_id,
                score=round(match.score, 4),
                asked_at=turn.now,
            )
        )

    # Answers ----------------------------------------------------------------------

    def answer(self, turn: Turn, topic_id: str, replace: bool = False) -> Answer:
        """The first message: at most four buttons (details, a person, 👍, 👎)."""
        topic = self.kb.topics[topic_id]
        body = answer_text(topic, turn.now.date(), self.kb.contacts)
        keyboard = (
            (turn.button(_("📖 Più dettagli"), "faq_more", topic.id), self._person(turn)),
            self._votes(turn, topic),
        )
        return Answer((Reply(body, keyboard, replace),))

    def details(self, turn: Turn, topic_id: str) -> Answer:
        """The details, with the related topics and the other actions as buttons."""
        topic = self.kb.topics[topic_id]
        locale = current_locale()
        buttons = [
            turn.button("➡️ " + self.kb.topics[r].short.get(locale), "faq_topic", r)
            for r in topic.related[:3]
            if r in self.kb.topics
        ]
        if "survey" in topic.actions:
            buttons.append(turn.button(_("📝 Fai il questionario"), "survey"))
        keyboard = (*rows(*buttons, self._person(turn)), self._votes(turn, topic))
        return Answer((Reply(details_text(topic), keyboard),))

    @staticmethod
    def _person(turn: Turn) -> Button:
        return turn.button(_("📞 Parla con una persona"), "handoff")

    @staticmethod
    def _votes(turn: Turn, topic: Topic) -> tuple[Button, ...]:
        return (
            turn.button("👍", "faq_vote", topic.id, "up"),
            turn.button("👎", "faq_vote", topic.id, "down"),
        )

    def suggest(self, turn: Turn, match: Match) -> Answer:
        locale = current_locale()
        choices = [
            turn.button(self.kb.topics[t].title.get(locale), "faq_topic", t)
            for t in match.alternatives[:3]
        ]
        choices.append(turn.button(_("Nessuna di queste"), "faq_none"))
        return say(_("Intendevi...?"), buttons=rows(*choices))

    def unknown(self, turn: Turn, replace: bool = False) -> Answer:
        intro = _(
            "Non lo so, mi dispiace: su questo non ho una risposta sicura e preferisco non "
            "tirare a indovinare. Puoi scegliere un argomento qui sotto oppure chiedere a "
            "una persona dello staff di richiamarti."
        )
        keyboard = (
            *self._category_rows(turn),
            (turn.button(_("📞 Fissa una richiamata"), "callback"),),
        )
        return Answer((Reply(text(intro), keyboard, replace),))

    # Browsing ---------------------------------------------------------------------

    def categories(self, turn: Turn, replace: bool = False) -> Answer:
        intro = _("Scegli un argomento, oppure scrivimi la tua domanda con parole tue.")
        keyboard = (*self._category_rows(turn), (turn.button(_("☰ Menu"), "menu"),))
        return Answer((Reply(text(intro), keyboard, replace),))

    def _category_rows(self, turn: Turn) -> tuple[tuple[Button, ...], ...]:
        locale = current_locale()
        return rows(
            *(turn.button(c.label.get(locale), "faq_cat", c.id) for c in self.kb.categories),
            per_row=2,
        )

    def category(self, turn: Turn, category_id: str) -> Answer:
        category = next((c for c in self.kb.categories if c.id == category_id), None)
        if category is None:
            raise Stale
        locale = current_locale()
        buttons = [
            turn.button(self.kb.topics[t].title.get(locale), "faq_topic", t)
            for t in category.topics
            if t in self.kb.topics
        ]
        buttons.append(turn.button(_("⬅️ Tutti gli argomenti"), "faq"))
        return say(bold(category.label.get(locale)), buttons=rows(*buttons), replace=True)

    # Button handlers -------------------------------------------------------------------

    def on_topic(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        return self.answer(turn, self._topic_id(args))

    def on_more(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        return self.details(turn, self._topic_id(args))

    def _topic_id(self, args: tuple[str, ...]) -> str:
        if not args or args[0] not in self.kb.topics:
            raise Stale  # e.g. a topic removed by a reload
        return args[0]

    def on_vote(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        topic_id = self._topic_id(args)
        if len(args) < 2 or args[1] not in ("up", "down"):
            raise Stale
        vote = 1 if args[1] == "up" else -1
        query = select(FaqVote).where(FaqVote.user_id == turn.user.id, FaqVote.topic_id == topic_id)
        existing = turn.session.scalars(query).one_or_none()
        if existing is None:
            turn.session.add(
                FaqVote(user_id=turn.user.id, topic_id=topic_id, vote=vote, voted_at=turn.now)
            )
        else:
            existing.vote, existing.voted_at = vote, turn.now
        if vote > 0:
            return Answer(notice=_("Grazie del riscontro!"))
        return Answer(notice=_("Grazie del riscontro!")) + say(
            _(
                "Mi dispiace che la risposta non ti sia stata utile. Vuoi che una persona dello "
                "staff ti richiami?"
            ),
            buttons=rows(turn.button(_("📞 Fissa una richiamata"), "callback")),
        )

    # Staff -------------------------------------------------------------------------------

    def report(self, turn: Turn) -> Answer:
        """/faq_report [giorni]: missed questions grouped, with buttons to teach the bot."""
        return self.teacher.report(turn, _days(turn.inbound.text, default=30))

    def reload(self, turn: Turn) -> Answer:
        """/faq_reload: reads faq/ again; a broken file is refused and the old content stays."""
        try:
            edition = self.library.reload(turn.now.date())
        except KnowledgeError as error:
            problems = "\n".join(error.problems[:15])
            return say(
                _(
                    "Non ho ricaricato: ci sono errori nei file, resta attivo il contenuto "
                    "precedente."
                )
                + "\n"
                + problems
            )
        warnings = "\n".join(edition.kb.warnings)
        count = len(edition.kb.topics)
        done = ngettext("Ricaricato: {count} argomento.", "Ricaricato: {count} argomenti.", count)
        done = done.format(count=count)
        return say(done + ("\n" + warnings if warnings else ""))


def _days(command_text: str, default: int) -> int:
    words = command_text.split()
    if len(words) > 1 and words[1].isdigit():
        return max(1, min(int(words[1]), 3650))
    return default


def feature(library: Library) -> Feature:
    desk = FaqDesk(library)
    return Feature(
        name="faq",
        commands={
            "faq": Command(lambda turn: desk.categories(turn)),
            "faq_report": Command(
                desk.report, staff=True, description=N_("domande senza risposta e risposte con 👎")
            ),
            "faq_reload": Command(
                desk.reload, staff=True, description=N_("ricarica i file delle domande frequenti")
            ),
        },
        buttons={
            "faq": lambda turn, _args: desk.categories(turn, replace=True),
            "faq_cat": lambda turn, args: desk.category(turn, args[0] if args else ""),
            "faq_topic": desk.on_topic,
            "faq_more": desk.on_more,
            "faq_vote": desk.on_vote,
            "faq_none": lambda turn, _args: desk.unknown(turn, replace=True),
            "faq_teach": desk.teacher.on_teach,
            "faq_gap": desk.teacher.on_gap,
            "faq_outside": desk.teacher.on_outside,
        },
        text=desk.on_text,
    )
