"""WhatsApp webhook notifications as the core's inbound values (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Any

from bot.channels.whatsapp.identity import contact_of
from bot.channels.whatsapp.render import Choice, match_choice
from bot.values.messages import Contact, Inbound, Kind, Media, Sender

CHANNEL = "whatsapp"
# Typed words WhatsApp users expect to work, as the commands they stand for.
WORDS = {
    "menu": "menu",
    "stop": "disiscriviti",
    "basta": "disiscriviti",
    "cancellami": "disiscriviti",
}
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker", "unsupported", "order")
# A first guess at the language from the country code; the user can change it (/lingua).
LANGUAGE_BY_PREFIX = (("33", "fr"), ("44", "en"), ("1", "en"), ("353", "en"), ("61", "en"))
# The same guess from a BSUID's country ("FR.1502…"), when there is no phone number.
LANGUAGE_BY_COUNTRY = {"FR": "fr", "GB": "en", "US": "en", "IE": "en", "AU": "en", "CA": "en"}


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").encode())


def items(notification: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The messages and statuses of a notification, each with the key it is stored under."""
    found: list[tuple[str, dict[str, Any]]] = []
    for entry in notification.get("entry") or ():
        for change in entry.get("changes") or ():
            value = change.get("value") or {}
            for message in value.get("messages") or ():
                contact = contact_of(value, message)
                name = (contact.get("profile") or {}).get("name", "")
                body = {"message": message, "name": name, "contact": contact}
                found.append((str(message["id"]), body))
            for echo in value.get("message_echoes") or ():  # sent from the Business app
                found.append((f"echo:{echo['id']}", {"echo": echo}))
            for status in value.get("statuses") or ():
                found.append((f"{status['id']}:{status['status']}", {"status": status}))
    return found


def sender_of(key: str, name: str, phone: str | None = None, bsuid: str | None = None) -> Sender:
    """The sender for the core: their key, their number only when WhatsApp gave it."""
    aliases = (bsuid,) if bsuid else ()
    if phone:
        found = (lang for prefix, lang in LANGUAGE_BY_PREFIX if phone.startswith(prefix))
        return Sender(key, name, next(found, None), None, "+" + phone, aliases)
    language = LANGUAGE_BY_COUNTRY.get(key.split(".")[0])
    return Sender(key, name, language, None, None, aliases)


def to_inbound(
    message: dict[str, Any],
    sender: Sender,
    first: bool,
    choices: Sequence[Choice] = (),
) -> Inbound | None:
    """One message as an inbound value; `first`: the user's very first message (→ /start)."""
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "sender": sender,
        "chat_id": sender.id,
        "event_id": event_id(str(message["id"])),
    }
    if first:
        return Inbound(kind=Kind.COMMAND, text="/start", command="start", **base)
    content = _content(message, sender, choices)
    return Inbound(**content, **base) if content is not None else None


def event_id(wamid: str) -> str:
    """The message id, or its digest when longer than the 64 characters the desk keeps."""
    return wamid if len(wamid) <= 64 else hashlib.sha256(wamid.encode()).hexdigest()


def _content(
    message: dict[str, Any], sender: Sender, choices: Sequence[Choice]
) -> dict[str, Any] | None:
    kind = message.get("type")
    if kind == "text":
        return typed(str((message.get("text") or {}).get("body", "")), choices)
    if kind == "interactive":
        reply = _interactive_reply(message.get("interactive") or {})
        ref = (message.get("context") or {}).get("id")
        return {"kind": Kind.BUTTON, "payload": reply, "message_ref": ref}
    if kind == "button":  # a template's quick reply: its text, as if typed
        return typed(str((message.get("button") or {}).get("text", "")), choices)
    if kind == "contacts":
        return {"kind": Kind.CONTACT, "contact": _contact(message, sender)}
    if kind == "location":
        return {"kind": Kind.LOCATION}
    if kind in MEDIA_TYPES:
        return {"kind": Kind.MEDIA}
    return None  # reactions, system notices: nothing to answer


def media_of(message: dict[str, Any]) -> tuple[str, Media] | None:
    """A photo or a document: its media id and what it is (the content comes later)."""
    kind = message.get("type")
    if kind not in ("image", "document"):
        return None
    item = message.get(kind) or {}
    mime = str(item.get("mime_type") or "application/octet-stream")
    name = str(item.get("filename") or ("foto.jpg" if kind == "image" else "documento"))
    caption = str(item.get("caption") or "")
    media = Media("photo" if kind == "image" else "document", name, mime, b"", caption)
    return str(item.get("id", "")), media


def typed(text: str, choices: Sequence[Choice] = ()) -> dict[str, Any]:
    """Text as the core expects it: /commands, menu and STOP words, numbered choices."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        command = stripped[1:].split()[0].lower()
        return {"kind": Kind.COMMAND, "text": stripped, "command": command}
    word = re.sub(r"[\W_]+", "", stripped.casefold())
    if word in WORDS:
        return {"kind": Kind.COMMAND, "text": "/" + WORDS[word], "command": WORDS[word]}
    payload = match_choice(stripped, choices) if choices else None
    if payload:
        return {"kind": Kind.BUTTON, "payload": payload, "text": text}
    return {"kind": Kind.TEXT, "text": text}


def _interactive_reply(interactive: dict[str, Any]) -> str:
    reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
    return str(reply.get("id", ""))


def _contact(message: dict[str, Any], sender: Sender) -> Contact:
    """A shared contact card; it is the sender's own when its WhatsApp number is theirs."""
    card = (message.get("contacts") or [{}])[0]
    phones = card.get("phones") or [{}]
    phone = phones[0]
    own = sender.phone is not None and "+" + str(phone.get("wa_id")) == sender.phone
    owner = sender.id if own else phone.get("wa_id")
    name = (card.get("name") or {}).get("formatted_name", "")
    return Contact(str(phone.get("phone") or phone.get("wa_id") or ""), owner, name)
