"""Side questions in the middle of the survey (the FAQ), and the offer to go back to it."""

from __future__ import annotations

from collections.abc import Callable

from bot.core import replies
from bot.core.turn import Turn
from bot.values.i18n import _
from bot.values.messages import Answer, rows, say

SideAnswer = Callable[[Turn], Answer | None]


class Aside:
    def __init__(self, side: SideAnswer) -> None:
        self.side = side  # answers a question typed in the middle (the FAQ)

    def answer(self, turn: Turn) -> Answer:
        """A question typed mid-survey is answered; then the survey is offered again."""
        answer = self.side(turn) or replies.not_understood(turn)
        return answer + self.resume_offer(turn)

    def resume_offer(self, turn: Turn) -> Answer:
        return say(
            _("Quando vuoi, riprendiamo il questionario da dove eravamo."),
            buttons=rows(turn.button(_("▶️ Riprendi il questionario"), "sv_resume")),
        )
