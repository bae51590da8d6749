"""Who wrote, as WhatsApp tells it since 2026: a business-scoped user id (BSUID, `user_id`) in
every message, the phone number when the user shares it, a username when they have one.
Pure functions over webhook values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

KEY_LIMIT = 64  # the users table keeps external ids of up to 64 characters


@dataclass(frozen=True)
class WhatsAppId:
    """A WhatsApp user's identifiers; any may be missing, but not both phone and BSUID."""

    phone: str | None = None
    bsuid: str | None = None
    username: str | None = None

    @property
    def key(self) -> str:
        """The user's key for a new user: the BSUID when present, the phone number otherwise."""
        return user_key(self.bsuid) if self.bsuid else self.phone or ""

    @property
    def address(self) -> str:
        """Where to send: the phone number when known, else the BSUID."""
        return self.phone or self.bsuid or ""


@dataclass(frozen=True)
class Chat:
    """A user to send to: their key (user row, remembered choices) and their address."""

    key: str
    address: str


def user_key(bsuid: str) -> str:
    """The BSUID, or its digest when longer than the users table keeps (up to 131 characters)."""
    if len(bsuid) <= KEY_LIMIT:
        return bsuid
    return "bsuid:" + hashlib.sha256(bsuid.encode()).hexdigest()[: KEY_LIMIT - 6]


def is_bsuid(address: str) -> bool:
    """A BSUID ("IT.1502576394655843") rather than a phone number (digits only)."""
    return not address.isdigit()


def as_id(address: str) -> WhatsAppId:
    """A number or a BSUID, as the identifier it is."""
    return WhatsAppId(bsuid=address) if is_bsuid(address) else WhatsAppId(phone=address)


def sender_id(message: dict[str, Any], contact: dict[str, Any] | None = None) -> WhatsAppId:
    """The sender of a message, from the message and its entry in the contacts array."""
    card = contact or {}
    phone = message.get("from") or card.get("wa_id")
    bsuid = message.get("from_user_id") or card.get("user_id")
    username = (card.get("profile") or {}).get("username") or card.get("username")
    return WhatsAppId(_text(phone), _text(bsuid), _text(username))


def recipient_id(echo: dict[str, Any]) -> WhatsAppId:
    """Whom a message sent from the WhatsApp Business app (an echo) went to."""
    bsuid = echo.get("to_user_id") or echo.get("recipient_user_id")
    return WhatsAppId(_text(echo.get("to")), _text(bsuid))


def contact_of(value: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The contacts-array entry of this message's sender (matched by phone or BSUID)."""
    cards: list[dict[str, Any]] = list(value.get("contacts") or ())
    for card in cards:
        phone, bsuid = card.get("wa_id"), card.get("user_id")
        if (phone and phone == message.get("from")) or (
            bsuid and bsuid == message.get("from_user_id")
        ):
            return dict(card)
    return dict(cards[0]) if len(cards) == 1 else {}


def who(item: dict[str, Any]) -> str:
    """Whose inbox item: a message's sender, a status's recipient (by BSUID when no phone)."""
    fields = ("from", "from_user_id", "recipient_id", "recipient_user_id", "to", "to_user_id")
    for field in fields:
        if item.get(field):
            return str(item[field])
    return ""


def _text(value: Any) -> str | None:
    return str(value) if value else None
