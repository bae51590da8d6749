"""Phone numbers as people type them, checked and normalised to E.164 (+393331234567)."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "IT"  # a number typed without a prefix is Italian


class BadPhone(ValueError):
    """Not a phone number we could call."""


def normalise_phone(typed: str, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of a typed or shared number; BadPhone if it cannot be called."""
    cleaned = typed.strip()
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if len(cleaned) > 32 or sum(char.isdigit() for char in cleaned) < 6:
        raise BadPhone(typed)
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        raise BadPhone(typed) from None
    if not phonenumbers.is_valid_number(number):
        raise BadPhone(typed)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable_phone(e164: str) -> str:
    """+393331234567 -> "+39 333 123 4567", for people to read back."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
