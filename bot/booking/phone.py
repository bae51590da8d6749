"""Phone numbers as people type them, checked and normalised to E.164 (+393331234567)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

DEFAULT_REGION = "IT"  # a number typed without a prefix is Italian
# Numbers staff can call at an ordinary price. Premium-rate (899, 892, 144, +44 909, +1 900),
# shared-cost (840, 848), personal (178, 199), pager, UAN, voicemail and unknown types are not.
CALLABLE = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.VOIP,
    }
)


class BadPhone(ValueError):
    """Not a phone number we could call."""


class CostlyPhone(BadPhone):
    """A real number, but one that costs the caller extra (premium rate, shared cost...)."""


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
    if phonenumbers.number_type(number) not in CALLABLE:
        raise CostlyPhone(typed)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable_phone(e164: str) -> str:
    """+393331234567 -> "+39 333 123 4567", for people to read back."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
