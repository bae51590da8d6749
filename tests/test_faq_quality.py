"""FAQ matching quality, measured on labelled questions (tests/data), per language.

faq_dev*.tsv are for tuning. faq_heldout.tsv was written apart from faq/ and the dev sets,
before any tuning, and only its totals are looked at (faq_test.tsv is an older such set).
Top-1 means the matcher's first choice, whether it answers or asks "Intendevi...?";
"answered right" counts only confident answers.
"""

from __future__ import annotations

import pytest

from bot.faq.knowledge import load
from bot.faq.matcher import Matcher
from tests.faq_sets import HELD_OUT as HELD_OUT_SET
from tests.faq_sets import LANGS, by_language, dev_names, read

# The goals are top-1 0.90 and answered right 0.85 in each language, out of scope
# answered at most 0.10. Reached, except out of scope: 9/77 on the dev sets (faq_dev_4.tsv
# asks workplace questions the FAQ does not cover: payslips, hiring), 3/22 held out. Until
# they are, these floors stop a regression (see the README's FAQ section).
DEV = {"top1": 0.90, "answered_right": 0.85, "out_of_scope": 0.12}
HELD_OUT = {"top1": 0.90, "answered_right": 0.85, "out_of_scope": 0.14}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load())


def test_the_sets_are_large_enough_and_use_known_topics(matcher: Matcher) -> None:
    dev = [q for name in dev_names() for q in read(name)]
    held_out = read(HELD_OUT_SET)
    assert len(dev) >= 150 and len(held_out) >= 150
    assert sum(q.expected is None for q in held_out) >= 20
    in_scope = [q.lang for q in held_out if q.expected]
    assert all(in_scope.count(lang) >= 30 for lang in LANGS)
    labels = {q.expected for q in dev + held_out + read("faq_test.tsv")} - {None}
    assert labels <= set(matcher.kb.topics)


@pytest.mark.parametrize(
    ("names", "limits"),
    [(dev_names(), DEV), ([HELD_OUT_SET], HELD_OUT)],
    ids=["dev", "held-out"],
)
def test_each_language_gets_the_right_topic_first(
    matcher: Matcher, names: list[str], limits: dict[str, float]
) -> None:
    results = by_language(matcher, [q for name in names for q in read(name)])
    for lang in LANGS:
        result = results[lang]
        assert result.top1 >= limits["top1"], f"{lang}: top-1 {result.top1:.3f}"
        assert result.accuracy >= limits["answered_right"], f"{lang}: right {result.accuracy:.3f}"
    assert results["all"].out_of_scope_rate <= limits["out_of_scope"]
