"""The core's outbound values as WhatsApp Cloud API message bodies, within WhatsApp's limits.

Pure functions: a reply becomes one or more `Part`s (a message body, and the file to upload
first for documents and images). Buttons: up to 3 become reply buttons, up to 10 a list
message, more a numbered text whose choices the channel remembers to match the typed answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.whatsapp.content import Template
from bot.values.markup import Rich, Span, Style, shorten
from bot.values.messages import Button, Document, Image, Outbound, Reply

TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # an interactive message's body, and a media caption
BUTTON_TITLE, MAX_BUTTONS = 20, 3
ROW_TITLE, ROW_DESCRIPTION, MAX_ROWS = 24, 72, 10
PARAM_LIMIT = 1000
# Document types WhatsApp accepts; text types it does not know go as text/plain (the file
# keeps its name: a phone opens `richiamata.ics` with the calendar by its extension).
DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
Choice = tuple[str, str]  # (label, payload) offered as a numbered line


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Part:
    """One message to send; with `upload`, the media id goes in body[type]["id"] first."""

    body: dict[str, Any]
    upload: Upload | None = None


@dataclass(frozen=True)
class Rendered:
    parts: tuple[Part, ...]
    choices: tuple[Choice, ...] | None = None  # None: leaves the remembered ones as they are


@dataclass(frozen=True)
class Wording:
    """The channel's own words, in the user's language."""

    choose: str = "Scegli"  # the list message's button
    number_hint: str = "Rispondi con il numero."
    short_labels: Mapping[str, str] | None = None


def render(message: Outbound, wording: Wording) -> Rendered:
    if isinstance(message, Reply):
        return render_reply(message, wording)
    return Rendered(media_parts(message))


# Text ---------------------------------------------------------------------------------


def to_whatsapp(rich: Rich) -> str:
    """WhatsApp's own markup: *bold*, _italic_, ```code```; links as "label (address)"."""
    return "".join(_span(span) for span in rich.spans)


_MARKS = {Style.BOLD: "*", Style.ITALIC: "_", Style.CODE: "```"}


def _span(span: Span) -> str:
    if span.style is Style.LINK and span.href:
        return span.text if span.text == span.href else f"{span.text} ({span.href})"
    mark = _MARKS.get(span.style)
    if not mark:
        return span.text
    return "\n".join(_marked(line, mark) for line in span.text.split("\n"))


def _marked(line: str, mark: str) -> str:
    """Marks around the words only: WhatsApp ignores "*bold *" and marks across lines."""
    core = line.strip()
    if not core:
        return line
    start = line.index(core)
    return f"{line[:start]}{mark}{core}{mark}{line[start + len(core) :]}"


