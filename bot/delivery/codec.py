"""Outbound values to JSON and back, so the outbox can store them."""

from __future__ import annotations

import base64
from typing import Any

from bot.values.markup import Rich, Span, Style
from bot.values.messages import Button, Document, Image, Keyboard, Outbound, Reply, Thread


def encode(message: Outbound) -> dict[str, Any]:
    body = _encode(message)
    if message.thread is not None:
        thread = message.thread
        body["thread"] = [thread.key, thread.title, thread.ending]
    return body


def _encode(message: Outbound) -> dict[str, Any]:
    if isinstance(message, Reply):
        return {
            "type": "reply",
            "text": _rich(message.text),
            "buttons": [[[b.label, b.payload, b.url] for b in row] for row in message.buttons],
            "request_contact": message.request_contact,
            "close_keyboard": message.close_keyboard,
            **({"fields": [list(pair) for pair in message.fields]} if message.fields else {}),
            "edits": message.edits,
        }
    kind = "document" if isinstance(message, Document) else "image"
    body: dict[str, Any] = {
        "type": kind,
        "filename": message.filename,
        "content": base64.b64encode(message.content).decode(),
        "caption": _rich(message.caption),
    }
    if isinstance(message, Document):
        body["mime_type"] = message.mime_type
    return body


def decode(body: dict[str, Any]) -> Outbound:
    thread = Thread(*body["thread"]) if body.get("thread") else None
    if body["type"] == "reply":
        return Reply(
            _unrich(body["text"]),
            _keyboard(body["buttons"]),
            False,
            body.get("request_contact"),
            bool(body.get("close_keyboard")),
            thread=thread,
            fields=tuple((str(name), str(value)) for name, value in body.get("fields") or ()),
            edits=body.get("edits"),
        )
    content = base64.b64decode(body["content"])
    caption = _unrich(body["caption"])
    if body["type"] == "document":
        return Document(body["filename"], content, body["mime_type"], caption, thread)
    return Image(body["filename"], content, caption, thread)


def _rich(rich: Rich) -> list[list[str | None]]:
    return [[span.text, span.style.value, span.href] for span in rich.spans]


def _unrich(spans: list[list[str | None]]) -> Rich:
    return Rich(tuple(Span(str(t), Style(str(style)), href) for t, style, href in spans))


def _keyboard(rows: list[list[list[str | None]]]) -> Keyboard:
    return tuple(
        tuple(Button(str(label), str(payload), url) for label, payload, url in row) for row in rows
    )
