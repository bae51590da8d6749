"""The needs survey in the chat: one question at a time, back, skip, resume, summary."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot import metrics
from bot.basics import privacy
from bot.core import menu, replies
from bot.core.turn import Command, Feature, Stale, Turn
from bot.storage.models import SurveyResponse
from bot.survey import staff as survey_staff
from bot.survey.logic import (
    Invalid,
    answered,
    before,
    first_open_item,
    keys_of,
    option_by_label,
    parse_number,
    parse_text,
    pending,
    progress,
    prune,
    visible,
)
from bot.survey.questionnaire import Question, Survey
from bot.values.i18n import _, current_locale, format_date
from bot.values.markup import Rich, bold, join, text
from bot.values.messages import Answer, Button, Kind, Reply, rows, say

FLOW = "survey"
SideAnswer = Callable[[Turn], Answer | None]


class SurveyDesk:
    def __init__(self, survey: Survey, side: SideAnswer) -> None:
        self.survey = survey
        self.side = side  # answers a question typed in the middle (the FAQ)

    # Storage ------------------------------------------------------------------

    def response(self, turn: Turn) -> SurveyResponse | None:
        query = select(SurveyResponse).where(
            SurveyResponse.user_id == turn.user.id,
            SurveyResponse.survey_id == self.survey.id,
            SurveyResponse.version == self.survey.version,
        )
        return turn.session.scalars(query).one_or_none()

    def _fresh(self, turn: Turn) -> SurveyResponse:
        response = self.response(turn)
        if response is None:
            response = SurveyResponse(
                public_id=uuid.uuid4().hex,
                user_id=turn.user.id,
                survey_id=self.survey.id,
                version=self.survey.version,
                started_at=turn.now,
            )
            turn.session.add(response)
        response.locale, response.channel = turn.user.locale, turn.inbound.channel
        response.status, response.answers, response.completed_at = "partial", {}, None
        response.updated_at = turn.now
        return response

    def _save(self, turn: Turn, response: SurveyResponse, answers: dict[str, Any]) -> None:
        response.answers = prune(self.survey, answers)
        response.updated_at, response.locale = turn.now, turn.user.locale

    # Entry ----------------------------------------------------------------------

    def open(self, turn: Turn) -> Answer:
        """From the menu, /questionario or a deep link: consent, then start or resume."""
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "survey")
        response = self.response(turn)
        if response is None:
            return self._intro(turn)
        if response.status == "completed":
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
        return say(
            _("Hai un questionario lasciato a metà. Vuoi riprendere da dove eri rimasto?"),
            buttons=rows(
                turn.button(_("▶️ Riprendi"), "sv_resume"),
                turn.button(_("🔁 Ricomincia"), "sv_restart"),
            ),
        )

    def _intro(self, turn: Turn) -> Answer:
        locale = current_locale()
        intro = join([bold(self.survey.title.get(locale)), self.survey.intro.get(locale)])
        keyboard = rows(turn.button(_("▶️ Inizia"), "sv_restart"), turn.button(_("Non ora"), "menu"))
        return Answer((Reply(intro, keyboard),))

    def restart(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if not privacy.has_consent(turn):
            raise Stale
        self._fresh(turn)
        turn.start_flow(FLOW, self.survey.questions[0].id, {"skipped": [], "trail": []})
        return self.ask(turn)

    def resume(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        response = self.response(turn)
        if response is None or response.status == "completed":
            raise Stale
        if turn.conversation.flow != FLOW:
            turn.start_flow(FLOW, "", {"skipped": [], "trail": []})
        return self._continue(turn, response)

    # Asking ---------------------------------------------------------------------

    def current(self, turn: Turn) -> Question:
        return self.survey.question(turn.conversation.step or self.survey.questions[0].id)

    def ask(self, turn: Turn, notice: str | None = None, replace: bool = False) -> Answer:
        question = self.current(turn)
        response = self.response(turn)
        answers = response.answers if response else {}
        skipped = turn.conversation.data.get("skipped", [])
        number, total = progress(self.survey, answers, question.id, skipped)
        locale = current_locale()
        head = _("Domanda {number} di {total}").format(number=number, total=total)
        lines: list[Rich | str] = [text(head), bold(question.text.get(locale))]
        if question.type == "grid":
            item = question.items[self._grid_index(turn, question)]
            lines.append(bold("➡️ " + item.label.get(locale)))
        if question.type in ("text", "number"):
            lines.append(_("Scrivi la risposta qui sotto."))
        if question.type == "multiple":
            lines.append(_('Puoi sceglierne più di una, poi premi "Fatto".'))
        buttons = (*self._choices(turn, question, answers), self._navigation(turn, question))
        body = join(([notice] if notice else []) + lines)
        return Answer((Reply(body, tuple(row for row in buttons if row), replace),))

    def _grid_index(self, turn: Turn, question: Question) -> int:
        index = int(turn.conversation.data.get("item", 0))
        return min(max(index, 0), len(question.items) - 1)

    def _choices(
        self, turn: Turn, question: Question, answers: dict[str, Any]
    ) -> tuple[tuple[Button, ...], ...]:
        locale = current_locale()
        if question.type in ("single", "yesno"):
            chosen = answers.get(question.id)
            return rows(
                *(
                    turn.button(("✓ " if o == chosen else "") + label, "sv_ans", question.id, o)
                    for o, label in self._labels(question, locale)
                ),
                per_row=2,
            )
        if question.type == "multiple":
            chosen_many = set(answers.get(question.id, []))
            toggles = [
                turn.button(("✅ " if o in chosen_many else "▫️ ") + label, "sv_tog", question.id, o)
                for o, label in self._labels(question, locale)
            ]
            return (
                *rows(*toggles, per_row=2),
                (turn.button(_("✔️ Fatto"), "sv_done", question.id),),
            )
        if question.type == "grid":
            item = question.items[self._grid_index(turn, question)]
            return rows(
                *(
                    turn.button(s.label.get(locale), "sv_grid", question.id, item.id, s.id)
                    for s in question.scale
                ),
                per_row=2,
            )
        return ()

    def _labels(self, question: Question, locale: str) -> list[tuple[str, str]]:
        if question.type == "yesno":
            return [("si", _("Sì")), ("no", _("No"))]
        return [(o.id, o.label.get(locale)) for o in question.options]

    def _navigation(self, turn: Turn, question: Question) -> tuple[Button, ...]:
        buttons = []
        if turn.conversation.data.get("trail"):
            buttons.append(turn.button(_("⬅️ Indietro"), "sv_back"))
        if not question.required:
            buttons.append(turn.button(_("Salta ⏭"), "sv_skip", question.id))
        return tuple(buttons)

    # Answers ----------------------------------------------------------------------

    def _check_current(self, turn: Turn, question_id: str) -> Question:
        if turn.conversation.flow != FLOW or turn.conversation.step != question_id:
            raise Stale  # a button from an earlier question or an old survey
        return self.current(turn)

    def on_answer(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question_id, option = (*args, "", "")[:2]
        question = self._check_current(turn, question_id)
        if option not in question.option_ids():
            raise Stale
        return self._record(turn, question, {question.id: option})

    def on_toggle(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question_id, option = (*args, "", "")[:2]
        question = self._check_current(turn, question_id)
        if option not in question.option_ids():
            raise Stale
        response = self._response_or_stale(turn)
        chosen = list(response.answers.get(question.id, []))
        chosen = [o for o in chosen if o != option] if option in chosen else [*chosen, option]
        ordered = [o for o in question.option_ids() if o in chosen]
        self._save(turn, response, {**response.answers, question.id: ordered})
        return self.ask(turn, replace=True)

    def on_done(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question = self._check_current(turn, args[0] if args else "")
        response = self._response_or_stale(turn)
        chosen = response.answers.get(question.id, [])
        if not chosen:
            return self.ask(turn, notice=_('Scegli almeno una voce, oppure premi "Salta".'))
        if question.other and "altro" in chosen and not turn.conversation.data.get("other"):
            turn.remember(other=True)
            return say(_("Quali altri servizi? Scrivili qui sotto."))
        return self._advance(turn, question)

    def on_grid(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question_id, item_id, scale_id = (*args, "", "", "")[:3]
        question = self._check_current(turn, question_id)
        item = question.items[self._grid_index(turn, question)]
        if item.id != item_id or scale_id not in {s.id for s in question.scale}:
            raise Stale
        response = self._response_or_stale(turn)
        self._save(turn, response, {**response.answers, f"{question.id}.{item.id}": scale_id})
        index = self._grid_index(turn, question)
        if index + 1 < len(question.items):
            turn.remember(item=index + 1)
            return self.ask(turn, replace=True)
        return self._advance(turn, question)

    def on_skip(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        question = self._check_current(turn, args[0] if args else "")
        if question.required:
            raise Stale
        response = self._response_or_stale(turn)
        answers = {k: v for k, v in response.answers.items() if k not in keys_of(question)}
        self._save(turn, response, answers)
        skipped = [*turn.conversation.data.get("skipped", []), question.id]
        turn.remember(skipped=sorted(set(skipped)))
        return self._advance(turn, question)

    def on_back(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if turn.conversation.flow != FLOW:
            raise Stale
        question = self.current(turn)
        if question.type == "grid" and self._grid_index(turn, question) > 0:
            turn.remember(item=self._grid_index(turn, question) - 1)
            return self.ask(turn, replace=True)
        trail = list(turn.conversation.data.get("trail", []))
        if not trail:
            return self.ask(turn)
        previous = self.survey.question(trail.pop())
        turn.conversation.step = previous.id
        skipped = [s for s in turn.conversation.data.get("skipped", []) if s != previous.id]
        turn.remember(
            trail=trail,
            skipped=skipped,
            other=False,
            item=len(previous.items) - 1 if previous.type == "grid" else 0,
        )
        return self.ask(turn, replace=True)

    def on_text(self, turn: Turn) -> Answer:
        """Typed text in the survey: an answer where one fits, else a side question."""
        step = turn.conversation.step or ""
        if turn.inbound.kind is not Kind.TEXT:
            return replies.unsupported(turn) + self._resume_offer(turn)
        if step == "summary":
            return self._aside(turn)
        question = self.current(turn)
        typed = turn.inbound.text
        if question.type == "multiple" and turn.conversation.data.get("other"):
            value = parse_text(question, typed)
            if isinstance(value, Invalid):
                return say(self._invalid(value))
            response = self._response_or_stale(turn)
            self._save(turn, response, {**response.answers, f"{question.id}.altro": value})
            return self._advance(turn, question)
        if question.type == "number":
            number = parse_number(question, typed)
            if isinstance(number, Invalid):
                return self.ask(turn, notice=self._invalid(number))
            return self._record(turn, question, {question.id: number})
        if question.type == "text":
            written = parse_text(question, typed)
            if isinstance(written, Invalid):
                return self.ask(turn, notice=self._invalid(written))
            return self._record(turn, question, {question.id: written})
        option = option_by_label(question, typed, current_locale())
        if option is not None and question.type in ("single", "yesno"):
            return self._record(turn, question, {question.id: option})
        return self._aside(turn)

    def _aside(self, turn: Turn) -> Answer:
        """A question typed mid-survey is answered; then the survey is offered again."""
        answer = self.side(turn) or replies.not_understood(turn)
        return answer + self._resume_offer(turn)

    def _invalid(self, invalid: Invalid) -> str:
        messages = {
            "number": _("Mi serve un numero intero, per esempio 3."),
            "range": _("Questo numero è fuori dall'intervallo previsto: riprova."),
            "empty": _('Il messaggio è vuoto: scrivi la risposta, oppure premi "Salta".'),
            "long": _("È un po' troppo lungo: riassumi in poche righe, per favore."),
        }
        return messages[invalid.reason]

    def _resume_offer(self, turn: Turn) -> Answer:
        return say(
            _("Quando vuoi, riprendiamo il questionario da dove eravamo."),
            buttons=rows(turn.button(_("▶️ Riprendi il questionario"), "sv_resume")),
        )

    def _response_or_stale(self, turn: Turn) -> SurveyResponse:
        response = self.response(turn)
        if response is None:
            raise Stale
        return response

    def _record(self, turn: Turn, question: Question, values: dict[str, Any]) -> Answer:
        response = self._response_or_stale(turn)
        self._save(turn, response, {**response.answers, **values})
        skipped = [s for s in turn.conversation.data.get("skipped", []) if s != question.id]
        turn.remember(skipped=skipped)
        return self._advance(turn, question)

    def _advance(self, turn: Turn, question: Question) -> Answer:
        trail = [*turn.conversation.data.get("trail", []), question.id]
        turn.remember(trail=trail, item=0, other=False)
        response = self._response_or_stale(turn)
        return self._continue(turn, response)

    def _continue(self, turn: Turn, response: SurveyResponse) -> Answer:
        skipped = set(turn.conversation.data.get("skipped", []))
        nxt = pending(self.survey, response.answers, skipped)
        if nxt is None:
            turn.conversation.step = "summary"
            return self.summary(turn, response)
        turn.conversation.step = nxt.id
        if nxt.type == "grid":
            turn.remember(item=first_open_item(nxt, response.answers))
        if not turn.conversation.data.get("trail"):
            turn.remember(trail=before(self.survey, response.answers, nxt.id))
        return self.ask(turn)

    # Summary and confirmation -----------------------------------------------------------

    def summary(self, turn: Turn, response: SurveyResponse) -> Answer:
        locale = current_locale()
        lines: list[Rich | str] = [bold(_("Ecco le tue risposte:"))]
        for question in visible(self.survey, response.answers):
            lines.append(
                "• " + question.text.get(locale) + " " + self._shown(question, response.answers)
            )
        keyboard = rows(
            turn.button(_("✅ Conferma e invia"), "sv_confirm"),
            turn.button(_("✏️ Cambia una risposta"), "sv_change"),
        )
        return Answer((Reply(join(lines), keyboard),))

    def _shown(self, question: Question, answers: dict[str, Any]) -> str:
        locale = current_locale()
        if not answered(question, answers):
            return "— " + _("saltata")
        labels = dict(self._labels(question, locale))
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
            chosen = [labels.get(str(v), str(v)) for v in value]
            other = answers.get(f"{question.id}.altro")
            return "→ " + ", ".join(chosen) + (f" ({other})" if other else "")
        return "→ " + str(labels.get(str(value), value))

    def _at_summary(self, turn: Turn) -> SurveyResponse:
        """The response, if the user is at the summary; a button from elsewhere is stale."""
        if turn.conversation.flow != FLOW or turn.conversation.step != "summary":
            raise Stale
        return self._response_or_stale(turn)

    def on_change(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        response = self._at_summary(turn)
        locale = current_locale()
        buttons = [
            turn.button(q.text.get(locale)[:60], "sv_edit", q.id)
            for q in visible(self.survey, response.answers)
        ]
        return say(_("Quale risposta vuoi cambiare?"), buttons=rows(*buttons))

    def on_edit(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        response = self._at_summary(turn)
        question_id = args[0] if args else ""
        if question_id not in {q.id for q in visible(self.survey, response.answers)}:
            raise Stale
        skipped = [s for s in turn.conversation.data.get("skipped", []) if s != question_id]
        turn.conversation.step = question_id
        turn.remember(skipped=skipped, item=0, other=False)
        return self.ask(turn)

    def on_confirm(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        response = self._at_summary(turn)
        response.status, response.completed_at = "completed", turn.now
        response.updated_at = turn.now
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

    def cancel(self, turn: Turn, _args: tuple[str, ...] = ()) -> Answer:
        """/annulla in the survey: leaves it; the answers given so far are kept."""
        turn.end_flow()
        return menu.show(
            turn,
            _(
                "Va bene, ho messo da parte le risposte date finora: puoi "
                'riprendere quando vuoi da "Questionario".'
            ),
        )


def feature(survey: Survey, side: SideAnswer) -> Feature:
    desk = SurveyDesk(survey, side)
    return Feature(
        name=FLOW,
        commands={
            **survey_staff.commands(survey),
            "questionario": Command(desk.open),
            "survey": Command(desk.open),
        },
        buttons={
            "survey": lambda turn, _args: desk.open(turn),
            "sv_restart": desk.restart,
            "sv_resume": desk.resume,
            "sv_ans": desk.on_answer,
            "sv_tog": desk.on_toggle,
            "sv_done": desk.on_done,
            "sv_grid": desk.on_grid,
            "sv_skip": desk.on_skip,
            "sv_back": desk.on_back,
            "sv_change": desk.on_change,
            "sv_edit": desk.on_edit,
            "sv_confirm": desk.on_confirm,
            "cancel_survey": desk.cancel,
        },
        flow=desk.on_text,
    )
