"""Button data is packed small, signed, and refused when forged."""

import pytest

from bot.values.payload import BadPayload, Pressed, Signer

signer = Signer(b"k" * 32)


def test_round_trip() -> None:
    assert signer.unpack(signer.pack("lang", "fr")) == Pressed("lang", ("fr",))


@pytest.mark.parametrize(
    "data",
    ["", "lang:fr", "lang:fr~AAAAAAAA", "~", "x" * 64, Signer(b"other").pack("lang", "fr")],
)
def test_forged_or_foreign_data_is_refused(data: str) -> None:
    with pytest.raises(BadPayload):
        signer.unpack(data)


@pytest.mark.parametrize("tail", ["é", "ü" * 8, "\x00", "日本語", "\U0001f600"])
def test_non_ascii_after_the_separator_is_a_stale_button(tail: str) -> None:
    with pytest.raises(BadPayload):
        signer.unpack(f"lang:fr~{tail}")
    with pytest.raises(BadPayload):
        signer.unpack(signer.pack("lang", "fr") + tail)


def test_tampered_argument_is_refused() -> None:
    _body, signature = signer.pack("lang", "fr").split("~")
    with pytest.raises(BadPayload):
        signer.unpack(f"lang:it~{signature}")


def test_payload_never_exceeds_64_bytes() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        signer.pack("action", "x" * 60)


def test_separators_in_arguments_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        signer.pack("consent", "yes:menu")
