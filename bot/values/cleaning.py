"""What users send, made safe to store: no NUL, no control characters, no broken UTF-16."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.values.messages import Contact, Inbound, Media

# C0 and C1 controls except tab and newline; lone surrogates (not UTF-8 encodable).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    """The text without control characters (PostgreSQL refuses U+0000; none is meant)."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def cleaned(inbound: Inbound) -> Inbound:
    """The inbound value with every user-typed field cleaned."""
    sender = inbound.sender
    contact = inbound.contact
    return replace(
        inbound,
        sender=replace(sender, name=clean(sender.name)) if sender.name else sender,
        text=clean(inbound.text),
        command=clean(inbound.command),
        payload=clean(inbound.payload),
        contact=_contact(contact) if contact else None,
        media=_media(inbound.media) if inbound.media else None,
    )


def _media(media: Media) -> Media:
    return replace(
        media,
        filename=clean(media.filename),
        mime_type=clean(media.mime_type),
        caption=clean(media.caption),
    )


def _contact(contact: Contact) -> Contact:
    return replace(contact, phone=clean(contact.phone), name=clean(contact.name))
