"""Survey results for staff in the chat: /statistiche [area] and /esporta."""

from __future__ import annotations

from bot.core.turn import Command, Turn
from bot.survey.questionnaire import Survey
from bot.survey.results import chart_png, hidden, stats, summary_text
from bot.survey.sheets import csv_bytes, responses_query, xlsx_bytes
from bot.values.i18n import N_, _, current_locale
from bot.values.markup import text
from bot.values.messages import Answer, Document, Image, Outbound, Reply

N_STATS = N_("statistiche del questionario, con i grafici (facoltativo: un'area)")
N_EXPORT = N_("esporta le risposte del questionario (CSV e XLSX)")


class SurveyResults:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    def statistics(self, turn: Turn) -> Answer:
        """/statistiche [area]: a short summary, then one chart per question."""
        words = turn.inbound.text.split()
        area = words[1].lower() if len(words) > 1 else None
        areas = self.survey.question("area").option_ids()
        if area is not None and area not in areas:
            return Answer(
                (
                    Reply(
                        text(
                            _("Area sconosciuta. Usa una di queste: {areas}").format(
                                areas=", ".join(areas)
                            )
                        )
                    ),
                )
            )
        responses = turn.session.scalars(responses_query(self.survey)).all()
        results = stats(self.survey, responses, area=area)
        small = turn.settings.report_min_count if area else 0  # a breakdown by area
        if hidden(results["responses"]["completed"], small) or (
            area and not results["responses"]["completed"]
        ):
            refusal = _(
                "Nell'area {area} le risposte completate sono meno di {count}: per non rendere "
                "riconoscibile nessuno, non mostro statistiche per quest'area."
            ).format(area=area, count=small)
            return Answer((Reply(text(refusal)),))
        locale = current_locale()
        summary = summary_text(self.survey, results, locale, small=small)
        messages: list[Outbound] = [Reply(text(summary))]
        for question in self.survey.questions:
            data = results["questions"][question.id]
            individual = question.type == "number" and small  # a histogram shows each firm
            if question.type != "text" and data.get("answered") and not individual:
                png = chart_png(self.survey, data, question.id, locale, small=small)
                messages.append(Image(f"{question.id}.png", png))
        return Answer(tuple(messages))

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
                    xlsx_bytes(self.survey, responses),
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
