"""Answering the question asked: with its buttons (a choice, ticks then "Done", a grid row by
row, skip, back) or in writing (a number, a text, the "other" of a multiple choice)."""

from __future__ import annotations

from bot.core import replies
from bot.core.turn import Stale, Turn
from bot.survey import card, course, responses
from bot.survey.aside import Aside
from bot.survey.logic import (
    Invalid,
    keys_of,
    option_by_label,
    parse_number,
    parse_text,
    reads_as_question,
    scale_by_label,
)
from bot.survey.questionnaire import Question, Survey
from bot.survey.responses import FLOW
from bot.values.i18n import _, current_locale
from bot.values.messages import Answer, Kind, say


class ButtonAnswers:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    def _check_current(self, turn: Turn, question_id: str) -> Question:
        if turn.conversation.flow != FLOW or turn.conversation.step != question_id:
            raise Stale  # a button from an earlier question or an old survey
        return card.current(turn, self.survey)

    def on_answer(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question_id, option = (*args, "", "")[:2]
        question = self._check_current(turn, question_id)
        if option not in question.option_ids():
            raise Stale
        return course.record(turn, self.survey, question, {question.id: option})

    def on_toggle(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question_id, option = (*args, "", "")[:2]
        question = self._check_current(turn, question_id)
        if option not in question.option_ids():
            raise Stale
        return toggle(turn, self.survey, question, option, replace=True)

    def on_done(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question = self._check_current(turn, args[0] if args else "")
        response = responses.require(turn, self.survey)
        chosen = responses.working(response).get(question.id, [])
        if not chosen:
            notice = _('Scegli almeno una voce, oppure premi "Salta".')
            return card.ask(turn, self.survey, notice=notice)
        if question.other and "altro" in chosen and not turn.conversation.data.get("other"):
            turn.remember(other=True)
            return say(_("Quali altri servizi? Scrivili qui sotto."))
        return course.advance(turn, self.survey, question)

    def on_grid(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question_id, item_id, scale_id = (*args, "", "", "")[:3]
        question = self._check_current(turn, question_id)
        item = question.items[card.grid_index(turn, question)]
        if item.id != item_id or scale_id not in {s.id for s in question.scale}:
            raise Stale
        return rate(turn, self.survey, question, scale_id, replace=True)

    def on_skip(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question = self._check_current(turn, args[0] if args else "")
        if question.required:
            raise Stale
        response = responses.require(turn, self.survey)
        answers = {
            k: v for k, v in responses.working(response).items() if k not in keys_of(question)
        }
        responses.save(turn, self.survey, response, answers)
        skipped = [*turn.conversation.data.get("skipped", []), question.id]
        turn.remember(skipped=sorted(set(skipped)))
        return course.advance(turn, self.survey, question)

    def on_back(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if turn.conversation.flow != FLOW:
            raise Stale
        question = card.current(turn, self.survey)
        if question.type == "grid" and card.grid_index(turn, question) > 0:
            turn.remember(item=card.grid_index(turn, question) - 1)
            return card.ask(turn, self.survey, replace=True)
        trail = list(turn.conversation.data.get("trail", []))
        if not trail:
            return card.ask(turn, self.survey)
        previous = self.survey.question(trail.pop())
        turn.conversation.step = previous.id
        skipped = [s for s in turn.conversation.data.get("skipped", []) if s != previous.id]
        turn.remember(
            trail=trail,
            skipped=skipped,
            other=False,
            item=len(previous.items) - 1 if previous.type == "grid" else 0,
        )
        return card.ask(turn, self.survey, replace=True)


class TypedAnswers:
    def __init__(self, survey: Survey, aside: Aside) -> None:
        self.survey = survey
        self.aside = aside

    def on_text(self, turn: Turn) -> Answer:
        """Typed text in the survey: an answer where one fits, else a side question."""
        step = turn.conversation.step or ""
        if turn.inbound.kind is not Kind.TEXT:
            return replies.unsupported(turn) + self.aside.resume_offer(turn)
        if step == "summary":
            return self.aside.answer(turn)
        question = card.current(turn, self.survey)
        typed = turn.inbound.text
        if question.type == "multiple" and turn.conversation.data.get("other"):
            value = parse_text(question, typed)
            if isinstance(value, Invalid):
                return say(invalid_message(value))
            response = responses.require(turn, self.survey)
            answers = {**responses.working(response), f"{question.id}.altro": value}
            responses.save(turn, self.survey, response, answers)
            return course.advance(turn, self.survey, question)
        if question.type == "number":
            number = parse_number(question, typed)
            if isinstance(number, Invalid):
                return card.ask(turn, self.survey, notice=invalid_message(number))
            return course.record(turn, self.survey, question, {question.id: number})
        if question.type == "text":
            written = parse_text(question, typed)
            if isinstance(written, Invalid):
                return card.ask(turn, self.survey, notice=invalid_message(written))
            return course.record(turn, self.survey, question, {question.id: written})
        return self._choice(turn, question, typed)

    def _choice(self, turn: Turn, question: Question, typed: str) -> Answer:
        """A typed choice counts as its button; a question goes to the FAQ; anything else
        gets the question again."""
        locale = current_locale()
        if question.type == "grid":
            level = scale_by_label(question, typed, locale)
            if level is not None:
                return rate(turn, self.survey, question, level)
        option = option_by_label(question, typed, locale)
        if option is not None and question.type in ("single", "yesno"):
            return course.record(turn, self.survey, question, {question.id: option})
        if option is not None and question.type == "multiple":
            return toggle(turn, self.survey, question, option)
        if reads_as_question(typed):
            return self.aside.answer(turn)
        notice = _("Non ho riconosciuto la risposta: scegli una voce qui sotto.")
        return card.ask(turn, self.survey, notice=notice)


def toggle(
    turn: Turn, survey: Survey, question: Question, option: str, replace: bool = False
) -> Answer:
    """Ticks or unticks one choice of a multiple-choice question."""
    response = responses.require(turn, survey)
    answers = responses.working(response)
    chosen = list(answers.get(question.id, []))
    chosen = [o for o in chosen if o != option] if option in chosen else [*chosen, option]
    ordered = [o for o in question.option_ids() if o in chosen]
    responses.save(turn, survey, response, {**answers, question.id: ordered})
    return card.ask(turn, survey, replace=replace)


def rate(
    turn: Turn, survey: Survey, question: Question, level: str, replace: bool = False
) -> Answer:
    """Rates the grid's current item, then on to the next item or question."""
    response = responses.require(turn, survey)
    index = card.grid_index(turn, question)
    key = f"{question.id}.{question.items[index].id}"
    responses.save(turn, survey, response, {**responses.working(response), key: level})
    if index + 1 < len(question.items):
        turn.remember(item=index + 1)
        return card.ask(turn, survey, replace=replace)
    return course.advance(turn, survey, question)


def invalid_message(invalid: Invalid) -> str:
    """What to tell the user about a typed answer that does not fit."""
    messages = {
        "number": _("Mi serve un numero intero, per esempio 3."),
        "range": _("Questo numero è fuori dall'intervallo previsto: riprova."),
        "empty": _('Il messaggio è vuoto: scrivi la risposta, oppure premi "Salta".'),
        "long": _("È un po' troppo lungo: riassumi in poche righe, per favore."),
    }
    return messages[invalid.reason]
