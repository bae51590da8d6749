"""The message that asks one question: where we are, the question, its buttons, back, skip."""

from __future__ import annotations

from typing import Any

from bot.core.turn import Turn
from bot.survey import responses
from bot.survey.logic import progress
from bot.survey.questionnaire import Question, Survey
from bot.values.i18n import _, current_locale
from bot.values.markup import Rich, bold, join, text
from bot.values.messages import Answer, Button, Reply, rows


def current(turn: Turn, survey: Survey) -> Question:
    return survey.question(turn.conversation.step or survey.questions[0].id)


def ask(turn: Turn, survey: Survey, notice: str | None = None, replace: bool = False) -> Answer:
    question = current(turn, survey)
    response = responses.find(turn, survey)
    answers = responses.working(response) if response else {}
    skipped = turn.conversation.data.get("skipped", [])
    number, total = progress(survey, answers, question.id, skipped)
    locale = current_locale()
    head = _("Domanda {number} di {total}").format(number=number, total=total)
    lines: list[Rich | str] = [text(head), bold(question.text.get(locale))]
    if question.type == "grid":
        index = grid_index(turn, question)
        place = _("voce {number} di {total}").format(number=index + 1, total=len(question.items))
        lines.append(bold("➡️ " + question.items[index].label.get(locale)) + f" ({place})")
    if question.type in ("text", "number"):
        lines.append(_("Scrivi la risposta qui sotto."))
    if question.type == "multiple":
        lines.append(_('Puoi sceglierne più di una, poi premi "Fatto".'))
    buttons = (*_choices(turn, question, answers), _navigation(turn, question))
    body = join(([notice] if notice else []) + lines)
    keyboard = tuple(row for row in buttons if row)
    return Answer((Reply(body, keyboard, replace, typed=question.type in ("text", "number")),))


def grid_index(turn: Turn, question: Question) -> int:
    """The grid item being rated, kept within the grid."""
    index = int(turn.conversation.data.get("item", 0))
    return min(max(index, 0), len(question.items) - 1)


def labels(question: Question, locale: str) -> list[tuple[str, str]]:
    """(option id, label) of each choice; yes/no questions have theirs built in."""
    if question.type == "yesno":
        return [("si", _("Sì")), ("no", _("No"))]
    return [(o.id, o.label.get(locale)) for o in question.options]


def _choices(
    turn: Turn, question: Question, answers: dict[str, Any]
) -> tuple[tuple[Button, ...], ...]:
    locale = current_locale()
    if question.type in ("single", "yesno"):
        chosen = answers.get(question.id)
        return rows(
            *(
                turn.button(("✓ " if o == chosen else "") + label, "sv_ans", question.id, o)
                for o, label in labels(question, locale)
            ),
            per_row=2,
        )
    if question.type == "multiple":
        chosen_many = set(answers.get(question.id, []))
        toggles = [
            turn.button(("✅ " if o in chosen_many else "▫️ ") + label, "sv_tog", question.id, o)
            for o, label in labels(question, locale)
        ]
        return (
            *rows(*toggles, per_row=2),
            (turn.button(_("✔️ Fatto"), "sv_done", question.id),),
        )
    if question.type == "grid":
        item = question.items[grid_index(turn, question)]
        return rows(
            *(
                turn.button(s.label.get(locale), "sv_grid", question.id, item.id, s.id)
                for s in question.scale
            ),
            per_row=2,
        )
    return ()


def _navigation(turn: Turn, question: Question) -> tuple[Button, ...]:
    buttons = []
    if turn.conversation.data.get("trail"):
        buttons.append(turn.button(_("⬅️ Indietro"), "sv_back"))
    if not question.required:
        buttons.append(turn.button(_("Salta ⏭"), "sv_skip", question.id))
    return tuple(buttons)
