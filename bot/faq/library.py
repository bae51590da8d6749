"""The live knowledge base and its matcher; staff can reload it without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.faq.knowledge import KnowledgeBase, load
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
        self.current = self._edition(None)

    def _edition(self, today: date | None) -> Edition:
        kb = load(self.folder, today)
        return Edition(kb, Matcher(kb))

    def reload(self, today: date | None = None) -> Edition:
        """Loads the files again; raises KnowledgeError (and changes nothing) if broken."""
        self.current = self._edition(today)  # one assignment: readers see old or new, whole
        return self.current
