"""An honest fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

The bot under test talks to it with its real HTTP client (python-telegram-bot, httpx, ...);
the test drives simulated users that write, press buttons and read what the bot sent::

    async with FakeTelegram() as tg:
        anna = tg.user(1001, first_name="Anna", language_code="it")
        bot = telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)
        ...
        await anna.send("/start")
        reply = await anna.next_message()
        await anna.press("Lingua")

Implemented Bot API methods (method names are case-insensitive, as on Telegram): getMe,
getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage, editMessageText,
editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendDocument, sendPhoto,
sendChatAction, setMyCommands, getMyCommands, deleteMyCommands, getFile (and the file
download URL), getChat, createForumTopic, closeForumTopic, reopenForumTopic, deleteForumTopic (in
supergroups made with ``tg.group(..., forum=True)``; the bot must be an admin there, and a
message_thread_id must name an open topic of a forum, as on Telegram). Any other method
answers 404 "Not Found", like an unknown method on Telegram.
Parameters are accepted as a query string, JSON, urlencoded or multipart form (what PTB sends).

Where the fake deliberately differs from the real server:

* parse_mode "HTML" is parsed the way tdlib does (same tags, same error texts). With
  ``strict_html=True`` (the default) a bare ``&`` that starts no entity is rejected, although
  Telegram keeps it literally: the Bot API documentation requires it to be escaped, and a
  missing escape usually means unescaped user input. Pass ``strict_html=False`` for Telegram's
  exact behaviour. "MarkdownV2" and "Markdown" are rejected as an unsupported parse_mode.
* Plain text sent by the bot gets no automatic entities (urls, mentions...); text sent by
  simulated users gets ``bot_command`` entities only.
* Webhooks may use plain http on any port; updates are POSTed one at a time, in order. A failed
  delivery is retried after each of ``webhook_retry_delays`` seconds, then dropped (Telegram
  keeps retrying for much longer). Answering the webhook with a method call is not supported.
* Callback queries expire ``callback_query_timeout`` seconds after the press.
* Files live in memory; file URLs are never fetched. Photos must be PNG, JPEG, GIF, WebP or BMP.
* ``tg.user()`` creates users who have already started the bot (``started=False`` for one who
  has not: the bot then gets 403 "bot can't initiate conversation with a user").
* Groups honour privacy mode (on by default): the bot only gets commands, replies to its own
  messages and messages mentioning it, unless the group says ``bot_is_admin=True``.
* Rate limiting (``tg.rate_limit``, e.g. ``RateLimit.telegram()``), error injection
  (``tg.fail_next``), dropped connections (``tg.drop_next``) and slow answers (``tg.slow``) are
  off by default. ``tg.writes`` logs every send or edit that passed the rate limit, and
  ``tg.peak_rate()`` is the most of them seen in any sliding window.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import math
import mimetypes
import re
import socket
import struct
import time
import traceback
import zlib
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_TOKEN_HEADER",
    "ApiCall",
    "ApiError",
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "ForumTopic",
    "KeyboardKey",
    "RateLimit",
    "Rejection",
    "SentFile",
    "WebhookDelivery",
    "parse_html",
    "serve_asgi",
]

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-TOKEN"
BOT_USERNAME = "sportello_test_bot"
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Update types Telegram only sends when they are listed in allowed_updates explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# How form-encoded values are decoded for tg.calls and the handlers (PTB sends every value as
# a string: numbers and booleans JSON-encoded, objects as JSON text).
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "max_connections",
        "cache_time",
        "message_thread_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
    }
)


# --------------------------------------------------------------------------------------------
# Errors and records


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class ApiCall(NamedTuple):
    """One HTTP call the bot made (rejected calls included): ``method, params, time, files``."""

    method: str
    params: JSON
    time: float
    files: tuple[str, ...] = ()


class Rejection(NamedTuple):
    """A call the fake answered with an error."""

    method: str
    error_code: int
    description: str
    params: JSON

    def __str__(self) -> str:
        return f"{self.method} -> {self.error_code} {self.description}"


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook."""

    update_id: int
    attempt: int
    status: int | None  # the HTTP status the webhook answered; None if it was unreachable
    error: str | None
    time: float


@dataclass(frozen=True)
class RateLimit:
    """Flood control: at most ``per_chat`` messages per chat and ``overall`` messages in all
    chats within ``window`` seconds (sends and edits count). Excess calls get 429
    "Too Many Requests: retry after N" with ``parameters.retry_after``; N is ``retry_after`` if
    given, else the seconds until the window frees up (at least 1)."""

    per_chat: int | None = None
    overall: int | None = None
    window: float = 1.0
    retry_after: int | None = None

    @classmethod
    def telegram(cls, overall: int = 30, per_chat: int = 1) -> RateLimit:
        """Telegram's published limits: about 30 messages a second, one a second per chat."""
        return cls(per_chat=per_chat, overall=overall, window=1.0)


@dataclass(frozen=True)
class SentFile:
    """A document or photo the bot sent."""

    file_id: str
    filename: str | None
    content: bytes
    mime_type: str | None
    caption: str | None = None


class Button(NamedTuple):
    """An inline keyboard button: its label and its callback_data (or url)."""

    text: str
    value: str


class KeyboardKey(NamedTuple):
    """A reply keyboard button."""

    text: str
    request_contact: bool = False


@dataclass
class ForumTopic:
    """A topic of a forum supergroup; its id is that of the message that created it."""

    message_thread_id: int
    name: str
    closed: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a button press (answerCallbackQuery)."""

    query_id: str
    data: str | None
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class BotMessage:
    """What a user sees of one bot message, at one moment (a new message or an edit)."""

    message_id: int
    chat_id: int
    kind: Literal["message", "edit", "document", "photo"]
    text: str  # plain text (or caption) as the user sees it, after entity parsing
    html: str | None = None  # the text as sent with parse_mode HTML, else None
    entities: list[JSON] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[KeyboardKey]] | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    document: SentFile | None = None
    photo: SentFile | None = None
    edited: bool = False
    reply_to: int | None = None
    reply_markup: JSON | None = None  # as sent
    topic: int | None = None  # the forum topic it was posted in

    @property
    def button_labels(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    def __str__(self) -> str:
        who = "bot (edited)" if self.kind == "edit" else "bot"
        if self.document is not None:
            doc = self.document
            head = f"document {doc.filename} ({len(doc.content)} bytes, {doc.mime_type})"
            body = f"{head}: {self.text}" if self.text else head
        elif self.photo is not None:
            body = f"photo: {self.text}" if self.text else "photo"
        else:
            body = self.text
        lines = [f"#{self.message_id} {who}: " + body.replace("\n", "\n    ")]
        if self.buttons:
            rows = (" ".join(f"[{b.text}]" for b in row) for row in self.buttons)
            lines.append("    buttons: " + " / ".join(rows))
        if self.reply_keyboard:
            rows = (
                " ".join(f"[{k.text}{' (contact)' if k.request_contact else ''}]" for k in row)
                for row in self.reply_keyboard
            )
            lines.append("    keyboard: " + " / ".join(rows))
        if self.remove_keyboard:
            lines.append("    (removes the keyboard)")
        if self.force_reply:
            lines.append("    (asks for a reply)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Text: UTF-16 lengths, Telegram's HTML dialect


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _HtmlError(Exception):
    pass


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)
_SIMPLE_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SPACE = frozenset(b" \t\r\n\v\f\0")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_TOKEN = _DIGITS | _ALPHA | frozenset(b".-")
_NAMED_ENTITIES = {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}
_URL_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite"})


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """tdlib's decode_html_entity: (code point, position after it), or (0, pos) if none."""

    def at(i: int) -> int:
        return data[i] if i < len(data) else 0

    end = pos + 1
    code = 0
    if at(end) == ord("#"):
        end += 1
        if at(end) == ord("x"):
            end += 1
            while at(end) in _HEX:
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while at(end) in _DIGITS:
                code = code * 10 + at(end) - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while at(end) in _ALPHA:
            end += 1
        code = _NAMED_ENTITIES.get(data[pos + 1 : end], 0)
        if not code:
            return 0, pos
    if at(end) == ord(";"):
        end += 1
    return code, end


