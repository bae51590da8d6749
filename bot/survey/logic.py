"""Pure decisions of the survey: which questions a respondent sees, in what order, and
whether a typed answer is valid. No database, no channel: tested with tables of cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.survey.questionnaire import Question, Survey
from bot.values.choices import choose, fold

Answers = Mapping[str, Any]


def shown(question: Question, answers: Answers) -> bool:
    """A question without `when` is always shown; otherwise only if the earlier answer fits."""
    return question.when is None or answers.get(question.when.question) in question.when.in_


def visible(survey: Survey, answers: Answers) -> list[Question]:
    return [q for q in survey.questions if shown(q, answers)]


def progress(
    survey: Survey, answers: Answers, current: str, skipped: Iterable[str] = ()
) -> tuple[int, int]:
    """("Domanda 4 di 12"): the position of `current` among the questions this respondent
    will see. Questions hanging on an answer not given yet count as the most that answer
    could open, so the total can only shrink as the survey goes on."""
    ids = [q.id for q in visible(survey, answers)]
    position = ids.index(current) + 1 if current in ids else len(ids)
    return position, len(ids) + _still_possible(survey, answers, set(skipped))


def _still_possible(survey: Survey, answers: Answers, skipped: set[str]) -> int:
    open_sources = {
        q.when.question
        for q in survey.questions
        if q.when and q.when.question not in answers and q.when.question not in skipped
    }
    total = 0
    for source in open_sources:
        dependants = [q for q in survey.questions if q.when and q.when.question == source]
        options = survey.question(source).option_ids()
        total += max(sum(option in q.when.in_ for q in dependants if q.when) for option in options)
    return total


def answered(question: Question, answers: Answers) -> bool:
    """Whether the question is done (a grid: every item rated)."""
    if question.type == "grid":
        return all(f"{question.id}.{item.id}" in answers for item in question.items)
    return question.id in answers


def first_open_item(question: Question, answers: Answers) -> int:
    """Where to resume a grid: its first item not rated yet."""
    for index, item in enumerate(question.items):
        if f"{question.id}.{item.id}" not in answers:
            return index
    return 0


def before(survey: Survey, answers: Answers, question_id: str) -> list[str]:
    """The answered questions before `question_id`: the way back after a resume."""
    ids: list[str] = []
    for question in visible(survey, answers):
        if question.id == question_id:
            break
        if question.id in answers or any(k.startswith(question.id + ".") for k in answers):
            ids.append(question.id)
    return ids


def pending(survey: Survey, answers: Answers, skipped: set[str]) -> Question | None:
    """The first visible question neither answered nor skipped: where to ask next."""
    for question in visible(survey, answers):
        if not answered(question, answers) and question.id not in skipped:
            return question
    return None


def prune(survey: Survey, answers: Answers) -> dict[str, Any]:
    """Drops the answers to questions no longer shown (e.g. "no employees" after all)."""
    hidden = {q.id for q in survey.questions if not shown(q, answers)}
    kept = {k: v for k, v in answers.items() if k.split(".")[0] not in hidden}
    return kept if len(kept) == len(answers) else prune(survey, kept)


def headline(text: str) -> str:
    """A question's title without its hints: up to its question mark."""
    mark = text.find("?")
    return text[: mark + 1] if 0 < mark < len(text) - 1 else text


def keys_of(question: Question) -> list[str]:
    """The answer keys a question writes (its export columns)."""
    if question.type == "grid":
        return [f"{question.id}.{item.id}" for item in question.items]
    return [question.id, f"{question.id}.altro"] if question.other else [question.id]


@dataclass(frozen=True)
class Invalid:
    """A typed answer that does not fit; `reason` is a message id for the re-ask."""

    reason: str


def parse_number(question: Question, text: str) -> int | Invalid:
    cleaned = text.strip().replace(".", "").replace(" ", "")
    if not cleaned.lstrip("-").isdigit():
        return Invalid("number")
    value = int(cleaned)
    if (question.min is not None and value < question.min) or (
        question.max is not None and value > question.max
    ):
        return Invalid("range")
    return value


def parse_text(question: Question, text: str) -> str | Invalid:
    cleaned = " ".join(text.split())
    if not cleaned:
        return Invalid("empty")
    if len(cleaned) > question.max_length:
        return Invalid("long")
    return cleaned


def option_by_label(question: Question, text: str, locale: str) -> str | None:
    """A typed answer that names an option ("val pelice", "dirigeant", "si", "2") counts as
    pressing it: its position, its label in the person's language or a part of it (typos
    forgiven), or its id."""
    typed = fold(text)
    ids = question.option_ids()
    if typed.isdigit() and 1 <= int(typed) <= len(ids):
        return ids[int(typed) - 1]
    pairs = [(o.label.get(locale), o.id) for o in question.options]
    if question.type == "yesno":
        pairs = [("si yes oui", "si"), ("no non", "no")]
    return choose(typed, pairs)


def scale_by_label(question: Question, text: str, locale: str) -> str | None:
    """A typed grid answer ("molto", "assez", "2") as the scale value it names."""
    typed = fold(text)
    ids = [level.id for level in question.scale]
    if typed.isdigit() and 1 <= int(typed) <= len(ids):
        return ids[int(typed) - 1]
    return choose(typed, [(s.label.get(locale), s.id) for s in question.scale])


# The first words of a question, in the three languages ("quanto valgono...", "comment...").
QUESTION_WORDS = frozenset(
    [
        "come",
        "cosa",
        "che",
        "chi",
        "quando",
        "dove",
        "perche",
        "quanto",
        "quanti",
        "quanta",
        "quale",
        "quali",
        "posso",
        "puoi",
        "how",
        "what",
        "who",
        "when",
        "where",
        "why",
        "which",
        "can",
        "could",
        "is",
        "are",
        "do",
        "does",
        "comment",
        "quoi",
        "qui",
        "quand",
        "ou",
        "pourquoi",
        "combien",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "est",
        "puis",
    ]
)


def reads_as_question(text: str) -> bool:
    """Whether typed text that named no option is a side question for the FAQ."""
    words = fold(text).split()
    return "?" in text or (len(words) > 2 and words[0] in QUESTION_WORDS)
