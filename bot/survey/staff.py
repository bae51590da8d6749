"""Survey results for staff in the chat: /statistiche [area] and /esporta."""

from __future__ import annotations

from typing import Any

from bot.core.turn import ButtonHandler, Command, Stale, Turn
from bot.survey.logic import headline
from bot.survey.questionnaire import Question, Survey
from bot.survey.results import chart_png, hidden, stats, summary_text
from bot.survey.sheets import csv_bytes, responses_query, xlsx_bytes
from bot.values.choices import choose
from bot.values.i18n import N_, _, current_locale
from bot.values.markup import shorten, text
from bot.values.messages import Answer, Document, Image, rows, say

N_STATS = N_("statistiche del questionario, con un pulsante per grafico (facoltativo: un'area)")
N_EXPORT = N_("esporta le risposte del questionario (CSV e XLSX)")


class SurveyResults:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    def statistics(self, turn: Turn) -> Answer:
        """/statistiche [area]: a short summary, with a button per chart."""
        typed = " ".join(turn.inbound.text.split()[1:])
        area = self.area_named(typed) if typed else None
        if typed and area is None:
            names = ", ".join(label for label, _id in self.areas())
            return say(_("Area sconosciuta. Usa una di queste: {areas}").format(areas=names))
        results = self.results(turn, area)
        small = self.smallest(turn, area)
        if area and (
            hidden(results["responses"]["completed"], small)
            or not results["responses"]["completed"]
        ):
            refusal = _(
                "Nell'area {area} le risposte completate sono meno di {count}: per non rendere "
                "riconoscibile nessuno, non mostro statistiche per quest'area."
            ).format(area=dict((i, label) for label, i in self.areas())[area], count=small)
            return say(refusal)
        locale = current_locale()
        buttons = [
            turn.button(
                "📊 " + shorten(headline(q.text.get(locale)), 40), "sv_chart", q.id, area or ""
            )
            for q in self.survey.questions
            if self.charted(q, results, small)
        ]
        summary = summary_text(self.survey, results, locale, small=small)
        return say(summary, buttons=rows(*buttons))

    def on_chart(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        """One chart, from the buttons under /statistiche."""
        question_id, area = (*args, "", "")[:2]
        if not turn.is_staff or question_id not in {q.id for q in self.survey.questions}:
            raise Stale
        results = self.results(turn, area or None)
        small = self.smallest(turn, area or None)
        if not self.charted(self.survey.question(question_id), results, small):
            raise Stale
        data = results["questions"][question_id]
        png = chart_png(self.survey, data, question_id, current_locale(), small=small)
        return Answer((Image(f"{question_id}.png", png),))

    @staticmethod
    def smallest(turn: Turn, area: str | None) -> int:
        """Counts below this are hidden: in a breakdown by area they could point at one firm."""
        return turn.settings.report_min_count if area else 0

    @staticmethod
    def charted(question: Question, results: dict[str, Any], small: int) -> bool:
        """Has a chart: answered, not free text, and no histogram of single firms by area."""
        individual = question.type == "number" and small > 0
        answered = results["questions"][question.id].get("answered")
        return question.type != "text" and bool(answered) and not individual

    def results(self, turn: Turn, area: str | None) -> dict[str, Any]:
        responses = turn.session.scalars(responses_query(self.survey)).all()
        return stats(self.survey, responses, area=area)

    def areas(self) -> list[tuple[str, str]]:
        """(label, id) of each area, in the staff's language."""
        question = self.survey.question("area")
        return [(o.label.get(current_locale()), o.id) for o in question.options]

    def area_named(self, typed: str) -> str | None:
        """The area a staff member typed: its id, its name or a part of it ("pellice")."""
        return choose(typed, self.areas())

    def export(self, turn: Turn) -> Answer:
        """/esporta: every response as CSV and XLSX documents, pseudonymous."""
        responses = turn.session.scalars(responses_query(self.survey)).all()
        stamp = turn.now.strftime("%Y%m%d")
        name = f"{self.survey.id}-{stamp}"
        caption = text(_("Risposte al questionario: {count}.").format(count=len(responses)))
        return Answer(
            (
                Document(f"{name}.csv", csv_bytes(self.survey, responses), "text/csv", caption),
                Document(
                    f"{name}.xlsx",
                    xlsx_bytes(self.survey, responses, current_locale()),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            )
        )


def commands(survey: Survey) -> dict[str, Command]:
    results = SurveyResults(survey)
    return {
        "statistiche": Command(results.statistics, staff=True, description=N_STATS),
        "esporta": Command(results.export, staff=True, description=N_EXPORT),
    }


def buttons(survey: Survey) -> dict[str, ButtonHandler]:
    return {"sv_chart": SurveyResults(survey).on_chart}