def _check_url(url: str) -> str | None:
    """The URL Telegram would store for a text link, or None if it drops the link."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    if url.lower().startswith("tg:"):
        return url
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://", url)
    if match is None:
        url = "http://" + url
        match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://", url)
        assert match is not None
    if match[1].lower() not in _URL_SCHEMES:
        return None
    rest = url[match.end() :]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].split(":")[0]
    if not host or ("." not in host and host.lower() != "localhost"):
        return None
    return url + "/" if rest.rsplit("@", 1)[-1] == host else url


def _add_html_entity(
    entities: list[JSON], tag: str, argument: str, offset: int, length: int, inner: str
) -> None:
    entity: JSON = {"offset": offset, "length": length}
    last = entities[-1] if entities else None
    same_range = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _SIMPLE_ENTITIES:
        entities.append({"type": _SIMPLE_ENTITIES[tag], **entity})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"type": kind, **entity})
    elif tag == "tg-emoji":
        entities.append({"type": "custom_emoji", **entity, "custom_emoji_id": argument})
    elif tag == "a":
        url = _check_url(argument or inner)
        if url is not None:
            entities.append({"type": "text_link", **entity, "url": url})
    elif tag == "pre":
        if last is not None and same_range and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", **entity})
    elif tag == "code":
        if last is not None and same_range and last["type"] == "pre" and argument:
            last["language"] = argument
        else:
            entities.append({"type": "code", **entity, "language": argument})


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML dialect into (plain text, entities), a port of tdlib's parser.

    Raises ``ValueError`` with Telegram's own description (without the "Bad Request: can't
    parse entities: " prefix) on malformed input. ``strict`` also rejects a bare ``&``.
    """
    try:
        return _parse_html(text, strict=strict)
    except _HtmlError as exc:
        raise ValueError(str(exc)) from None


def _parse_html(text: str, *, strict: bool) -> tuple[str, list[JSON]]:
    data = text.encode("utf-8")
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    def decode_entity(pos: int) -> tuple[int, int]:
        code, end = _decode_html_entity(data, pos)
        if code == 0 and strict:
            raise _HtmlError(
                f"Character '&' at byte offset {pos} must be escaped as &amp; "
                "(FakeTelegram strict_html; Telegram itself would keep it as is)"
            )
        if 0xD800 <= code <= 0xDFFF:
            raise _HtmlError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return code, end

    out = bytearray()
    utf16 = 0
    entities: list[JSON] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, byte offset
    i = 0
    while i < size:
        c = data[i]
        if c == ord("&"):
            code, end = decode_entity(i)
            if code:
                out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = end
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in _SPACE and at(i) != ord(">"):
                i += 1
            if i >= size:
                raise _HtmlError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise _HtmlError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            attributes: dict[str, str] = {}
            while at(i) != ord(">"):
                while i < size and at(i) in _SPACE:
                    i += 1
                if at(i) == ord(">"):
                    break
                name_begin = i
                while at(i) not in _SPACE and at(i) not in (ord("="), ord(">")):
                    i += 1
                name = data[name_begin:i].decode("utf-8", "replace").lower()
                if not name:
                    raise _HtmlError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while i < size and at(i) in _SPACE:
                    i += 1
                if at(i) != ord("="):
                    if tag == "blockquote" and name == "expandable":
                        attributes[name] = ""
                        continue
                    raise _HtmlError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while i < size and at(i) in _SPACE:
                    i += 1
                if i >= size:
                    raise _HtmlError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while at(i) in _NAME_TOKEN:
                        i += 1
                    value = data[token_begin:i].decode("ascii").lower()
                    if at(i) not in _SPACE and at(i) != ord(">"):
                        raise _HtmlError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while i < size and at(i) != quote:
                        if at(i) == ord("&"):
                            code, end = decode_entity(i)
                            if code:
                                raw += chr(code).encode("utf-8")
                                i = end
                                continue
                        raw.append(at(i))
                        i += 1
                    if i < size:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if i >= size:
                    raise _HtmlError(f"Unclosed start tag at byte offset {begin}")
                attributes[name] = value

            argument = ""
            if tag == "a":
                argument = attributes.get("href", "")
            elif tag == "code":
                css = attributes.get("class", "")
                argument = css.removeprefix("language-") if css.startswith("language-") else ""
            elif tag == "span":
                if attributes.get("class") != "tg-spoiler":
                    raise _HtmlError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                    )
            elif tag == "tg-emoji":
                argument = attributes.get("emoji-id", "")
                if not argument.isdigit() or int(argument) == 0:
                    raise _HtmlError("Invalid custom emoji identifier specified")
            elif tag == "blockquote":
                argument = "expandable" if "expandable" in attributes else ""
            stack.append((tag, argument, utf16, len(out)))
            i += 1
        else:
            if not stack:
                raise _HtmlError(f"Unexpected end tag at byte offset {begin}")
            while at(i) not in _SPACE and at(i) != ord(">"):
                i += 1
            end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
            while i < size and at(i) in _SPACE:
                i += 1
            if at(i) != ord(">"):
                raise _HtmlError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, byte_offset = stack.pop()
            if end_tag and end_tag != tag:
                raise _HtmlError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{end_tag}>"'
                )
            if utf16 > offset:
                inner = out[byte_offset:].decode("utf-8")
                _add_html_entity(entities, tag, argument, offset, utf16 - offset, inner)
            i += 1
    if stack:
        raise _HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')

    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.decode("utf-8"), entities


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram strips leading and trailing whitespace from texts and captions."""
    left = text.lstrip()
    lead = _utf16_len(text[: len(text) - len(left)])
    plain = left.rstrip()
    total = _utf16_len(plain)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return plain, kept


def _command_entities(text: str) -> list[JSON]:
    """bot_command entities, as Telegram adds them to what users write."""
    entities: list[JSON] = []
    for match in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text):
        offset = _utf16_len(text[: match.start()])
        entities.append({"type": "bot_command", "offset": offset, "length": len(match[0])})
    return entities


# --------------------------------------------------------------------------------------------
# Keyboards

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "callback_game",
    "pay",
)


@dataclass(frozen=True)
class _Markup:
    kind: Literal["inline", "reply", "remove", "force_reply"]
    raw: JSON
    buttons: list[list[Button]] = field(default_factory=list)
    actions: list[list[str]] = field(default_factory=list)  # action field of each button
    keys: list[list[KeyboardKey]] = field(default_factory=list)


def _button_text(button: JSON, what: str) -> str:
    if "text" not in button:
        raise _bad_request(f"can't parse {what}: Can't find field \"text\"")
    text = button["text"]
    if not isinstance(text, str):
        raise _bad_request(f'can\'t parse {what}: Field "text" must be of type String')
    if not text.strip():
        raise _bad_request("BUTTON_TEXT_INVALID")
    return text


def _check_button_url(url: str) -> None:
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if match is not None and match[1].lower() not in _URL_SCHEMES:
        raise _bad_request(
            f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
        )
    if _check_url(url) is None:
        raise _bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _parse_markup(value: Any) -> _Markup | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise _bad_request("object expected as reply markup")
    if "inline_keyboard" in value:
        return _parse_inline_keyboard(value)
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('field "keyboard" of the ReplyKeyboardMarkup should be an Array')
        keys: list[list[KeyboardKey]] = []
        for row in rows:
            keys.append([])
            for button in row:
                if isinstance(button, str):
                    button = {"text": button}
                if not isinstance(button, dict):
                    raise _bad_request(
                        "can't parse keyboard button: KeyboardButton should be an Object"
                    )
                text = _button_text(button, "keyboard button")
                keys[-1].append(KeyboardKey(text, bool(button.get("request_contact"))))
        return _Markup("reply", value, keys=keys)
    if value.get("remove_keyboard") is True:
        return _Markup("remove", value)
    if value.get("force_reply") is True:
        return _Markup("force_reply", value)
    raise _bad_request("can't parse reply keyboard markup JSON object")


def _parse_inline_keyboard(raw: JSON) -> _Markup:
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    buttons: list[list[Button]] = []
    actions: list[list[str]] = []
    for row in rows:
        buttons.append([])
        actions.append([])
        for button in row:
            if not isinstance(button, dict):
                raise _bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton should be an Object"
                )
            text = _button_text(button, "inline keyboard button")
            action = next(
                (key for key in _INLINE_ACTIONS if button.get(key) not in (None, "")), None
            )
            if action is None:
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            value = button[action]
            if action == "callback_data":
                if not isinstance(value, str):
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        'Field "callback_data" must be of type String'
                    )
                if len(value.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
            elif action == "url":
                if not isinstance(value, str):
                    raise _bad_request(
                        'can\'t parse inline keyboard button: Field "url" must be of type String'
                    )
                _check_button_url(value)
            else:
                value = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            buttons[-1].append(Button(text, value))
            actions[-1].append(action)
    return _Markup("inline", raw, buttons=buttons, actions=actions)


# --------------------------------------------------------------------------------------------
# Requests


class _Upload(NamedTuple):
    filename: str | None
    content: bytes
    content_type: str | None


_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAM_RE = re.compile(r';\s*([A-Za-z*]+)="((?:[^"\\]|\\.)*)"')


def _unescape_form_param(value: str) -> str:
    # httpx escapes '"' as %22, control characters as %XX and '\' as '\\'.
    value = re.sub(r"%(22|[01][0-9A-F])", lambda m: chr(int(m[1], 16)), value)
    return value.replace("\\\\", "\\")


def _parse_multipart(body: bytes, content_type: str) -> tuple[JSON, dict[str, _Upload]]:
    match = _BOUNDARY_RE.search(content_type)
    if match is None:
        raise _bad_request("multipart boundary is missing")
    fields: JSON = {}
    files: dict[str, _Upload] = {}
    for chunk in body.split(b"--" + match[1].encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = dict(_DISPOSITION_PARAM_RE.findall(headers.get("content-disposition", "")))
        if "name" not in disposition:
            continue
        name = _unescape_form_param(disposition["name"])
        if "filename" in disposition:
            filename = _unescape_form_param(disposition["filename"])
            files[name] = _Upload(filename, content, headers.get("content-type"))
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


def _normalize(values: JSON) -> JSON:
    """Decode form strings into ints, booleans and JSON objects for well-known fields."""
    result: JSON = {}
    for key, value in values.items():
        if isinstance(value, str):
            if key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _BOOL_FIELDS and value in ("true", "false"):
                value = value == "true"
            elif key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        result[key] = value
    return result


async def _read_request(request: Request) -> tuple[JSON, dict[str, _Upload]]:
    values: JSON = dict(request.query_params)
    files: dict[str, _Upload] = {}
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if body and mime == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _bad_request(f"can't parse JSON encoded request: {exc}") from None
        if not isinstance(data, dict):
            raise _bad_request("can't parse JSON encoded request: object expected")
        values.update(data)
    elif body and mime == "application/x-www-form-urlencoded":
        values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif body and mime == "multipart/form-data":
        fields, files = _parse_multipart(body, content_type)
        values.update(fields)
    return _normalize(values), files


async def _connected() -> bool:
    return False


class _Params:
    """Typed access to a call's parameters, accepting JSON values or form strings."""

    def __init__(
        self,
        values: JSON,
        files: dict[str, _Upload],
        disconnected: Callable[[], Awaitable[bool]] = _connected,
    ):
        self.values = values
        self.files = files
        self.disconnected = disconnected  # has the caller gone away (e.g. a killed bot)?

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise _bad_request(f'field "{name}" must be of type String')

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise _bad_request(f"invalid {name} specified")

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        return self.values.get(name) in (True, 1, "true", "True", "1")

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad_request(f"can't parse {name} JSON object") from None
        return value


