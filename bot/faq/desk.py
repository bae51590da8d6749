"""The FAQ desk: free text matched to a topic, answers with figures and the law behind them."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.core.turn import Command, Feature, Stale, Turn
from bot.faq.knowledge import KnowledgeBase, KnowledgeError, Topic
from bot.faq.library import Library
from bot.faq.matcher import Match, fold
from bot.storage.models import FaqQuestion, FaqVote
from bot.values.i18n import (
    N_,
    _,
    current_locale,
    format_date,
    format_money,
    format_number,
    format_percent,
    ngettext,
)
from bot.values.markup import Rich, bold, italic, join, text
from bot.values.messages import Answer, Button, Reply, rows, say


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


def validity_notes(topic: Topic, today: date) -> list[str]:
    locale = current_locale()
    notes: list[str] = []
    if topic.validity:
        notes.append(_("Valido: {period}.").format(period=topic.validity.get(locale)))
    ends = sorted({f.valid_to for f in topic.figures if f.valid_to and f.current(today)})
    if ends:
        notes.append(
            _(
                "Queste cifre valgono fino al {day}: la prossima legge di bilancio potrebbe "
                "cambiarle."
            ).format(day=format_date(ends[-1]))
        )
    return notes


def answer_text(topic: Topic, today: date) -> Rich:
    locale = current_locale()
    parts: list[Rich | str] = [
        bold(topic.title.get(locale)),
        fill(topic.answer.get(locale), topic, locale).strip(),
        *validity_notes(topic, today),
    ]
    if topic.uncertain:
        parts.append("⚠️ " + fill(topic.uncertain.get(locale), topic, locale).strip())
    parts.append(footer(topic))
    return join(parts)


def footer(topic: Topic) -> Rich:
    references = "; ".join(topic.references)
    return join(
        [
            italic(_("Riferimenti: {references}").format(references=references)),
            italic(
                _(
                    "Aggiornato al {day}. È un'informazione generale, non una consulenza "
                    "fiscale sul tuo caso: per quello parla con una persona."
                ).format(day=format_date(topic.reviewed))
            ),
        ]
    )


class FaqDesk:
    """The FAQ feature's handlers, over the live library."""

    def __init__(self, library: Library) -> None:
        self.library = library

    @property
    def kb(self) -> KnowledgeBase:
        return self.library.current.kb

    # Free text ------------------------------------------------------------------

    def on_text(self, turn: Turn) -> Answer:
        question = turn.inbound.text.strip()
        match = self.library.current.matcher.match(question, turn.user.locale)
        self._log(turn, question, match)
        if match.outcome == "answer" and match.topic_id:
            return self.answer(turn, match.topic_id)
        if match.outcome == "suggest":
            return self.suggest(turn, match)
        return self.unknown(turn)

    def _log(self, turn: Turn, question: str, match: Match) -> None:
        turn.session.add(
            FaqQuestion(
                user_id=turn.user.id,
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
        topic = self.kb.topics[topic_id]
        body = answer_text(topic, turn.now.date())
        buttons = [turn.button(_("📖 Più dettagli"), "faq_more", topic.id)]
        buttons += self._related(turn, topic)
        return Answer((Reply(body, self._keyboard(turn, topic, buttons), replace),))

    def details(self, turn: Turn, topic_id: str) -> Answer:
        topic = self.kb.topics[topic_id]
        locale = current_locale()
        body = join(
            [
                bold(topic.title.get(locale)),
                fill(topic.details.get(locale), topic, locale).strip(),
                footer(topic),
            ]
        )
        return Answer((Reply(body, self._keyboard(turn, topic, self._related(turn, topic))),))

    def _related(self, turn: Turn, topic: Topic) -> list[Button]:
        locale = current_locale()
        return [
            turn.button("➡️ " + self.kb.topics[r].short.get(locale), "faq_topic", r)
            for r in topic.related[:3]
            if r in self.kb.topics
        ]

    def _keyboard(
        self, turn: Turn, topic: Topic, buttons: list[Button]
    ) -> tuple[tuple[Button, ...], ...]:
        extra = (
            [turn.button(_("📝 Fai il questionario"), "survey")]
            if "survey" in topic.actions
            else []
        )
        person = turn.button(_("📞 Parla con una persona"), "handoff")
        votes = (
            turn.button("👍", "faq_vote", topic.id, "up"),
            turn.button("👎", "faq_vote", topic.id, "down"),
        )
        return (*rows(*buttons, *extra, person), votes)

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
        """/faq_report [giorni]: unanswered questions and the answers with most 👎."""
        days = _days(turn.inbound.text, default=30)
        since = turn.now - timedelta(days=days)
        asked = turn.session.scalars(
            select(FaqQuestion.text).where(
                FaqQuestion.asked_at >= since, FaqQuestion.outcome != "answer"
            )
        ).all()
        common = Counter(fold(q) for q in asked).most_common(10)
        downs = turn.session.execute(
            select(FaqVote.topic_id, func.count())
            .where(FaqVote.voted_at >= since, FaqVote.vote < 0)
            .group_by(FaqVote.topic_id)
            .order_by(func.count().desc())
            .limit(10)
        ).all()
        lines: list[Rich | str] = [
            bold(
                ngettext(
                    "Domande frequenti senza risposta, ultimo giorno",
                    "Domande frequenti senza risposta, ultimi {days} giorni",
                    days,
                ).format(days=days)
            )
        ]
        lines += [f"{count}× {question}" for question, count in common] or [_("nessuna")]
        lines.append(bold(_("Risposte con più 👎")))
        lines += [f"{count}× {topic_id}" for topic_id, count in downs] or [_("nessuna")]
        return say(join(lines))

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
        },
        text=desk.on_text,
    )
