"""Light formatting that the core writes and each channel renders (Telegram HTML, plain text).

A `Rich` text is a tuple of spans; user text is only ever a plain span, so it is escaped
wherever it is rendered.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum


class Style(Enum):
    PLAIN = "plain"
    BOLD = "bold"
    ITALIC = "italic"
    LINK = "link"
    CODE = "code"
    QUOTE = "quote"  # folded away until tapped where the channel can (Telegram); else plain


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = Style.PLAIN
    href: str | None = None


@dataclass(frozen=True)
class Rich:
    spans: tuple[Span, ...] = ()

    def __add__(self, other: Rich | str) -> Rich:
        return Rich(self.spans + as_rich(other).spans)

    def __radd__(self, other: str) -> Rich:
        return as_rich(other) + self

    @property
    def plain(self) -> str:
        return "".join(span.text for span in self.spans)

    def __bool__(self) -> bool:
        return bool(self.plain.strip())


def as_rich(value: Rich | str) -> Rich:
    return value if isinstance(value, Rich) else Rich((Span(value),))


def text(value: str) -> Rich:
    return Rich((Span(value),))


def bold(value: str) -> Rich:
    return Rich((Span(value, Style.BOLD),))


def italic(value: str) -> Rich:
    return Rich((Span(value, Style.ITALIC),))


def code(value: str) -> Rich:
    return Rich((Span(value, Style.CODE),))


def quote(value: str) -> Rich:
    return Rich((Span(value, Style.QUOTE),))


def link(label: str, href: str) -> Rich:
    return Rich((Span(label, Style.LINK, href),))


def join(parts: Iterable[Rich | str], separator: str = "\n") -> Rich:
    result = Rich()
    for index, part in enumerate(parts):
        result = result + (as_rich(part) if index == 0 else separator + as_rich(part))
    return result


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary and marked with "…" when cut."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–(") + "…"


def bullets(items: Iterable[Rich | str]) -> Rich:
    return join("• " + as_rich(item) for item in items)


_TAGS = {Style.BOLD: "b", Style.ITALIC: "i", Style.CODE: "code"}


def to_html(rich: Rich) -> str:
    """Renders for Telegram's HTML parse mode; every span's text is escaped."""
    return "".join(_span_html(span) for span in rich.spans)


def _span_html(span: Span) -> str:
    body = html.escape(span.text, quote=False)
    if span.style is Style.LINK and span.href:
        return f'<a href="{html.escape(span.href)}">{body}</a>'
    if span.style is Style.QUOTE:
        return f"<blockquote expandable>{body}</blockquote>"
    tag = _TAGS.get(span.style)
    return f"<{tag}>{body}</{tag}>" if tag else body


def to_plain(rich: Rich) -> str:
    """Renders for a terminal: links show their address."""
    return "".join(
        f"{span.text} ({span.href})" if span.style is Style.LINK and span.href else span.text
        for span in rich.spans
    )


def utf16_length(value: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(value.encode("utf-16-le")) // 2


def split(rich: Rich, limit: int) -> list[Rich]:
    """Splits a text into pieces of at most `limit` UTF-16 units, at line breaks where possible."""
    pieces: list[Rich] = []
    current: list[Span] = []
    size = 0
    for span in _fragments(rich, limit):
        length = utf16_length(span.text)
        if current and size + length > limit:
            pieces.append(Rich(tuple(current)))
            current, size = [], 0
        current.append(span)
        size += length
    if current:
        pieces.append(Rich(tuple(current)))
    return [piece for piece in pieces if piece]


def _fragments(rich: Rich, limit: int) -> Iterator[Span]:
    """Cuts spans after each line break (then at spaces, then anywhere) to fit the limit."""
    for span in rich.spans:
        for line in span.text.splitlines(keepends=True):
            for chunk in _chunks(line, limit):
                yield Span(chunk, span.style, span.href)


def _chunks(line: str, limit: int) -> Iterator[str]:
    while utf16_length(line) > limit:
        cut = _cut_point(line, limit)
        yield line[:cut]
        line = line[cut:]
    if line:
        yield line


def _cut_point(line: str, limit: int) -> int:
    end = limit
    while utf16_length(line[:end]) > limit:
        end -= 1
    space = line.rfind(" ", 0, end)
    return space + 1 if space > 0 else max(end, 1)
