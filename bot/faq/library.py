"""The live knowledge base and its matcher; staff can reload it without a restart, and
teach it new question variants from the chat."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.faq.knowledge import KnowledgeBase, Taught, load, with_questions
from bot.faq.matcher import Matcher
from bot.paths import FAQ_DIR


@dataclass(frozen=True)
class Edition:
    """One loaded knowledge base with the matcher built on it."""

    kb: KnowledgeBase
    matcher: Matcher


class Library:
    """Holds the current edition; a broken reload leaves the old one live."""

    def __init__(self, folder: Path = FAQ_DIR) -> None:
        self.folder = folder
        self.taught: tuple[Taught, ...] = ()
        self.taught_up_to = 0  # the newest taught variant's id in the database
        self.files = load(folder)
        self.current = self._edition(self.files, self.taught)

    @staticmethod
    def _edition(files: KnowledgeBase, taught: Iterable[Taught]) -> Edition:
        kb = with_questions(files, taught)
        return Edition(kb, Matcher(kb))

    def reload(self, today: date | None = None) -> Edition:
        """Loads the files again; raises KnowledgeError (and changes nothing) if broken."""
        files = load(self.folder, today)
        self.current = self._edition(files, self.taught)  # one assignment: old or new, whole
        self.files = files
        return self.current

    def teach(self, taught: Iterable[Taught], up_to: int) -> Edition:
        """Makes these variants (all the database holds, up to that id) live."""
        self.taught, self.taught_up_to = tuple(taught), up_to
        self.current = self._edition(self.files, self.taught)
        return self.current

    def trial(self, variant: Taught) -> Matcher:
        """The matcher as it would be with one more variant, to check it before adding it."""
        return self._edition(self.files, (*self.taught, variant)).matcher
