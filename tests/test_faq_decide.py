"""The matcher's last step as a table: answer, suggest ("Intendevi...?") or nothing."""

from __future__ import annotations

import pytest

from bot.faq.knowledge import OUTSIDE
from bot.faq.matcher import Thresholds, decide

LIMITS = Thresholds(answer=0.55, margin=0.01, outside_margin=0.0, outside_lead=0.10, suggest=0.50)


@pytest.mark.parametrize(
    ("ranked", "outcome", "topic"),
    [
        ([("buoni-pasto", 0.80), ("fringe-benefit", 0.60)], "answer", "buoni-pasto"),
        ([("buoni-pasto", 0.60), ("fringe-benefit", 0.595)], "suggest", None),  # too close
        ([("buoni-pasto", 0.54), ("fringe-benefit", 0.30)], "suggest", None),  # not sure enough
        ([("buoni-pasto", 0.45)], "none", None),
        # the typical out-of-scope questions come first: a suggestion only if sure
        ([(OUTSIDE, 0.70), ("contatti-sportello", 0.62)], "suggest", None),
        ([(OUTSIDE, 0.70), ("contatti-sportello", 0.52)], "none", None),
        ([(OUTSIDE, 1.00), ("contributi-previdenziali", 0.80)], "none", None),  # far ahead
        # ...and a topic ahead of them is answered
        (
            [("buoni-pasto", 0.70), (OUTSIDE, 0.65), ("fringe-benefit", 0.50)],
            "answer",
            "buoni-pasto",
        ),
        ([(OUTSIDE, 0.90)], "none", None),
        ([], "none", None),
    ],
)
def test_the_decision(ranked: list[tuple[str, float]], outcome: str, topic: str | None) -> None:
    match = decide(ranked, LIMITS)
    assert (match.outcome, match.topic_id) == (outcome, topic)
    assert OUTSIDE not in match.alternatives and match.best != OUTSIDE
