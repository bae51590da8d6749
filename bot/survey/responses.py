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
    """An empty partial response, in the user's row if there is one."""
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
    response.locale, response.channel = turn.user.locale, turn.inbound.channel
    response.status, response.answers, response.completed_at = "partial", {}, None
    response.updated_at = turn.now
    return response


def save(turn: Turn, survey: Survey, response: SurveyResponse, answers: dict[str, Any]) -> None:
    response.answers = prune(survey, answers)
    response.updated_at, response.locale = turn.now, turn.user.locale