_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraphs, lines, sentences, words."""
    pieces = []
    text = text.strip()
    while len(text) > limit:
        cut = _cut(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _cut(text: str, limit: int) -> int:
    for separator in _BREAKS:
        at = text.rfind(separator, 0, limit)
        if at > limit // 3:
            return at + len(separator)
    return limit


def text_parts(text: str) -> list[Part]:
    return [_text(piece) for piece in split_text(text)]


def _text(body: str) -> Part:
    return Part({"type": "text", "text": {"body": body, "preview_url": "http" in body}})


# Buttons ------------------------------------------------------------------------------


def render_reply(reply: Reply, wording: Wording) -> Rendered:
    """Text, then buttons as WhatsApp can show them: a single link as a link button, links
    beside other buttons as text."""
    flat = [button for row in reply.buttons for button in row]
    choices = [b for b in flat if not b.url and b.payload]
    if len(flat) == 1 and flat[0].url:
        return link_button(to_whatsapp(reply.text).strip(), flat[0])
    links = [f"🔗 {b.label}: {b.url}" for b in flat if b.url]
    text = "\n\n".join(t for t in (to_whatsapp(reply.text).strip(), "\n".join(links)) if t)
    if not choices:
        return Rendered(tuple(text_parts(text)))
    if len(choices) > MAX_ROWS:
        return numbered(text, choices, wording)
    head, body = _head_and_body(text)
    shorts = wording.short_labels or {}
    interactive = _buttons(body, choices, shorts) or _list(body, choices, shorts, wording)
    return Rendered((*text_parts(head), Part(interactive)), ())


def link_button(text: str, link: Button) -> Rendered:
    """A call-to-action URL button (`cta_url`): the label on the button, the address behind."""
    head, body = _head_and_body(text)
    parameters = {"display_text": fit(link.label, BUTTON_TITLE, {}), "url": link.url}
    action = {"name": "cta_url", "parameters": parameters}
    return Rendered((*text_parts(head), Part(_interactive("cta_url", body, action))))


def numbered(text: str, choices: Sequence[Button], wording: Wording) -> Rendered:
    """More than ten choices: numbered lines; the typed number (or words) picks one."""
    lines = [f"{number}. {b.label}" for number, b in enumerate(choices, start=1)]
    full = "\n\n".join(t for t in (text, "\n".join(lines), wording.number_hint) if t)
    return Rendered(tuple(text_parts(full)), tuple((b.label, b.payload) for b in choices))


def _head_and_body(text: str) -> tuple[str, str]:
    """An interactive body holds 1,024 characters: a longer text goes first on its own."""
    if len(text) <= BODY_LIMIT:
        return "", text or "…"
    pieces = split_text(text, BODY_LIMIT)
    return text[: text.rindex(pieces[-1])].rstrip(), pieces[-1]


def _buttons(body: str, choices: Sequence[Button], shorts: Mapping[str, str]) -> dict[str, Any]:
    """Reply buttons when there are at most three and every title fits whole."""
    titles = [_whole(b.label, BUTTON_TITLE, shorts) for b in choices]
    if len(choices) > MAX_BUTTONS or None in titles or len(set(titles)) < len(titles):
        return {}
    buttons = [
        {"type": "reply", "reply": {"id": b.payload, "title": title}}
        for b, title in zip(choices, titles, strict=True)
    ]
    action = {"buttons": buttons}
    return _interactive("button", body, action)


def _list(
    body: str, choices: Sequence[Button], shorts: Mapping[str, str], wording: Wording
) -> dict[str, Any]:
    rows = []
    for button in choices:
        title = fit(button.label, ROW_TITLE, shorts)
        row = {"id": button.payload, "title": title}
        if title != button.label:  # the whole label still shows, under the short one
            row["description"] = fit(button.label, ROW_DESCRIPTION, {})
        rows.append(row)
    action = {"button": fit(wording.choose, BUTTON_TITLE, {}), "sections": [{"rows": rows}]}
    return _interactive("list", body, action)


def _interactive(kind: str, body: str, action: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": body}, "action": action},
    }


def _whole(label: str, limit: int, shorts: Mapping[str, str]) -> str | None:
    """The label or its short form when one fits, else None (never a cut label)."""
    if len(label) <= limit:
        return label
    short = shorts.get(label)
    return short if short and len(short) <= limit else None


def fit(label: str, limit: int, shorts: Mapping[str, str]) -> str:
    """The label, its short form from content, or the label cut at a word with "…"."""
    whole = _whole(label, limit, shorts)
    if whole is not None:
        return whole
    return shorten(label, limit)


def match_choice(typed: str, choices: Sequence[Choice]) -> str | None:
    """The payload of the choice a typed answer names: its number, or its words."""
    text = _fold(typed)
    if text.isdigit():
        number = int(text)
        return choices[number - 1][1] if 1 <= number <= len(choices) else None
    if not text:
        return None
    exact = [payload for label, payload in choices if _fold(label) == text]
    partial = [payload for label, payload in choices if text in _fold(label)]
    found = exact or partial
    return found[0] if len(found) == 1 else None


def _fold(value: str) -> str:
    words = re.findall(r"\w+", value.casefold())
    return " ".join(words)


# Media --------------------------------------------------------------------------------


def media_parts(message: Document | Image) -> tuple[Part, ...]:
    """Uploaded media with its caption (a caption over 1,024 characters follows as text)."""
    caption = to_whatsapp(message.caption).strip()
    first = (split_text(caption, BODY_LIMIT) or [""])[0]
    rest = caption[len(first) :].strip()
    if isinstance(message, Image):
        upload = Upload(message.filename, message.content, _image_type(message.filename))
        media: dict[str, Any] = {}
    else:
        upload = Upload(message.filename, message.content, document_type(message.mime_type))
        media = {"filename": message.filename}
    if first:
        media["caption"] = first
    kind = "image" if isinstance(message, Image) else "document"
    return (Part({"type": kind, kind: media}, upload), *text_parts(rest))


def document_type(mime_type: str) -> str:
    """A type WhatsApp accepts for this document (calendar files, JSON, CSV: text/plain)."""
    base = mime_type.split(";")[0].strip().lower()
    if base in DOCUMENT_TYPES:
        return base
    if base.startswith("text/") or base in ("application/json", "application/xml"):
        return "text/plain"
    return base


def _image_type(filename: str) -> str:
    return "image/jpeg" if filename.lower().endswith((".jpg", ".jpeg")) else "image/png"


# Templates ----------------------------------------------------------------------------


def template_body(template: Template, message: Outbound) -> dict[str, Any] | None:
    """An approved template, its parameters taken from the message (one line each); None when
    the message lacks a value the template needs."""
    text = message.text.plain if isinstance(message, Reply) else message.caption.plain
    values = {"title": _first_line(text), "text": text}
    values.update(message.fields if isinstance(message, Reply) else ())
    if any(source not in values for source in template.params):
        return None
    parameters = [{"type": "text", "text": _one_line(values[s])} for s in template.params]
    content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if parameters:
        content["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": content}


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _one_line(text: str) -> str:
    """WhatsApp refuses line breaks, tabs and runs of spaces in a parameter."""
    flat = re.sub(r"\s+", " ", text).strip() or "-"
    return flat if len(flat) <= PARAM_LIMIT else fit(flat, PARAM_LIMIT, {})
