"""Staff teach the FAQ from the chat: /faq_report groups the questions it missed, and one
tap makes a question a variant of a topic or an out-of-scope example (live at once), or
records it as a gap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.replies import staff_only
from bot.core.turn import Stale, Turn
from bot.faq.guard import dev_questions, silenced, stolen
from bot.faq.knowledge import OUTSIDE, Taught
from bot.faq.library import Library
from bot.faq.matcher import fold
from bot.storage.models import FaqGap, FaqQuestion, FaqVariant, FaqVote
from bot.values.i18n import _, current_locale, ngettext
from bot.values.markup import Rich, bold, join
from bot.values.messages import Answer, Reply, rows, say

SIMILAR = 75  # token_set_ratio from which two questions are one group
GROUPS_SHOWN = 5


@dataclass(frozen=True)
class Asked:
    """One question for the report: unanswered, or answered and then voted 👎."""

    question_id: int
    text: str
    locale: str
    downvoted: str | None = None  # the topic that got the 👎


@dataclass(frozen=True)
class Group:
    """Similar questions: the most frequent wording stands for all of them."""

    first: Asked
    count: int


def group_questions(asked: Sequence[Asked], similar: int = SIMILAR) -> list[Group]:
    """Groups questions whose folded words are alike; the largest groups first."""
    heads: list[str] = []
    members: list[list[Asked]] = []
    for item in asked:
        text = fold(item.text)
        found = process.extractOne(text, heads, scorer=fuzz.token_set_ratio, score_cutoff=similar)
        if found is None:
            heads.append(text)
            members.append([item])
        else:
            members[found[2]].append(item)
    groups = [Group(_most_common(items), len(items)) for items in members]
    return sorted(groups, key=lambda group: group.count, reverse=True)


def _most_common(items: list[Asked]) -> Asked:
    wording = Counter(fold(item.text) for item in items).most_common(1)[0][0]
    return next(item for item in items if fold(item.text) == wording)


class Teacher:
    """The staff side of the FAQ: the report, and what its buttons do."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def sync(self, session: Session) -> None:
        """Makes the variants in the database live, if another process or a restart added
        some since: one cheap query per question."""
        newest = session.scalar(select(func.max(FaqVariant.id))) or 0
        if newest != self.library.taught_up_to:
            variants = session.scalars(select(FaqVariant).order_by(FaqVariant.id)).all()
            taught = [Taught(v.topic_id, v.locale, v.text) for v in variants]
            self.library.teach(taught, newest)

    # /faq_report ---------------------------------------------------------------------

    def report(self, turn: Turn, days: int) -> Answer:
        """Header with the most 👎 answers, then one message per group with its buttons."""
        self.sync(turn.session)
        since = turn.now - timedelta(days=days)
        groups = group_questions(self._asked(turn.session, since))
        title = ngettext(
            "Domande senza risposta o con 👎, ultimo giorno",
            "Domande senza risposta o con 👎, ultimi {days} giorni",
            days,
        ).format(days=days)
        lines: list[Rich | str] = [bold(title)]
        if not groups:
            lines.append(_("nessuna"))
        lines.append(bold(_("Risposte con più 👎")))
        lines += [f"{n}× {t}" for t, n in self._downvoted(turn.session, since)] or [_("nessuna")]
        if groups:
            lines.append(
                _(
                    "Sotto ogni gruppo: tocca l'argomento giusto per insegnarlo al bot, "
                    "«Nuovo argomento» se manca, «Fuori tema» se non è una domanda per Sportello."
                )
            )
        replies = [Reply(join(lines))]
        replies += [self._group_reply(turn, group) for group in groups[:GROUPS_SHOWN]]
        return Answer(tuple(replies))

    def _asked(self, session: Session, since: datetime) -> list[Asked]:
        known = {fold(text) for text in session.scalars(select(FaqVariant.text))}
        known |= {fold(text) for text in session.scalars(select(FaqGap.text))}
        unanswered = session.scalars(
            select(FaqQuestion).where(
                FaqQuestion.asked_at >= since, FaqQuestion.outcome != "answer"
            )
        ).all()
        asked = [Asked(q.id, q.text, q.locale) for q in unanswered]
        asked += [
            Asked(q.id, q.text, q.locale, q.topic_id) for q in self._voted_down(session, since)
        ]
        return [item for item in asked if fold(item.text) not in known]

    @staticmethod
    def _voted_down(session: Session, since: datetime) -> Sequence[FaqQuestion]:
        """The questions that got an answer its asker then voted 👎."""
        query = (
            select(FaqQuestion)
            .join(
                FaqVote,
                (FaqVote.user_id == FaqQuestion.user_id)
                & (FaqVote.topic_id == FaqQuestion.topic_id),
            )
            .where(FaqVote.vote < 0, FaqVote.voted_at >= since, FaqQuestion.outcome == "answer")
        )
        return session.scalars(query).all()

    @staticmethod
    def _downvoted(session: Session, since: datetime) -> Sequence[tuple[str, int]]:
        query = (
            select(FaqVote.topic_id, func.count())
            .where(FaqVote.voted_at >= since, FaqVote.vote < 0)
            .group_by(FaqVote.topic_id)
            .order_by(func.count().desc())
            .limit(10)
        )
        return [(topic_id, count) for topic_id, count in session.execute(query).all()]

    def _group_reply(self, turn: Turn, group: Group) -> Reply:
        first, locale = group.first, current_locale()
        kb = self.library.current.kb
        likely = self.library.current.matcher.ranked(first.text, first.locale, limit=4)
        topics = [t for t in likely if t != first.downvoted][:3]
        buttons = [
            turn.button("➕ " + kb.topics[t].short.get(locale), "faq_teach", first.question_id, t)
            for t in topics
        ]
        buttons.append(
            turn.button(_("🆕 Nuovo argomento"), "faq_gap", first.question_id, group.count)
        )
        buttons.append(turn.button(_("🚫 Fuori tema"), "faq_outside", first.question_id))
        body = f"{group.count}× «{first.text}» ({first.locale})"
        if first.downvoted:
            body += "\n" + _("👎 sulla risposta: {topic}").format(topic=first.downvoted)
        return Reply(join([body]), rows(*buttons, per_row=2))

    # Buttons -----------------------------------------------------------------------------

    def on_teach(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """➕ topic: the question becomes a variant of it, unless it takes dev-set questions
        from other topics."""
        if not turn.is_staff:
            return staff_only(turn)
        question, topic_id = self._question(turn, args), args[1] if len(args) > 1 else ""
        topic = self.library.current.kb.topics.get(topic_id)
        if topic is None:
            raise Stale
        self.sync(turn.session)
        variant = Taught(topic_id, question.locale, question.text)
        before = self.library.current.matcher
        taken = stolen(before, self.library.trial(variant), topic_id, dev_questions())
        title = topic.title.get(current_locale())
        if taken:
            return say(
                _(
                    "Non l'ho aggiunta: farebbe rispondere «{title}» anche a {count} domande di "
                    "prova di altri argomenti, per esempio «{example}». Meglio scrivere una "
                    "domanda più precisa nel file della scheda."
                ).format(title=title, count=len(taken), example=taken[0].question)
            )
        self._keep(turn, variant)
        return say(
            _(
                "✅ Aggiunta a «{title}»: da ora «{question}» riceve questa risposta. Per "
                "scriverla nei file: sportello faq export-variants."
            ).format(title=title, question=question.text)
        )

    def on_outside(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """🚫 Fuori tema: the question becomes an out-of-scope example, so that questions
        like it get "I don't know" and a person, unless answered dev-set questions would
        lose their answer."""
        if not turn.is_staff:
            return staff_only(turn)
        question = self._question(turn, args)
        self.sync(turn.session)
        example = Taught(OUTSIDE, question.locale, question.text)
        before = self.library.current.matcher
        lost = silenced(before, self.library.trial(example), dev_questions())
        if lost:
            return say(
                _(
                    "Non l'ho segnata: {count} domande di prova perderebbero la loro risposta, "
                    "per esempio «{example}». Meglio scrivere un esempio più preciso in "
                    "faq/out_of_scope.yaml."
                ).format(count=len(lost), example=lost[0].question)
            )
        self._keep(turn, example)
        return say(
            _(
                "🚫 Segnata come fuori tema: da ora a domande come «{question}» Sportello "
                "dice che non è un suo argomento e offre di parlare con lo staff. Per scriverla "
                "nei file: sportello faq export-variants."
            ).format(question=question.text)
        )

    def _keep(self, turn: Turn, taught: Taught) -> None:
        """Stores a taught variant or example and makes it live at once."""
        row = FaqVariant(
            topic_id=taught.topic_id, locale=taught.lang, text=taught.text, added_at=turn.now
        )
        turn.session.add(row)
        turn.session.flush()
        self.library.teach((*self.library.taught, taught), row.id)

    def on_gap(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """🆕 Nuovo argomento: the question is recorded for whoever writes the content."""
        if not turn.is_staff:
            return staff_only(turn)
        question = self._question(turn, args)
        asked = int(args[1]) if len(args) > 1 and str(args[1]).isdigit() else 1
        turn.session.add(
            FaqGap(locale=question.locale, text=question.text, asked=asked, recorded_at=turn.now)
        )
        return say(
            _("🆕 Segnata come argomento da scrivere: «{question}».").format(question=question.text)
        )

    @staticmethod
    def _question(turn: Turn, args: tuple[str, ...]) -> FaqQuestion:
        question_id = str(args[0]) if args else ""
        question = (
            turn.session.get(FaqQuestion, int(question_id)) if question_id.isdigit() else None
        )
        if question is None:
            raise Stale
        return question
