"""Question variants written into the topic files and faq/out_of_scope.yaml, keeping their
comments and layout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

_TOP_KEY = re.compile(r"^\S", re.MULTILINE)


def append_questions(path: Path, lang: str, questions: list[str]) -> int:
    """Adds the questions missing from a topic file's `questions.<lang>` at the end of that
    list; returns how many were added."""
    text = path.read_text(encoding="utf-8")
    block = re.search(r"^questions:\n", text, re.MULTILINE)
    if block is None:
        raise ValueError("no 'questions:' block")
    following = _TOP_KEY.search(text, block.end())
    end = following.start() if following else len(text)
    present = (yaml.safe_load(text).get("questions") or {}).get(lang) or []
    return _append(path, text, (block.end(), end), f"  {lang}:", "    ", questions, present)


def append_examples(path: Path, lang: str, questions: list[str]) -> int:
    """Adds the questions missing from faq/out_of_scope.yaml's `<lang>` list."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not re.search(rf"^{re.escape(lang)}:\n", text, re.MULTILINE):
        text += ("" if text.endswith("\n") or not text else "\n") + f"{lang}:\n"
    present = (yaml.safe_load(text) or {}).get(lang) or []
    return _append(path, text, (0, len(text)), f"{lang}:", "  ", questions, present)


def _append(
    path: Path,
    text: str,
    within: tuple[int, int],
    header: str,
    indent: str,
    questions: list[str],
    present: list[str],
) -> int:
    """Appends each question not `present` to the list under `header` as a double-quoted
    YAML (JSON) string, and writes the file; returns how many were added."""
    _, end = _list_block(text, within, header, indent)
    known = {" ".join(str(q).split()) for q in present}
    new = [q for q in dict.fromkeys(" ".join(q.split()) for q in questions) if q not in known]
    if new:
        lines = "".join(f"{indent}- {_quoted(q)}\n" for q in new)
        path.write_text(text[:end] + lines + text[end:], encoding="utf-8")
    return len(new)


def _quoted(question: str) -> str:
    return json.dumps(" ".join(question.split()), ensure_ascii=False)


def _list_block(text: str, within: tuple[int, int], header: str, indent: str) -> tuple[int, int]:
    """Where the items of the list under `header` start and end (after the last item)."""
    found = re.compile(rf"^{re.escape(header)}\n", re.MULTILINE).search(text, *within)
    if found is None:
        raise ValueError(f"no '{header.strip()}' list")
    end = found.end()
    for item in re.finditer(rf"^{indent}- .*\n", text[found.end() : within[1]], re.MULTILINE):
        if item.start() != end - found.end():
            break
        end = found.end() + item.end()
    return found.end(), end
