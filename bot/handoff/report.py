"""The handoff's figures for staff: pure counting over request rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import mean, median

from bot.storage.models import Handoff


@dataclass(frozen=True)
class Figures:
    requests: int = 0
    claimed: int = 0
    unanswered: int = 0  # no staff answer, whether closed or still open
    median_minutes: float | None = None  # from the request to the first staff answer
    scores: dict[int, int] = field(default_factory=dict)  # score -> how many
    mean_score: float | None = None


def figures_of(handoffs: Iterable[Handoff]) -> Figures:
    rows = list(handoffs)
    waits = [
        (h.first_answer_at - h.asked_at).total_seconds() / 60
        for h in rows
        if h.first_answer_at is not None
    ]
    scores = [h.score for h in rows if h.score is not None]
    return Figures(
        requests=len(rows),
        claimed=sum(1 for h in rows if h.claimed_at is not None),
        unanswered=sum(1 for h in rows if h.first_answer_at is None),
        median_minutes=round(median(waits), 1) if waits else None,
        scores=dict(sorted(Counter(scores).items())),
        mean_score=round(mean(scores), 1) if scores else None,
    )
