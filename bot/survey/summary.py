"""The summary at the end: every answer at a glance, then change one, or confirm and send."""

from __future__ import annotations

from typing import Any

from bot import metrics
from bot.core.turn import Stale, Turn
from bot.storage.models import SurveyResponse
from bot.survey import card, responses
from bot.survey.logic import answered, visible
from bot.survey.questionnaire import Question, Survey
from bot.survey.responses import FLOW
from bot.values.i18n import _, current_locale
from bot.values.markup import Rich, bold, join
from bot.values.messages import Answer, Reply, rows, say


def show(turn: Turn, survey: Survey, response: SurveyResponse) -> Answer:
    locale = current_locale()
    lines: list[Rich | str] = [bold(_("Ecco le tue risposte:"))]
    for question in visible(survey, response.answers):
        lines.append("• " + question.text.get(locale) + " " + _shown(question, response.answers))
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
        scale = {s.id: s.label.get(locale) for s in question.scale}
        parts = [
            f"{i.label.get(locale)}: {scale.get(str(answers[f'{question.id}.{i.id}']), '—')}"
            for i in question.items
            if f"{question.id}.{i.id}" in answers
        ]
        return "→ " + "; ".join(parts)
    value = answers.get(question.id)
    if isinstance(value, list):
        chosen = [labelled.get(str(v), str(v)) for v in value]
        other = answers.get(f"{question.id}.altro")
        return "→ " + ", ".join(chosen) + (f" ({other})" if other else "")
    return "→ " + str(labelled.get(str(value), value))


class Summary:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    def _reached(self, turn: Turn) -> SurveyResponse:
        """The response, if the user is at the summary; a button from elsewhere is stale."""
        if turn.conversation.flow != FLOW or turn.conversation.step != "summary":
            raise Stale
        return responses.require(turn, self.survey)

    def on_change(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        response = self._reached(turn)
        locale = current_locale()
        buttons = [
            turn.button(q.text.get(locale)[:60], "sv_edit", q.id)
            for q in visible(self.survey, response.answers)
        ]
        return say(_("Quale risposta vuoi cambiare?"), buttons=rows(*buttons))

    def on_edit(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        response = self._reached(turn)
        question_id = args[0] if args else ""
        if question_id not in {q.id for q in visible(self.survey, response.answers)}:
            raise Stale
        skipped = [s for s in turn.conversation.data.get("skipped", []) if s != question_id]
        turn.conversation.step = question_id
        turn.remember(skipped=skipped, item=0, other=False)
        return card.ask(turn, self.survey)

    def on_confirm(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        response = self._reached(turn)
        response.status, response.completed_at = "completed", turn.now
        metrics.survey_completed()
        response.updated_at = turn.now
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
