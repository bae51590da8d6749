"""The needs survey in the chat, assembled: one question at a time, back, skip, resume,
side questions, summary."""

from __future__ import annotations

from bot.core.turn import Command, Feature
from bot.survey import staff as survey_staff
from bot.survey.answers import ButtonAnswers, TypedAnswers
from bot.survey.aside import Aside, SideAnswer
from bot.survey.entrance import Entrance
from bot.survey.questionnaire import Survey
from bot.survey.responses import FLOW
from bot.survey.summary import Summary


def feature(survey: Survey, side: SideAnswer) -> Feature:
    entrance = Entrance(survey)
    answers = ButtonAnswers(survey)
    summary = Summary(survey)
    typed = TypedAnswers(survey, Aside(side))
    return Feature(
        name=FLOW,
        commands={
            **survey_staff.commands(survey),
            "questionario": Command(entrance.open),
        },
        buttons={
            "survey": lambda turn, _args: entrance.open(turn),
            "sv_restart": entrance.restart,
            "sv_resume": entrance.resume,
            "sv_ans": answers.on_answer,
            "sv_tog": answers.on_toggle,
            "sv_done": answers.on_done,
            "sv_grid": answers.on_grid,
            "sv_skip": answers.on_skip,
            "sv_back": answers.on_back,
            "sv_change": summary.on_change,
            "sv_summary": summary.on_show,
            "sv_edit": summary.on_edit,
            "sv_confirm": summary.on_confirm,
            "cancel_survey": entrance.cancel,
            **survey_staff.buttons(survey),
        },
        flow=typed.on_text,
        greet=entrance.waiting,
    )
