"""The respondent's stored answers: one row per user and questionnaire version."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from bot.core.turn import Stale, Turn
from bot.storage.models import SurveyResponse
from bot.survey.logic import prune
from bot.survey.questionnaire import Survey

FLOW = "survey"  # the conversation's flow while the user answers; its step is a question id


def find(turn: Turn, survey: Survey) -> SurveyResponse | None:
    query = select(SurveyResponse).where(
        SurveyResponse.user_id == turn.user.id,
        SurveyResponse.survey_id == survey.id,
        SurveyResponse.version == survey.version,
    )
    return turn.session.scalars(query).one_or_none()


def require(turn: Turn, survey: Survey) -> SurveyResponse:
    """The user's response; without one, the button pressed is stale."""
    response = find(turn, survey)
    if response is None:
        raise Stale
    return response


def fresh(turn: Turn, survey: Survey) -> SurveyResponse:
    """An empty partial response, in the user's row if there is one; a confirmed one is kept
    and the new answers go to its draft until they are confirmed."""
    response = find(turn, survey)
    if response is None:
        response = SurveyResponse(
            public_id=uuid.uuid4().hex,
            user_id=turn.user.id,
            survey_id=survey.id,
            version=survey.version,
            started_at=turn.now,
        )
        turn.session.add(response)
    response.updated_at = turn.now
    if response.status == "completed":
        response.draft = {}
        return response
    response.locale, response.channel = turn.user.locale, turn.inbound.channel
    response.answers, response.draft, response.completed_at = {}, None, None
    return response


def working(response: SurveyResponse) -> dict[str, Any]:
    """The answers being given: a retake's draft, else the response's own."""
    return response.draft if response.draft is not None else response.answers


def unfinished(response: SurveyResponse | None) -> bool:
    """A partial response, or a confirmed one with a retake under way."""
    return response is not None and (response.status != "completed" or response.draft is not None)


def save(turn: Turn, survey: Survey, response: SurveyResponse, answers: dict[str, Any]) -> None:
    if response.draft is not None:
        response.draft = prune(survey, answers)
    else:
        response.answers = prune(survey, answers)
        response.locale = turn.user.locale
    response.updated_at = turn.now


def confirm(turn: Turn, response: SurveyResponse) -> None:
    """The answers given become the response: a retake's draft replaces the confirmed ones."""
    if response.draft is not None:
        response.answers, response.draft = response.draft, None
        response.locale, response.channel = turn.user.locale, turn.inbound.channel
    response.status, response.completed_at = "completed", turn.now
    response.updated_at = turn.now