class _Described(NamedTuple):
    result: Any
    description: str


# --------------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    filename: str | None
    mime_type: str | None
    path: str


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xcc\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PNG = _tiny_png()


def _image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG, WebP or BMP image; None if not an image."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(content):
            if content[i] != 0xFF:
                i += 1
                continue
            marker = content[i + 1]
            length = struct.unpack(">H", content[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", content[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
        return (1, 1)
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return (1, 1)
    if content[:2] == b"BM" and len(content) >= 26:
        width, height = struct.unpack("<ii", content[18:26])
        return abs(int(width)), abs(int(height))
    return None


# --------------------------------------------------------------------------------------------
# Chats, users and their messages


@dataclass(eq=False)
class _Record:
    """A message in a chat, sent by the bot (sender None) or by a user."""

    chat: FakeChat
    message_id: int
    date: int
    sender: FakeUser | None
    kind: Literal["message", "document", "photo", "user"]
    content: JSON  # message fields: text/entities, document/caption, photo, sticker, ...
    html: str | None = None
    markup: _Markup | None = None
    file: SentFile | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    topic: int | None = None

    @property
    def from_bot(self) -> bool:
        return self.sender is None

    @property
    def text(self) -> str:
        return str(self.content.get("text") or self.content.get("caption") or "")

    @property
    def buttons(self) -> list[list[Button]]:
        return self.markup.buttons if self.markup and self.markup.kind == "inline" else []

    def to_json(self, *, nested: bool = True) -> JSON:
        sender = self.chat.tg.bot_user if self.sender is None else self.sender.to_json()
        data: JSON = {
            "message_id": self.message_id,
            "from": sender,
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if nested and self.reply_to is not None:
            replied = self.chat._records.get(self.reply_to)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = replied.to_json(nested=False)
        data.update(self.content)
        if self.topic is not None:
            data.update(message_thread_id=self.topic, is_topic_message=True)
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.markup is not None and self.markup.kind == "inline":
            data["reply_markup"] = self.markup.raw  # Telegram echoes inline keyboards only
        return data

    def snapshot(self, kind: Literal["message", "edit", "document", "photo"]) -> BotMessage:
        markup = self.markup
        return BotMessage(
            message_id=self.message_id,
            chat_id=self.chat.id,
            kind=kind,
            text=self.text,
            html=self.html,
            entities=list(
                self.content.get("entities") or self.content.get("caption_entities") or []
            ),
            buttons=[list(row) for row in self.buttons],
            reply_keyboard=markup.keys if markup and markup.kind == "reply" else None,
            remove_keyboard=markup is not None and markup.kind == "remove",
            force_reply=markup is not None and markup.kind == "force_reply",
            document=self.file if self.kind == "document" else None,
            photo=self.file if self.kind == "photo" else None,
            edited=self.edit_date is not None,
            reply_to=self.reply_to,
            reply_markup=markup.raw if markup else None,
            topic=self.topic,
        )

    def base_kind(self) -> Literal["message", "document", "photo"]:
        return "message" if self.kind == "user" else self.kind


class FakeChat:
    """A chat as its members see it: what the bot posted, in order, and a readable transcript."""

    def __init__(
        self,
        tg: FakeTelegram,
        chat_id: int,
        chat_type: Literal["private", "group", "supergroup"],
        *,
        title: str | None = None,
        user: FakeUser | None = None,
        privacy_mode: bool = True,
        bot_is_admin: bool = False,
        forum: bool = False,
    ):
        self.tg = tg
        self.forum = forum  # a supergroup with topics
        self.topics: dict[int, ForumTopic] = {}  # message_thread_id -> topic
        self.id = chat_id
        self.type = chat_type
        self.title = title
        self.user = user  # the other party of a private chat
        self.privacy_mode = privacy_mode
        self.bot_is_admin = bot_is_admin
        self.events: list[BotMessage] = []  # everything the bot posted or edited, in order
        self.actions: list[str] = []  # sendChatAction calls
        self.reply_keyboard: list[list[KeyboardKey]] | None = None  # as currently shown
        self._one_time_keyboard = False
        self._cursor = 0
        self._log: list[str] = []
        self._records: dict[int, _Record] = {}
        self._last_message_id = 0
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<FakeChat {self.id} {self.name!r}>"

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.first_name
        return self.title or str(self.id)

    def to_json(self) -> JSON:
        if self.user is not None:
            return {"id": self.id, "type": "private", **self.user.names()}
        data: JSON = {"id": self.id, "type": self.type, "title": self.title or str(self.id)}
        if self.forum:
            data["is_forum"] = True
        return data

    def topic_named(self, name: str) -> ForumTopic:
        """The (open or closed) topic with this name."""
        for topic in self.topics.values():
            if topic.name == name:
                return topic
        raise AssertionError(f"no topic {name!r} in {self.name}: {list(self.topics.values())}")

    # --- what the test reads

    @property
    def transcript(self) -> list[str]:
        """Everything that happened in the chat, one readable entry per event."""
        return list(self._log)

    def format_transcript(self) -> str:
        return "\n".join(self._log) if self._log else "(nothing happened in this chat)"

    @property
    def bot_messages(self) -> list[BotMessage]:
        """The current state of every bot message still in the chat, oldest first."""
        return [r.snapshot(r.base_kind()) for r in self._bot_records()]

    @property
    def last_message(self) -> BotMessage | None:
        """The current state of the newest bot message still in the chat."""
        records = self._bot_records()
        return records[-1].snapshot(records[-1].base_kind()) if records else None

    def message(self, message_id: int) -> BotMessage:
        record = self._records.get(message_id)
        if record is None or not record.from_bot:
            raise KeyError(f"no bot message #{message_id} in {self.name}")
        return record.snapshot(record.base_kind())

    async def next_message(self, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109
        """The next thing the bot posted here: a message, a document, a photo or an edit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._cursor >= len(self.events):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"no bot message arrived in {self.name} ({self.id}) within {timeout:g}s\n"
                    + self._report()
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        event = self.events[self._cursor]
        self._cursor += 1
        return event

    async def expect_silence(self, duration: float = 0.3) -> None:
        """Assert that the bot posts nothing here (that was not read yet) for ``duration``."""
        await asyncio.sleep(duration)
        unread = self.events[self._cursor :]
        if unread:
            listed = "\n".join(str(event) for event in unread)
            raise AssertionError(
                f"expected silence in {self.name} ({self.id}) but the bot posted:\n{listed}\n"
                + self._report()
            )

    # --- internals

    def _report(self) -> str:
        lines = ["Transcript:", self.format_transcript()]
        if self.tg.rejected:
            lines += ["Rejected calls:", *(f"  {r}" for r in self.tg.rejected[-10:])]
        return "\n".join(lines)

    def _bot_records(self) -> list[_Record]:
        return [r for r in self._records.values() if r.from_bot and not r.deleted]

    def _note(self, line: str) -> None:
        self._log.append(line)

    def _emit(self, event: BotMessage) -> None:
        self.events.append(event)
        self._note(str(event))
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _new_record(
        self, sender: FakeUser | None, kind: Any, content: JSON, **extra: Any
    ) -> _Record:
        self._last_message_id += 1
        record = _Record(
            self, self._last_message_id, int(time.time()), sender, kind, content, **extra
        )
        self._records[record.message_id] = record
        return record


class FakeUser:
    """A Telegram user who talks to the bot, privately or in groups."""

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone_number: str | None = None,
        started: bool = True,
    ):
        self.tg = tg
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone_number = phone_number
        self.started = started  # has the user ever started the bot?
        self.blocked = False
        self.answered_callbacks: list[CallbackAnswer] = []
        self.chat = FakeChat(tg, user_id, "private", user=self)

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.first_name!r}>"

    def names(self) -> JSON:
        data: JSON = {"first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, **self.names()}
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    # --- the private chat, for convenience

    async def next_message(self, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109
        return await self.chat.next_message(timeout)

    async def expect_silence(self, duration: float = 0.3) -> None:
        await self.chat.expect_silence(duration)

    @property
    def transcript(self) -> list[str]:
        return self.chat.transcript

    @property
    def last_message(self) -> BotMessage | None:
        return self.chat.last_message

    # --- things a user does

    async def send(
        self,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: int | None = None,
        topic: int | None = None,
    ) -> int:
        """Write a text message (in a forum topic: ``topic``); returns its message_id."""
        content: JSON = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        return await self._post(chat, content, text, reply_to, topic)

    async def send_sticker(self, emoji: str = "👍", *, chat: FakeChat | None = None) -> int:
        file = self.tg._store_file(b"RIFF\x00\x00\x00\x00WEBP", "sticker.webp", "image/webp")
        sticker = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(file.content),
        }
        return await self._post(chat, {"sticker": sticker}, f"[sticker {emoji}]")

    async def send_photo(
        self,
        content: bytes = TINY_PNG,
        *,
        caption: str | None = None,
        chat: FakeChat | None = None,
        topic: int | None = None,
    ) -> int:
        size = _image_size(content) or (1, 1)
        file = self.tg._store_file(content, None, "image/jpeg", folder="photos")
        photo = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "width": size[0],
            "height": size[1],
            "file_size": len(content),
        }
        message: JSON = {"photo": [photo]}
        if caption:
            message["caption"] = caption
        label = f"[photo] {caption}" if caption else "[photo]"
        return await self._post(chat, message, label, topic=topic)

    async def send_voice(
        self, duration: int = 3, content: bytes = b"OggS\x00voice", *, chat: FakeChat | None = None
    ) -> int:
        file = self.tg._store_file(content, None, "audio/ogg", folder="voice")
        voice = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        return await self._post(chat, {"voice": voice}, f"[voice {duration}s]")

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        chat: FakeChat | None = None,
    ) -> int:
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        file = self.tg._store_file(content, filename, mime)
        document = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_name": filename,
            "mime_type": mime,
            "file_size": len(content),
        }
        message: JSON = {"document": document}
        if caption:
            message["caption"] = caption
        return await self._post(chat, message, f"[document {filename}]")

    async def send_location(
        self, latitude: float, longitude: float, *, chat: FakeChat | None = None
    ) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._post(chat, {"location": location}, f"[location {latitude}, {longitude}]")

    async def send_contact(
        self,
        phone_number: str,
        *,
        first_name: str | None = None,
        user_id: int | None = None,
        chat: FakeChat | None = None,
    ) -> int:
        """Share a contact (``user_id=self.id`` for one's own, as request_contact does)."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return await self._post(chat, {"contact": contact}, f"[contact {phone_number}]")

    async def edit(self, message_id: int, text: str, *, chat: FakeChat | None = None) -> None:
        """Edit one of this user's text messages (the bot gets an edited_message update)."""
        target = chat or self.chat
        record = target._records.get(message_id)
        if record is None or record.sender is not self or "text" not in record.content:
            raise AssertionError(f"{self.first_name} has no text message #{message_id} to edit")
        record.content = {"text": text}
        if entities := _command_entities(text):
            record.content["entities"] = entities
        record.edit_date = int(time.time())
        target._note(f"#{message_id} {self.first_name} (edited): {text}")
        self.tg._push_update("edited_message", record.to_json())
        await asyncio.sleep(0)

    async def press(self, label: str, *, chat: FakeChat | None = None) -> str:
        """Press the inline button labelled ``label`` on the newest bot message showing it.

        Returns the callback query id."""
        target = chat or self.chat
        for record in reversed(target._bot_records()):
            if not record.buttons or record.markup is None:
                continue
            for row, actions in zip(record.buttons, record.markup.actions, strict=True):
                for button, action in zip(row, actions, strict=True):
                    if button.text != label:
                        continue
                    if action != "callback_data":
                        raise AssertionError(
                            f"[{label}] on #{record.message_id} is a {action} button "
                            f"({button.value}); pressing it sends no update to the bot"
                        )
                    target._note(f"{self.first_name} pressed [{label}] on #{record.message_id}")
                    return await self.tg._callback(self, target, record.message_id, button.value)
        visible = [
            f"#{r.message_id}: " + " ".join(f"[{b.text}]" for row in r.buttons for b in row)
            for r in reversed(target._bot_records())
            if r.buttons
        ]
        raise AssertionError(
            f"{self.first_name} sees no inline button [{label}] in {target.name}. "
            f"Visible buttons: {'; '.join(visible) or 'none'}\n" + target._report()
        )

    async def press_data(
        self, data: str, message_id: int | None = None, *, chat: FakeChat | None = None
    ) -> str:
        """Send a callback query with arbitrary data (forged or stale buttons).

        ``message_id`` defaults to the newest bot message; a deleted or unknown one is sent as
        an inaccessible message, like Telegram does. Returns the callback query id."""
        target = chat or self.chat
        if message_id is None:
            records = target._bot_records()
            if not records:
                raise AssertionError(f"there is no bot message in {target.name} to press on")
            message_id = records[-1].message_id
        target._note(f"{self.first_name} sent callback data {data!r} on #{message_id}")
        return await self.tg._callback(self, target, message_id, data)

    async def tap(self, label: str, *, chat: FakeChat | None = None) -> int:
        """Tap a button of the reply keyboard currently shown (sends its text, or the user's
        contact for a request_contact button). Returns the message_id."""
        target = chat or self.chat
        keys = [key for row in target.reply_keyboard or [] for key in row]
        key = next((key for key in keys if key.text == label), None)
        if key is None:
            shown = " ".join(f"[{k.text}]" for k in keys) or "no reply keyboard"
            raise AssertionError(f"{self.first_name} sees no key [{label}]; shown: {shown}")
        if target._one_time_keyboard:
            target.reply_keyboard = None
        if not key.request_contact:
            return await self.send(label, chat=chat)
        if not self.phone_number:
            raise AssertionError(f"{self.first_name} has no phone_number to share")
        return await self.send_contact(self.phone_number, user_id=self.id, chat=chat)

    async def _post(
        self,
        chat: FakeChat | None,
        content: JSON,
        label: str,
        reply_to: int | None = None,
        topic: int | None = None,
    ) -> int:
        target = chat or self.chat
        if topic is not None and topic not in target.topics:
            raise AssertionError(f"no topic #{topic} in {target.name}")
        if topic is not None and target.topics[topic].closed:
            raise AssertionError(f"topic #{topic} in {target.name} is closed")
        if target.type == "private" and target.user is not self:
            raise AssertionError(f"{self.first_name} cannot write in {target.name}'s private chat")
        if target.type == "private" and self.blocked:
            raise AssertionError(f"{self.first_name} has blocked the bot: tg.unblock() first")
        if reply_to is not None and reply_to not in target._records:
            raise AssertionError(f"no message #{reply_to} in {target.name} to reply to")
        self.started = self.started or target.type == "private"
        record = target._new_record(self, "user", content, reply_to=reply_to, topic=topic)
        where = f" [topic #{topic}]" if topic is not None else ""
        target._note(f"#{record.message_id} {self.first_name}{where}: {label}")
        if self.tg._bot_sees(target, content, reply_to):
            self.tg._push_update("message", record.to_json())
        else:
            target._note(f"    (not delivered to the bot: privacy mode in {target.name})")
        await asyncio.sleep(0)
        return record.message_id


# --------------------------------------------------------------------------------------------
# The server


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers, stopping as soon as it is told to."""

    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self._stop = asyncio.Event()
        self.url = ""

    def cut(self, client: tuple[str, int] | None) -> bool:
        """Resets the TCP connection of this client, without an answer."""
        for connection in list(self.server_state.connections):
            if client is not None and tuple(connection.client or ()) == tuple(client):
                connection.transport.abort()
                return True
        return False

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        await self.on_tick(0)
        await self._stop.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown, minus its fixed 0.1 s pause."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 2)
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.002)  # uvicorn offers no event to wait on
        for task in state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()

    def stop(self) -> None:
        self.should_exit = True
        self._stop.set()


@contextlib.asynccontextmanager
async def serve_asgi(app: ASGIApp, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn in this event loop on a free port; yields its root URL."""
    async with _serve(app, host) as server:
        yield server.url


@contextlib.asynccontextmanager
async def _serve(app: ASGIApp, host: str = "127.0.0.1") -> AsyncIterator[_QuietServer]:
    """The running server itself, whose connections the fake can cut."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
            # Longer than httpx's 5 s keep-alive expiry (nginx's default, as Telegram's front):
            # the client retires an idle connection first, so no request races its closing.
            timeout_keep_alive=75,
        )
        server = _QuietServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.002)
            server.url = f"http://{host}:{port}"
            yield server
        finally:
            server.stop()
            await task
    finally:
        sock.close()


@dataclass(eq=False)
class _Pending:
    update: JSON
    forced: bool = False  # redelivered: not confirmed by an offset until returned again

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Query:
    query_id: str
    user: FakeUser
    chat: FakeChat
    message_id: int
    data: str
    created: float
    answered: bool = False


@dataclass
class _Injected:
    method: str
    error: ApiError
    times: int


@dataclass
class _Drop:
    method: str | None  # None: any method
    times: int
    after: bool  # the call takes effect first, then its answer is lost


_Handler = Callable[[_Params], Awaitable[Any]]


class FakeTelegram:
    """The fake Bot API server. Use as ``async with FakeTelegram() as tg:``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "Sportello",
        strict_html: bool = True,
        callback_query_timeout: float = 15.0,
        webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5),
        webhook_timeout: float = 10.0,
        first_update_id: int = 1,
    ):
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_html = strict_html
        self.callback_query_timeout = callback_query_timeout
        self.webhook_retry_delays = webhook_retry_delays
        self.webhook_timeout = webhook_timeout
        self.rate_limit: RateLimit | None = None

        self.calls: list[ApiCall] = []  # every call, in order
        self.rejected: list[Rejection] = []  # every call answered with an error
        self.updates: list[JSON] = []  # every update ever created (delivered or not)
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope JSON, language) -> list

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._pending: list[_Pending] = []
        self._allowed_updates: list[str] = []
        self._webhook: _Webhook | None = None
        self._poll_generation = 0
        self._queries: dict[str, _Query] = {}
        self._files: dict[str, _StoredFile] = {}
        self._sent_per_chat: dict[int, deque[float]] = {}
        self._sent_overall: deque[float] = deque()
        self._injected: list[_Injected] = []
        self._drops: list[_Drop] = []
        self._latency: dict[str | None, float] = {}  # method (lowercase) or None: seconds
        self.writes: list[tuple[float, int]] = []  # (time.time(), chat id) of counted sends
        self.in_flight: Counter[str] = Counter()  # calls received, not answered, per method
        self._server: _QuietServer | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._root: str | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._http: httpx.AsyncClient | None = None
        self._handlers: dict[str, _Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "getchat": self._get_chat,
            "createforumtopic": self._create_forum_topic,
            "closeforumtopic": self._close_forum_topic,
            "reopenforumtopic": self._reopen_forum_topic,
            "deleteforumtopic": self._delete_forum_topic,
        }

    # --- lifecycle

    async def __aenter__(self) -> FakeTelegram:
        self._changed = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(self._close_http)
            app = Starlette(
                routes=[
                    Route("/bot{token}/{method}", self._handle_api, methods=["GET", "POST"]),
                    Route("/file/bot{token}/{path:path}", self._handle_file, methods=["GET"]),
                    Route("/{path:path}", self._handle_unknown, methods=["GET", "POST"]),
                ]
            )
            self._server = await stack.enter_async_context(_serve(app))
            self._root = self._server.url
            worker = asyncio.create_task(self._webhook_worker())
            stack.push_async_callback(self._stop_worker, worker)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._notify()  # pending long polls answer at once
        if self._stack is not None:
            await self._stack.aclose()
        self._root = None

    async def _close_http(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _stop_worker(self, worker: asyncio.Task[None]) -> None:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    @property
    def base_url(self) -> str:
        """The Bot API base URL (PTB's ``base_url``; the token is appended to it)."""
        return f"{self._started_root()}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self._started_root()}/file/bot"

    def _started_root(self) -> str:
        if self._root is None:
            raise RuntimeError("FakeTelegram is not running: use `async with FakeTelegram()`")
        return self._root

    # --- the world

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone_number: str | None = None,
        started: bool | None = None,
    ) -> FakeUser:
        """The user with this id (created on first use; given fields are updated)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self._users.get(user_id)
        if user is None:
            user = FakeUser(self, user_id, first_name or f"User{user_id}")
            self._users[user_id] = user
            self._chats[user_id] = user.chat
        for name, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
            ("phone_number", phone_number),
            ("started", started),
        ):
            if value is not None:
                setattr(user, name, value)
        return user

    def group(
        self,
        chat_id: int,
        title: str | None = None,
        *,
        privacy_mode: bool | None = None,
        bot_is_admin: bool | None = None,
        forum: bool | None = None,
    ) -> FakeChat:
        """The group with this (negative) id, created on first use; -100... is a supergroup.

        Privacy mode is on and the bot is no admin unless told otherwise; ``forum=True`` turns
        topics on (supergroups only)."""
        if chat_id >= 0:
            raise ValueError("group ids are negative")
        chat = self._chats.get(chat_id)
        if chat is None:
            kind: Literal["group", "supergroup"] = (
                "supergroup" if str(chat_id).startswith("-100") else "group"
            )
            chat = FakeChat(self, chat_id, kind, title=title)
            self._chats[chat_id] = chat
        chat.title = title or chat.title
        if privacy_mode is not None:
            chat.privacy_mode = privacy_mode
        if bot_is_admin is not None:
            chat.bot_is_admin = bot_is_admin
        if forum is not None:
            if forum and chat.type != "supergroup":
                raise ValueError("only supergroups have topics")
            chat.forum = forum
        return chat

    def chat(self, chat_id: int) -> FakeChat:
        return self._chats[chat_id]

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends answer 403 and the bot gets a my_chat_member update."""
        self._set_blocked(self._users[user_id], True)

    def unblock(self, user_id: int) -> None:
        self._set_blocked(self._users[user_id], False)

    def _set_blocked(self, user: FakeUser, blocked: bool) -> None:
        if user.blocked == blocked:
            return
        user.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        member: JSON = {"user": self.bot_user, "status": new}
        if blocked:
            member["until_date"] = 0
        old_member: JSON = {"user": self.bot_user, "status": old}
        if not blocked:
            old_member["until_date"] = 0
        user.chat._note(f"{user.first_name} {'blocked' if blocked else 'unblocked'} the bot")
        self._push_update(
            "my_chat_member",
            {
                "chat": user.chat.to_json(),
                "from": user.to_json(),
                "date": int(time.time()),
                "old_chat_member": old_member,
                "new_chat_member": member,
            },
        )

    def fail_next(
        self,
        method: str,
        error_code: int = 500,
        description: str = "Internal Server Error",
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error (e.g. a 502)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        error = ApiError(error_code, description, parameters)
        self._injected.append(_Injected(method.lower(), error, times))

    def fail_until_further_notice(
        self, method: str, error_code: int = 502, description: str = "Bad Gateway"
    ) -> None:
        """An outage: every call of ``method`` fails with this error until ``recover()``."""
        self.fail_next(method, error_code, description, times=10**9)

    def recover(self) -> None:
        """The errors injected with ``fail_next`` (and outages) end."""
        self._injected.clear()

    def drop_next(self, method: str | None = None, *, times: int = 1, after: bool = False) -> None:
        """Reset the connection of the next ``times`` calls (of ``method``, or of any method)
        without an answer: a network error. With ``after=True`` the call takes effect first
        (the message is delivered) and only its answer is lost."""
        self._drops.append(_Drop(method.lower() if method else None, times, after))

    def slow(self, seconds: float, method: str | None = None) -> None:
        """Every answer (to ``method``, or to every method) waits ``seconds`` first; 0 undoes."""
        self._latency[method.lower() if method else None] = seconds

    def peak_rate(self, window: float = 1.0, chat_id: int | None = None) -> int:
        """The most sends and edits (to ``chat_id``, or to all chats) in any sliding window."""
        times = [t for t, chat in self.writes if chat_id is None or chat == chat_id]
        return max(
            (bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0
        )

    async def redeliver(self, update_id: int) -> None:
        """Queue an already delivered update again, with the same update_id (as Telegram does
        when the bot did not confirm it, e.g. after a crash)."""
        update = next((u for u in self.updates if u["update_id"] == update_id), None)
        if update is None:
            raise KeyError(f"no update {update_id}")
        entry = _Pending(update, forced=True)
        position = sum(1 for p in self._pending if p.update_id <= update_id)
        self._pending.insert(position, entry)
        self._notify()
        await asyncio.sleep(0)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot (getUpdates offset or webhook 2xx)."""
        return [p.update for p in self._pending]

    @property
    def last_update_id(self) -> int:
        """The update_id of the newest update created so far."""
        if not self.updates:
            raise LookupError("no update was created yet")
        return int(self.updates[-1]["update_id"])

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def assert_no_rejections(self) -> None:
        if self.rejected:
            listed = "\n".join(f"  {r}  params={r.params}" for r in self.rejected)
            raise AssertionError(f"{len(self.rejected)} Bot API call(s) rejected:\n{listed}")

    # --- updates

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _accepts(self, kind: str) -> bool:
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATES

    def push_raw_update(self, kind: str, payload: JSON) -> int:
        """An update exactly as given (even one a client library cannot read); its id."""
        return self._push_update(kind, payload)

    def _push_update(self, kind: str, payload: JSON) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self.updates.append(update)
        if self._accepts(kind):
            self._pending.append(_Pending(update))
            self._notify()
        return update_id

    def _bot_sees(self, chat: FakeChat, content: JSON, reply_to: int | None) -> bool:
        if chat.type == "private" or not chat.privacy_mode or chat.bot_is_admin:
            return True
        replied = chat._records.get(reply_to) if reply_to is not None else None
        if replied is not None and replied.from_bot:
            return True
        text = str(content.get("text") or content.get("caption") or "")
        command = re.match(r"/[A-Za-z0-9_]+(?:@([A-Za-z0-9_]+))?", text)
        if command is not None:
            return command[1] is None or command[1].lower() == self.bot_username.lower()
        return f"@{self.bot_username}".lower() in text.lower()

    async def _callback(self, user: FakeUser, chat: FakeChat, message_id: int, data: str) -> str:
        record = chat._records.get(message_id)
        if record is not None and not record.deleted:
            message = record.to_json()
        else:  # Telegram's InaccessibleMessage
            message = {"chat": chat.to_json(), "message_id": message_id, "date": 0}
        query_id = str(4_000_000_000_000 + next(self._query_ids))
        loop = asyncio.get_running_loop()
        self._queries[query_id] = _Query(query_id, user, chat, message_id, data, loop.time())
        payload = {
            "id": query_id,
            "from": user.to_json(),
            "message": message,
            "chat_instance": str(abs(chat.id) * 7919 + self.bot_id),
            "data": data,
        }
        self._push_update("callback_query", payload)
        await asyncio.sleep(0)
        return query_id

    def _store_file(
        self, content: bytes, filename: str | None, mime_type: str | None, folder: str = "documents"
    ) -> _StoredFile:
        number = next(self._file_ids)
        suffix = mimetypes.guess_extension(mime_type or "") or ""
        name = filename or f"file_{number}{suffix}"
        stored = _StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            content=content,
            filename=filename,
            mime_type=mime_type,
            path=f"{folder}/{number}_{name}",
        )
        self._files[stored.file_id] = stored
        return stored

    # --- HTTP

    async def _handle_unknown(self, request: Request) -> Response:
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle_file(self, request: Request) -> Response:
        path = request.path_params["path"]
        stored = next((f for f in self._files.values() if f.path == path), None)
        if request.path_params["token"] != self.token or stored is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return Response(stored.content, media_type=stored.mime_type or "application/octet-stream")

    async def _handle_api(self, request: Request) -> Response:
        method = str(request.path_params["method"])
        values: JSON = {}
        files: dict[str, _Upload] = {}
        try:
            try:
                values, files = await _read_request(request)
            except ClientDisconnect:  # the bot died mid-request: nobody to answer
                return Response()
            finally:
                self.calls.append(ApiCall(method, values, time.time(), tuple(files)))
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            self.in_flight[method.lower()] += 1
            try:
                await self._answer_late(method)
                if await self._cut(request, method, after=False):
                    return Response()
                self._raise_injected(method)
                result = await handler(_Params(values, files, request.is_disconnected))
                if await self._cut(request, method, after=True):
                    return Response()
            finally:
                self.in_flight[method.lower()] -= 1
        except ApiError as exc:
            self.rejected.append(Rejection(method, exc.error_code, exc.description, values))
            return JSONResponse(exc.payload(), status_code=exc.error_code)
        except Exception:  # a bug in the fake: make it loud, in the test's output
            description = f"FakeTelegram internal error:\n{traceback.format_exc()}"
            self.rejected.append(Rejection(method, 500, description, values))
            return JSONResponse({"ok": False, "error_code": 500, "description": description}, 500)
        body: JSON = {"ok": True}
        if isinstance(result, _Described):
            body.update(result=result.result, description=result.description)
        else:
            body["result"] = result
        return JSONResponse(body)

    async def _answer_late(self, method: str) -> None:
        delay = self._latency.get(method.lower(), self._latency.get(None, 0.0))
        if delay > 0:
            await asyncio.sleep(delay)

    async def _cut(self, request: Request, method: str, *, after: bool) -> bool:
        """Drops the connection if a drop is due for this call; uvicorn ignores the answer."""
        for drop in self._drops:
            if drop.times > 0 and drop.after == after and drop.method in (None, method.lower()):
                drop.times -= 1
                assert self._server is not None
                client = request.client
                cut = self._server.cut((client.host, client.port) if client else None)
                await asyncio.sleep(0)  # uvicorn learns that the connection is lost
                return cut
        return False

    def _raise_injected(self, method: str) -> None:
        for injected in self._injected:
            if injected.method == method.lower() and injected.times > 0:
                injected.times -= 1
                raise injected.error

    # --- checks shared by the methods

    def _target_chat(self, p: _Params) -> FakeChat:
        raw = p.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        try:
            chat = self._chats.get(int(raw))
        except (TypeError, ValueError):
            chat = None  # @channelusername: the fake knows no public chats
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _check_can_write(self, chat: FakeChat) -> None:
        if chat.user is not None and chat.user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.user is not None and not chat.user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _check_rate(self, chat: FakeChat) -> None:
        limit = self.rate_limit
        if limit is None:
            self._log_write(chat)
            return
        now = time.monotonic()
        per_chat = self._sent_per_chat.setdefault(chat.id, deque())
        for sent in (per_chat, self._sent_overall):
            while sent and sent[0] <= now - limit.window:
                sent.popleft()
        wait: float | None = None
        if limit.per_chat is not None and len(per_chat) >= limit.per_chat:
            wait = per_chat[0] + limit.window - now
        if limit.overall is not None and len(self._sent_overall) >= limit.overall:
            wait = max(wait or 0.0, self._sent_overall[0] + limit.window - now)
        if wait is not None:
            retry_after = limit.retry_after or max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        per_chat.append(now)
        self._sent_overall.append(now)
        self._log_write(chat)

    def _log_write(self, chat: FakeChat) -> None:
        self.writes.append((time.time(), chat.id))

    def _formatted(
        self, p: _Params, key: str, entities_key: str, *, caption: bool
    ) -> tuple[str, list[JSON], str | None]:
        """(plain text, entities, html) of a text or caption, validated like Telegram."""
        raw = p.get_str(key) or ""
        if not raw:
            if caption:
                return "", [], None
            raise _bad_request("message text is empty")
        mode = p.get_str("parse_mode")
        html: str | None = None
        if mode:
            if mode.lower() != "html":
                raise _bad_request(
                    f"unsupported parse_mode {mode!r} (FakeTelegram only implements HTML)"
                )
            try:
                plain, entities = _parse_html(raw, strict=self.strict_html)
            except _HtmlError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
            html = raw
        else:
            plain, entities = raw, self._explicit_entities(p.get_json(entities_key))
        plain, entities = _trim(plain, entities)
        if not plain and not caption:
            raise _bad_request("message text is empty")
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if _utf16_len(plain) > limit:
            raise _bad_request("message caption is too long" if caption else "message is too long")
        return plain, entities, html

    @staticmethod
    def _explicit_entities(value: Any) -> list[JSON]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(
            isinstance(e, dict)
            and isinstance(e.get("type"), str)
            and isinstance(e.get("offset"), int)
            and isinstance(e.get("length"), int)
            for e in value
        ):
            raise _bad_request("can't parse entities JSON object")
        return [dict(e) for e in value]

    def _reply_target(self, p: _Params, chat: FakeChat) -> int | None:
        parameters = p.get_json("reply_parameters")
        allow = p.get_bool("allow_sending_without_reply")
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            allow = allow or bool(parameters.get("allow_sending_without_reply"))
        else:
            message_id = p.get_int("reply_to_message_id")
        if message_id is None:
            return None
        record = chat._records.get(int(message_id))
        if record is None or record.deleted:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return record.message_id

    def _topic_to_write(self, p: _Params, chat: FakeChat) -> int | None:
        """The message_thread_id asked for: an open topic of a forum, or None."""
        thread = p.get_int("message_thread_id")
        if thread is None:
            return None
        topic = chat.topics.get(thread)
        if not chat.forum or topic is None:
            raise _bad_request("message thread not found")
        if topic.closed:
            raise _bad_request("TOPIC_CLOSED")
        return thread

    def _forum_topic(self, p: _Params) -> tuple[FakeChat, ForumTopic]:
        chat = self._forum(p)
        topic = chat.topics.get(p.get_int("message_thread_id") or 0)
        if topic is None:
            raise _bad_request("message thread not found")
        return chat, topic

    def _forum(self, p: _Params) -> FakeChat:
        chat = self._target_chat(p)
        if not chat.forum:
            raise _bad_request("the chat is not a forum")
        if not chat.bot_is_admin:
            raise _bad_request("not enough rights to manage topics")
        return chat

    def _message_to_edit(self, p: _Params) -> _Record:
        if p.get("inline_message_id") is not None:
            raise _bad_request("FakeTelegram does not implement inline messages")
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        self._check_can_write(chat)
        self._check_rate(chat)
        record = chat._records.get(message_id)
        if record is None or record.deleted:
            raise _bad_request("message to edit not found")
        if not record.from_bot:
            raise _bad_request("message can't be edited")
        return record

    def _edit_markup(self, p: _Params) -> _Markup | None:
        markup = _parse_markup(p.get("reply_markup"))
        if markup is not None and markup.kind != "inline":
            raise _bad_request("inline keyboard expected")
        return markup

    def _show_markup(self, chat: FakeChat, markup: _Markup | None) -> None:
        if markup is not None and markup.kind == "reply":
            chat.reply_keyboard = markup.keys
            chat._one_time_keyboard = bool(markup.raw.get("one_time_keyboard"))
        elif markup is not None and markup.kind == "remove":
            chat.reply_keyboard = None

    def _input_file(self, p: _Params, field_name: str) -> _Upload:
        upload = p.files.get(field_name)
        if upload is not None:
            return upload
        reference = p.get_str(field_name)
        if not reference:
            raise _bad_request(f"there is no {field_name} in the request")
        if reference.startswith("attach://"):
            attached = p.files.get(reference.removeprefix("attach://"))
            if attached is None:
                raise _bad_request(f"there is no {field_name} in the request")
            return attached
        stored = self._files.get(reference)
        if stored is not None:
            return _Upload(stored.filename, stored.content, stored.mime_type)
        if re.match(r"https?://", reference):
            raise _bad_request("failed to get HTTP URL content (FakeTelegram never fetches URLs)")
        raise _bad_request("wrong file identifier/HTTP URL specified")

    # --- Bot API methods

    async def _get_me(self, p: _Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad_request("can't parse allowed_updates JSON object")
        self._allowed_updates = list(value)

    async def _get_updates(self, p: _Params) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = p.get_int("offset") or 0
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(p.get_float("timeout") or 0.0, 0.0)
        self._set_allowed_updates(p.get_json("allowed_updates"))
        if offset > 0:
            self._pending = [e for e in self._pending if e.update_id >= offset or e.forced]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting is now terminated
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing or self._webhook is not None or await p.disconnected():
                return []  # a dead poller (e.g. a killed process) is answered quietly
            if generation != self._poll_generation:
                raise ApiError(409, POLLING_CONFLICT)
            batch = self._pending[:limit]
            if batch:
                for entry in batch:
                    entry.forced = False
                return [entry.update for entry in batch]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def _set_webhook(self, p: _Params) -> _Described:
        url = p.get_str("url") or ""
        if p.get_bool("drop_pending_updates"):
            self._pending.clear()
        if not url:
            return self._remove_webhook()
        if not re.match(r"https?://[^/\s?#]+", url):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad_request("secret token contains unallowed characters")
        self._set_allowed_updates(p.get_json("allowed_updates"))
        already = self._webhook is not None and self._webhook.url == url
        self._webhook = _Webhook(url, secret, p.get_int("max_connections") or 40)
        self._notify()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, p: _Params) -> _Described:
        if p.get_bool("drop_pending_updates"):
            self._pending.clear()
        return self._remove_webhook()

    def _remove_webhook(self) -> _Described:
        if self._webhook is None:
            return _Described(True, "Webhook is already deleted")
        self._webhook = None
        self._notify()
        return _Described(True, "Webhook was deleted")

    async def _get_webhook_info(self, p: _Params) -> JSON:
        info: JSON = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            if self._webhook.last_error_date is not None:
                info["last_error_date"] = self._webhook.last_error_date
                info["last_error_message"] = self._webhook.last_error_message
        return info

    async def _send_message(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        self._check_can_write(chat)
        self._check_rate(chat)
        markup = _parse_markup(p.get("reply_markup"))
        text, entities, html = self._formatted(p, "text", "entities", caption=False)
        reply_to = self._reply_target(p, chat)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        topic = self._topic_to_write(p, chat)
        record = chat._new_record(
            None, "message", content, html=html, markup=markup, reply_to=reply_to, topic=topic
        )
        self._show_markup(chat, markup)
        chat._emit(record.snapshot("message"))
        return record.to_json()

    async def _send_file(self, p: _Params, kind: Literal["document", "photo"]) -> JSON:
        chat = self._target_chat(p)
        self._check_can_write(chat)
        self._check_rate(chat)
        markup = _parse_markup(p.get("reply_markup"))
        caption, entities, html = self._formatted(p, "caption", "caption_entities", caption=True)
        reply_to = self._reply_target(p, chat)
        topic = self._topic_to_write(p, chat)
        upload = self._input_file(p, kind)
        if not upload.content:
            raise _bad_request("file must be non-empty")
        if len(upload.content) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        content: JSON = {}
        if kind == "photo":
            size = _image_size(upload.content)
            if size is None:
                raise _bad_request("IMAGE_PROCESS_FAILED")
            mime = upload.content_type or "image/jpeg"
            stored = self._store_file(upload.content, upload.filename, mime, folder="photos")
            content["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": size[0],
                    "height": size[1],
                    "file_size": len(stored.content),
                }
            ]
        else:
            mime = (
                upload.content_type
                or mimetypes.guess_type(upload.filename or "")[0]
                or "application/octet-stream"
            )
            stored = self._store_file(upload.content, upload.filename, mime)
            document: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
            if upload.filename:
                document["file_name"] = upload.filename
            document.update(mime_type=mime, file_size=len(stored.content))
            content["document"] = document
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        sent = SentFile(
            stored.file_id, upload.filename, upload.content, stored.mime_type, caption or None
        )
        record = chat._new_record(
            None, kind, content, html=html, markup=markup, file=sent, reply_to=reply_to, topic=topic
        )
        self._show_markup(chat, markup)
        chat._emit(record.snapshot(kind))
        return record.to_json()

    async def _send_document(self, p: _Params) -> JSON:
        return await self._send_file(p, "document")

    async def _send_photo(self, p: _Params) -> JSON:
        return await self._send_file(p, "photo")

    async def _edit_message_text(self, p: _Params) -> JSON:
        record = self._message_to_edit(p)
        if record.kind != "message":
            raise _bad_request("there is no text in the message to edit")
        text, entities, html = self._formatted(p, "text", "entities", caption=False)
        markup = self._edit_markup(p)
        old_entities = record.content.get("entities", [])
        new_buttons = markup.buttons if markup else []
        if text == record.text and entities == old_entities and new_buttons == record.buttons:
            raise _bad_request(NOT_MODIFIED)
        record.content = {"text": text}
        if entities:
            record.content["entities"] = entities
        record.html = html
        record.markup = markup  # no reply_markup in the edit removes the inline keyboard
        record.edit_date = int(time.time())
        record.chat._emit(record.snapshot("edit"))
        return record.to_json()

    async def _edit_message_reply_markup(self, p: _Params) -> JSON:
        record = self._message_to_edit(p)
        markup = self._edit_markup(p)
        if (markup.buttons if markup else []) == record.buttons:
            raise _bad_request(NOT_MODIFIED)
        record.markup = markup
        record.edit_date = int(time.time())
        record.chat._emit(record.snapshot("edit"))
        return record.to_json()

    async def _delete_message(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        record = chat._records.get(message_id) if message_id is not None else None
        if record is None or record.deleted:
            raise _bad_request("message to delete not found")
        if not record.from_bot and chat.type != "private" and not chat.bot_is_admin:
            raise _bad_request("message can't be deleted")
        record.deleted = True
        chat._note(f"bot deleted #{record.message_id}")
        return True

    async def _answer_callback_query(self, p: _Params) -> bool:
        text = p.get_str("text")
        if text and _utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query = self._queries.get(p.get_str("callback_query_id") or "")
        now = asyncio.get_running_loop().time()
        if query is None or query.answered or now - query.created > self.callback_query_timeout:
            raise _bad_request(QUERY_TOO_OLD)
        query.answered = True
        answer = CallbackAnswer(
            query_id=query.query_id,
            data=query.data,
            message_id=query.message_id,
            text=text,
            show_alert=p.get_bool("show_alert"),
            url=p.get_str("url"),
        )
        query.user.answered_callbacks.append(answer)
        shown = f"{'alert' if answer.show_alert else 'toast'} {text!r}" if text else "(no text)"
        query.chat._note(f"bot answered {query.user.first_name}'s button press: {shown}")
        return True

    async def _send_chat_action(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        self._check_can_write(chat)
        self._topic_to_write(p, chat)
        action = p.get_str("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        chat.actions.append(action)
        chat._note(f"(bot: {action}...)")
        return True

    def _commands_key(self, p: _Params) -> tuple[str, str]:
        scope = p.get_json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad_request("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True), p.get_str("language_code") or ""

    async def _set_my_commands(self, p: _Params) -> bool:
        commands = p.get_json("commands") or []
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        checked: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand: BotCommand should be an Object")
            for name in ("command", "description"):
                if not isinstance(command.get(name), str):
                    raise _bad_request(f"can't parse BotCommand: Can't find field \"{name}\"")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not command["description"].strip():
                raise _bad_request("command description must be non-empty")
            if len(command["description"]) > 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": command["command"], "description": command["description"]})
        if len(checked) > 100:
            raise _bad_request("too many commands")
        self.commands[self._commands_key(p)] = checked
        return True

    async def _get_my_commands(self, p: _Params) -> list[JSON]:
        return list(self.commands.get(self._commands_key(p), []))

    async def _delete_my_commands(self, p: _Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def _get_chat(self, p: _Params) -> JSON:
        chat = self._target_chat(p)
        return {**chat.to_json(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _create_forum_topic(self, p: _Params) -> JSON:
        chat = self._forum(p)
        name = p.get_str("name") or ""
        if not 1 <= len(name) <= 128:
            raise _bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        created = chat._new_record(None, "message", {"forum_topic_created": {"name": name}})
        created.deleted = True  # a service message: not one the bot "posted"
        topic = ForumTopic(created.message_id, name)
        chat.topics[topic.message_thread_id] = topic
        chat._note(f"(topic #{topic.message_thread_id} created: {name})")
        return {"message_thread_id": topic.message_thread_id, "name": name, "icon_color": 7322096}

    async def _close_forum_topic(self, p: _Params) -> bool:
        chat, topic = self._forum_topic(p)
        if topic.closed:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        chat._note(f"(topic #{topic.message_thread_id} closed)")
        return True

    async def _reopen_forum_topic(self, p: _Params) -> bool:
        _chat, topic = self._forum_topic(p)
        if not topic.closed:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    async def _delete_forum_topic(self, p: _Params) -> bool:
        chat, topic = self._forum_topic(p)
        del chat.topics[topic.message_thread_id]
        topic.deleted = True
        for record in chat._records.values():
            if record.topic == topic.message_thread_id:
                record.deleted = True
        chat._note(f"(topic #{topic.message_thread_id} deleted)")
        return True

    async def _get_file(self, p: _Params) -> JSON:
        stored = self._files.get(p.get_str("file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }

    # --- webhook delivery

    async def _webhook_worker(self) -> None:
        while not self._closing:
            webhook = self._webhook
            if webhook is None or not self._pending:
                changed = self._changed
                await changed.wait()
                continue
            entry = self._pending[0]
            if await self._deliver(webhook, entry) and entry in self._pending:
                self._pending.remove(entry)

    async def _deliver(self, webhook: _Webhook, entry: _Pending) -> bool:
        """POST one update, retrying; False if the webhook went away meanwhile."""
        if self._http is None:  # created lazily: loading the CA bundle takes ~40 ms
            self._http = httpx.AsyncClient()
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_TOKEN_HEADER] = webhook.secret_token
        body = json.dumps(entry.update).encode("utf-8")
        for attempt, delay in enumerate((*self.webhook_retry_delays, None), start=1):
            status: int | None = None
            error: str | None = None
            try:
                response = await self._http.post(
                    webhook.url, content=body, headers=headers, timeout=self.webhook_timeout
                )
                status = response.status_code
            except httpx.ConnectError:
                error = "Connection refused"
            except httpx.TimeoutException:
                error = "Read timeout expired"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.webhook_deliveries.append(
                WebhookDelivery(entry.update_id, attempt, status, error, time.time())
            )
            if status is not None and 200 <= status < 300:
                return True
            if error is None:
                try:
                    reason = HTTPStatus(status or 0).phrase
                except ValueError:
                    reason = "Unknown"
                error = f"Wrong response from the webhook: {status} {reason}"
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            if self._webhook is not webhook or self._closing:
                return False
            if delay is None:
                return True  # given up: the update is dropped
            await asyncio.sleep(delay)
        return True
