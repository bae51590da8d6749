"""The way through the questionnaire: after an answer, on to the next open question or the
summary, keeping the trail that "Back" walks."""

from __future__ import annotations

from typing import Any

from bot.core.turn import Turn
from bot.storage.models import SurveyResponse
from bot.survey import card, responses, summary
from bot.survey.logic import before, first_open_item, pending
from bot.survey.questionnaire import Question, Survey
from bot.values.messages import Answer


def record(turn: Turn, survey: Survey, question: Question, values: dict[str, Any]) -> Answer:
    """Saves the answer (the question is no longer skipped) and moves on."""
    response = responses.require(turn, survey)
    responses.save(turn, survey, response, {**responses.working(response), **values})
    skipped = [s for s in turn.conversation.data.get("skipped", []) if s != question.id]
    turn.remember(skipped=skipped)
    return advance(turn, survey, question)


def advance(turn: Turn, survey: Survey, question: Question) -> Answer:
    """Puts `question` on the trail and moves on."""
    trail = [*turn.conversation.data.get("trail", []), question.id]
    turn.remember(trail=trail, item=0, other=False)
    response = responses.require(turn, survey)
    return proceed(turn, survey, response)


def proceed(turn: Turn, survey: Survey, response: SurveyResponse) -> Answer:
    """Asks the first question neither answered nor skipped, or shows the summary."""
    skipped = set(turn.conversation.data.get("skipped", []))
    nxt = pending(survey, responses.working(response), skipped)
    if nxt is None:
        turn.conversation.step = "summary"
        return summary.show(turn, survey, response)
    turn.conversation.step = nxt.id
    if nxt.type == "grid":
        turn.remember(item=first_open_item(nxt, responses.working(response)))
    if not turn.conversation.data.get("trail"):
        # a resume starts without a trail: rebuilt from the answers, so "Back" works
        turn.remember(trail=before(survey, responses.working(response), nxt.id))
    return card.ask(turn, survey)
