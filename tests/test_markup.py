"""Light formatting: escaping, plain rendering and splitting as Telegram counts."""

from datetime import UTC, datetime

import pytest

from bot.values.i18n import format_date, format_day, format_short_day, format_time, use_locale
from bot.values.markup import bold, link, shorten, split, text, to_html, to_plain, utf16_length


def test_user_text_is_escaped_in_html() -> None:
    rich = bold("Anna <b>&</b>") + " scrive: " + text("<script>alert(1)</script>")
    assert to_html(rich) == (
        "<b>Anna &lt;b&gt;&amp;&lt;/b&gt;</b> scrive: &lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_links_render_for_each_channel() -> None:
    rich = link("sito", "https://example.org/?a=1&b=2")
    assert to_html(rich) == '<a href="https://example.org/?a=1&amp;b=2">sito</a>'
    assert to_plain(rich) == "sito (https://example.org/?a=1&b=2)"


@pytest.mark.parametrize(
    ("value", "units"),
    [("abc", 3), ("città", 5), ("😀", 2), ("👨‍👩‍👧", 8), ("\u202e", 1)],
)
def test_length_is_counted_in_utf16_units(value: str, units: int) -> None:
    assert utf16_length(value) == units


@pytest.mark.parametrize(
    "body",
    ["parola " * 2000, "😀" * 5000, "a" * 9000, ("riga\n" * 1500), "x\u202e" * 3000],
)
def test_split_keeps_every_piece_within_the_limit_and_loses_nothing(body: str) -> None:
    pieces = split(text(body), 4096)
    assert all(utf16_length(piece.plain) <= 4096 for piece in pieces)
    assert "".join(piece.plain for piece in pieces).replace(" ", "").replace("\n", "") == (
        body.replace(" ", "").replace("\n", "")
    )


def test_split_prefers_line_breaks() -> None:
    pieces = split(text("a" * 3000 + "\n" + "b" * 3000), 4096)
    assert [piece.plain.strip() for piece in pieces] == ["a" * 3000, "b" * 3000]


def test_blank_text_splits_into_nothing() -> None:
    assert split(text("   \n "), 4096) == []


@pytest.mark.parametrize(
    ("value", "limit", "shown"),
    [
        ("Modifier une réponse", 60, "Modifier une réponse"),
        ("Quel est votre rôle dans l'entreprise ou l'organisme ?", 30, "Quel est votre rôle dans…"),
        ("Rapporto: chiuso il 24 e il 31 dicembre", 32, "Rapporto: chiuso il 24 e il 31…"),
        ("Supercalifragilistichespiralidoso", 10, "Supercali…"),
    ],
)
def test_a_label_is_cut_at_a_word_boundary_with_an_ellipsis(
    value: str, limit: int, shown: str
) -> None:
    assert shorten(value, limit) == shown
    assert len(shorten(value, limit)) <= limit


@pytest.mark.parametrize(
    ("locale", "day", "date_", "short", "time_"),
    [
        ("it", "lunedì 23 novembre", "23 novembre 2026", "23 nov", "14:00"),
        ("en", "Monday 23 November", "23 November 2026", "23 Nov", "14:00"),
        ("fr", "lundi 23 novembre", "23 novembre 2026", "23 nov.", "14:00"),
    ],
)
def test_dates_read_one_way_in_each_language(
    locale: str, day: str, date_: str, short: str, time_: str
) -> None:
    moment = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 14:00 in Rome
    with use_locale(locale):
        assert format_day(moment) == day
        assert format_date(moment) == date_
        assert format_short_day(moment) == short
        assert format_time(moment) == time_
