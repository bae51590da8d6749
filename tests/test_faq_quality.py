"""FAQ matching quality, measured on labelled questions (tests/data).

faq_dev*.tsv are for tuning; faq_test.tsv was written apart and is never used for tuning:
only its totals are looked at. Top-1 means the matcher's first choice, whether it answers
or asks "Intendevi...?"; "answered right" counts only confident answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq.knowledge import load
from bot.faq.matcher import Matcher
from tests.faq_sets import DATA, read, score


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load())


def test_the_sets_are_large_enough_and_use_known_topics(matcher: Matcher) -> None:
    dev = [q for path in sorted(DATA.glob("faq_dev*.tsv")) for q in read(Path(path).name)]
    test = read("faq_test.tsv")
    assert len(dev) >= 150 and len(test) >= 60
    assert sum(q.expected is None for q in dev) >= 15
    labels = {q.expected for q in dev + test} - {None}
    assert labels <= set(matcher.kb.topics)


@pytest.mark.parametrize("name", ["faq_dev.tsv", "faq_dev_2.tsv", "faq_test.tsv"])
def test_top1_accuracy_and_out_of_scope_answers(matcher: Matcher, name: str) -> None:
    result = score(matcher, read(name))
    assert result.top1 >= 0.90, f"top-1 {result.top1:.3f} on {name}"
    assert result.out_of_scope_rate <= 0.10, f"out of scope answered {result.out_of_scope_rate}"
    assert result.accuracy >= 0.70, f"answered right {result.accuracy:.3f} on {name}"
