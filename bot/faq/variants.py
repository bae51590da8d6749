"""Question variants written into the topic files, keeping their comments and layout."""

from __future__ import annotations

import json
import re
from pathlib import Path

_TOP_KEY = re.compile(r"^\S", re.MULTILINE)


def append_questions(path: Path, lang: str, questions: list[str]) -> int:
    """Adds the questions missing from `questions.<lang>` at the end of that list; returns
    how many were added. Each is written as a double-quoted YAML (JSON) string."""
    text = path.read_text(encoding="utf-8")
    start, end = _questions_block(text, lang)
    present = set(re.findall(r'^    - "((?:[^"\\]|\\.)*)"', text[start:end], re.MULTILINE))
    new = [q for q in dict.fromkeys(questions) if _quoted(q)[1:-1] not in present]
    if new:
        lines = "".join(f"    - {_quoted(q)}\n" for q in new)
        path.write_text(text[:end] + lines + text[end:], encoding="utf-8")
    return len(new)


def _quoted(question: str) -> str:
    return json.dumps(" ".join(question.split()), ensure_ascii=False)


def _questions_block(text: str, lang: str) -> tuple[int, int]:
    """Where the list items of `questions.<lang>` start and end (after the last item)."""
    questions = re.search(r"^questions:\n", text, re.MULTILINE)
    if questions is None:
        raise ValueError("no 'questions:' block")
    following = _TOP_KEY.search(text, questions.end())
    block_end = following.start() if following else len(text)
    header = re.compile(rf"^  {re.escape(lang)}:\n", re.MULTILINE).search(
        text, questions.end(), block_end
    )
    if header is None:
        raise ValueError(f"no 'questions.{lang}' list")
    end = header.end()
    for item in re.finditer(r"^    - .*\n", text[header.end() : block_end], re.MULTILINE):
        if item.start() != end - header.end():
            break
        end = header.end() + item.end()
    return header.end(), end
