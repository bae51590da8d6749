"""The summary at the end: every answer at a glance, then change one, or confirm and send."""

from __future__ import annotations

from typing import Any

from bot.core.turn import Stale, Turn
from bot.ops import metrics
from bot.storage.models import SurveyResponse
from bot.survey import card, responses
from bot.survey.logic import answered, headline, visible
from bot.survey.questionnaire import Question, Survey
from bot.survey.responses import FLOW
from bot.values.i18n import _, current_locale
from bot.values.markup import Rich, bold, join, shorten
from bot.values.messages import Answer, Reply, rows, say

CHOICES = " · "  # between the choices of one answer: labels may hold commas


def show(turn: Turn, survey: Survey, response: SurveyResponse) -> Answer:
    """One line per question (its title without hints), and its answer."""
    locale = current_locale()
    answers = responses.working(response)
    lines: list[Rich | str] = [bold(_("Ecco le tue risposte:"))]
    for question in visible(survey, answers):
        shown = _shown(question, answers)
        space = "" if shown.startswith("\n") else " "
        lines.append("• " + headline(question.text.get(locale)) + space + shown)
    keyboard = rows(
        turn.button(_("✅ Conferma e invia"), "sv_confirm"),
        turn.button(_("✏️ Cambia una risposta"), "sv_change"),
    )
    return Answer((Reply(join(lines), keyboard),))


def _shown(question: Question, answers: dict[str, Any]) -> str:
    locale = current_locale()
    if not answered(question, answers):
        return "— " + _("saltata")
    labelled = dict(card.labels(question, locale))
    if question.type == "grid":
        return "\n" + _grid_lines(question, answers, locale)
    value = answers.get(question.id)
    if isinstance(value, list):
        chosen = [labelled.get(str(v), str(v)) for v in value]
        other = answers.get(f"{question.id}.altro")
        return "→ " + CHOICES.join(chosen) + (f" ({other})" if other else "")
    return "→ " + str(labelled.get(str(value), value))


def _grid_lines(question: Question, answers: dict[str, Any], locale: str) -> str:
    """A grid in a few lines: for each value of the scale, the items given it."""
    lines = []
    for level in question.scale:
        items = [
            i.label.get(locale)
            for i in question.items
            if answers.get(f"{question.id}.{i.id}") == level.id
        ]
        if items:
            lines.append(f"   {level.label.get(locale)}: " + CHOICES.join(items))
    return "\n".join(lines)


class Summary:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    def _reached(self, turn: Turn) -> SurveyResponse:
        """The response, if the user is at the summary; a button from elsewhere is stale."""
        if turn.conversation.flow != FLOW or turn.conversation.step != "summary":
            raise Stale
        return responses.require(turn, self.survey)

    def on_show(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        """Back to the summary from the list of answers to change."""
        response = self._reached(turn)
        return show(turn, self.survey, response)

    def on_change(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        response = self._reached(turn)
        locale = current_locale()
        buttons = [
            turn.button(shorten(headline(q.text.get(locale)), 60), "sv_edit", q.id)
            for q in visible(self.survey, responses.working(response))
        ]
        buttons.append(turn.button(_("⬅️ Torna al riepilogo"), "sv_summary"))
        return say(_("Quale risposta vuoi cambiare?"), buttons=rows(*buttons))

    def on_edit(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        response = self._reached(turn)
        question_id = args[0] if args else ""
        if question_id not in {q.id for q in visible(self.survey, responses.working(response))}:
            raise Stale
        skipped = [s for s in turn.conversation.data.get("skipped", []) if s != question_id]
        turn.conversation.step = question_id
        turn.remember(skipped=skipped, item=0, other=False)
        return card.ask(turn, self.survey)

    def on_confirm(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        response = self._reached(turn)
        responses.confirm(turn, response)
        metrics.survey_completed()
        turn.end_flow()
        offers = [
            turn.button(_("📅 Avvisami degli eventi"), "events"),
            turn.button(_("📞 Fissa una richiamata"), "callback", "rete"),
            turn.button(_("☰ Menu"), "menu"),
        ]
        thanks = _(
            "Grazie! Le tue risposte sono state registrate: ci aiutano a costruire i "
            "servizi di welfare del territorio."
        )
        if response.answers.get("rete") in ("si", "forse"):
            thanks += "\n" + _(
                "Ci fa piacere che tu sia interessato alla rete: vuoi che una "
                "persona dello staff ti richiami per parlarne?"
            )
        return say(thanks, buttons=rows(*offers))
