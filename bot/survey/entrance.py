"""Into and out of the survey: consent, the introduction, start, resume, restart, /annulla."""

from __future__ import annotations

from bot.basics import privacy
from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.survey import card, course, responses, summary
from bot.survey.questionnaire import Survey
from bot.survey.responses import FLOW
from bot.values.i18n import _, current_locale, format_date
from bot.values.markup import bold, join
from bot.values.messages import Answer, Reply, rows, say


class Entrance:
    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    def intro(self, turn: Turn) -> Answer:
        """The first visit: the survey's title and introduction, then Start or Not now."""
        locale = current_locale()
        intro = join([bold(self.survey.title.get(locale)), self.survey.intro.get(locale)])
        keyboard = rows(turn.button(_("▶️ Inizia"), "sv_restart"), turn.button(_("Non ora"), "menu"))
        return Answer((Reply(intro, keyboard),))

    def open(self, turn: Turn) -> Answer:
        """From the menu, /questionario or a deep link: consent, then start or resume."""
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "survey")
        response = responses.find(turn, self.survey)
        if response is None:
            return self.intro(turn)
        if not responses.unfinished(response):
            done = format_date(response.completed_at or response.updated_at)
            return say(
                _(
                    "Hai già risposto al questionario il {day}. Vuoi rispondere di nuovo? Le "
                    "nuove risposte sostituiranno quelle date."
                ).format(day=done),
                buttons=rows(
                    turn.button(_("🔁 Rispondi di nuovo"), "sv_restart"),
                    turn.button(_("No, va bene così"), "menu"),
                ),
            )
        return self.unfinished_offer(turn)

    def waiting(self, turn: Turn) -> Answer:
        """On coming back (/start, a terminal reopened): an unfinished survey is offered."""
        response = responses.find(turn, self.survey)
        if not responses.unfinished(response) or not privacy.has_consent(turn):
            return Answer()
        return self.unfinished_offer(turn)

    def unfinished_offer(self, turn: Turn) -> Answer:
        return say(
            _("Hai un questionario lasciato a metà. Vuoi riprendere da dove eri rimasto?"),
            buttons=rows(
                turn.button(_("▶️ Riprendi"), "sv_resume"),
                turn.button(_("🔁 Ricomincia"), "sv_restart"),
            ),
        )

    def restart(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if not privacy.has_consent(turn):
            raise Stale
        responses.fresh(turn, self.survey)
        turn.start_flow(FLOW, self.survey.questions[0].id, {"skipped": [], "trail": []})
        return card.ask(turn, self.survey)

    def resume(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        """Back to the step the person was on (after a side question), else the first open."""
        response = responses.find(turn, self.survey)
        if response is None or not responses.unfinished(response):
            raise Stale
        if turn.conversation.flow != FLOW:
            turn.start_flow(FLOW, "", {"skipped": [], "trail": []})
        step = turn.conversation.step or ""
        if step == "summary":
            return summary.show(turn, self.survey, response)
        if step in {q.id for q in self.survey.questions}:
            return card.ask(turn, self.survey)
        return course.proceed(turn, self.survey, response)

    def cancel(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        """/annulla in the survey: leaves it; the answers given so far are kept (a retake's
        too, beside the confirmed ones)."""
        turn.end_flow()
        return menu.show(
            turn,
            _(
                "Va bene, ho messo da parte le risposte date finora: puoi "
                'riprendere quando vuoi da "Questionario".'
            ),
        )
