"""Typed text that names one of the choices on offer: the label of a button, a part of it, a
typo of it ("val pelice", "dirigeant", "peut etre", "10.30", "lunedì")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz, process

# Close enough to a label (0-100, rapidfuzz's ratio) to count as naming it.
TYPO_SCORE = 85
# Words that join the parts of a label: "Titolare, socio, presidente", "Salarié ou collaborateur".
JOINERS = re.compile(r",|\b(?:e|o|and|or|et|ou)\b")


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: "Peut-être !" -> "peut etre"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


def names(labelled: Iterable[tuple[str, str]]) -> dict[str, str]:
    """What one may type for each choice (label, id): its label, each part or word of it
    (unless another label has it too, like "Sì" in "Sì, alcuni" and "Sì, tutti"), its id."""
    parts: dict[str, set[str]] = {}
    whole: dict[str, str] = {}
    for label, choice in labelled:
        for part in JOINERS.split(label) + label.split():
            parts.setdefault(fold(part), set()).add(choice)
        whole |= {fold(label): choice, fold(choice.replace("_", " ")): choice}
    single = {p: ids.pop() for p, ids in parts.items() if len(ids) == 1 and len(p) > 2}
    return single | whole


def best_match(typed: str, named: Mapping[str, str]) -> str | None:
    """The choice named exactly, else the one named most closely (if close enough and not as
    close to another choice), else the one whose label alone holds the typed words, or a
    word with the same stem."""
    typed = fold(typed)
    if typed in named:
        return named[typed]
    if len(typed) < 3:
        return None
    scored = process.extract(typed, list(named), scorer=fuzz.ratio, limit=None)
    close = {named[name] for name, score, _index in scored if score >= TYPO_SCORE}
    if not close:
        close = {choice for name, choice in named.items() if f" {typed} " in f" {name} "}
    if not close and " " not in typed and len(typed) >= 5:
        stem = typed[: max(5, len(typed) - 3)]  # "telefono" names "Telefonata"
        close = {choice for name, choice in named.items() if f" {stem}" in f" {name}"}
    return close.pop() if len(close) == 1 else None


def choose(typed: str, labelled: Iterable[tuple[str, str]]) -> str | None:
    """The choice (label, id) the typed text names, if exactly one fits."""
    return best_match(typed, names(labelled))
