"""The fake Telegram server, exercised by python-telegram-bot's real Bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import telegram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from tests.fake_telegram import (
    SECRET_TOKEN_HEADER,
    TINY_PNG,
    Button,
    FakeTelegram,
    KeyboardKey,
    RateLimit,
    parse_html,
    serve_asgi,
)


def make_bot(tg: FakeTelegram) -> telegram.Bot:
    return telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)


def keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=d)] for t, d in labels_and_data]
    )


async def test_get_me_identifies_the_bot_from_the_token() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        me = await bot.get_me()
        assert (me.id, me.is_bot, me.username) == (123456, True, "sportello_test_bot")
        assert tg.base_url.startswith("http://127.0.0.1:") and tg.base_url.endswith("/bot")
        assert [call.method for call in tg.calls] == ["getMe", "getMe"]  # initialize + ours


async def test_wrong_token_and_unknown_method() -> None:
    async with FakeTelegram() as tg:
        intruder = telegram.Bot("123456:WRONG", base_url=tg.base_url)
        with pytest.raises(InvalidToken):
            await intruder.get_me()
        async with make_bot(tg) as bot:
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendHologram", api_kwargs={"chat_id": 1})
        assert [(r.method, r.error_code) for r in tg.rejected] == [
            ("getMe", 401),
            ("sendHologram", 404),
        ]


async def test_html_message_is_seen_as_plain_text_with_entities() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna", language_code="it")
        html = '<b>Ciao</b> Anna &amp; <a href="https://smp.example/x">benvenuta</a> 😀 <i>qui</i>'
        sent = await bot.send_message(1001, html, parse_mode=ParseMode.HTML)

        msg = await anna.next_message()
        assert msg.kind == "message"
        assert msg.text == "Ciao Anna & benvenuta 😀 qui"
        assert msg.html == html
        assert sent.text == msg.text and sent.message_id == msg.message_id
        assert sent.from_user is not None and sent.from_user.username == "sportello_test_bot"
        assert [(e.type, e.offset, e.length) for e in sent.entities] == [
            ("bold", 0, 4),
            ("text_link", 12, 9),
            ("italic", 25, 3),  # the emoji counts as two UTF-16 code units
        ]
        assert sent.text_html == html  # PTB rebuilds the same HTML from the entities
        assert anna.last_message == msg
        tg.assert_no_rejections()


async def test_text_is_trimmed_and_must_not_be_empty() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        sent = await bot.send_message(1001, "  \n ciao \n")
        assert sent.text == "ciao"
        for empty in ("", "   \n", "<b> </b>"):
            with pytest.raises(BadRequest, match="Message text is empty"):
                await bot.send_message(1001, empty, parse_mode=ParseMode.HTML)


async def test_too_long_messages_and_captions_are_rejected() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        await bot.send_message(1001, "x" * 4096)
        await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(1001, "x" * 4097)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(1001, "😀" * 2049)  # 4098 UTF-16 code units
        with pytest.raises(BadRequest, match="Message caption is too long"):
            await bot.send_document(1001, b"data", filename="a.txt", caption="c" * 1025)
        assert [m.text[:3] for m in anna.chat.events] == ["xxx", "xxx"]
        assert [r.description for r in tg.rejected] == [
            "Bad Request: message is too long",
            "Bad Request: message is too long",
            "Bad Request: message caption is too long",
        ]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>ciao", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("riga<br>riga", 'Unsupported start tag "br" at byte offset 4'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("Tom & Jerry", "Character '&' at byte offset 4 must be escaped"),
    ],
)
async def test_bad_html_is_rejected_like_telegram(html: str, error: str) -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        with pytest.raises(BadRequest) as raised:
            await bot.send_message(1001, html, parse_mode=ParseMode.HTML)
        assert str(raised.value).startswith("Can't parse entities: ")
        description = tg.rejected[-1].description
        assert description.startswith("Bad Request: can't parse entities: ")
        assert error in description


def test_html_parser_matches_tdlib() -> None:
    assert parse_html("🏟 🏟&lt;<i>a</i   >") == (
        "🏟 🏟<a",
        [{"type": "italic", "offset": 6, "length": 1}],
    )
    assert parse_html('<pre><code class="language-python">x = 1</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"}
    ]
    assert parse_html("<tg-spoiler>s</tg-spoiler><blockquote expandable>q</blockquote>")[1] == [
        {"type": "spoiler", "offset": 0, "length": 1},
        {"type": "expandable_blockquote", "offset": 1, "length": 1},
    ]
    assert parse_html("<a href=smp.example>x</a>")[1][0]["url"] == "http://smp.example/"
    assert parse_html("Tom & Jerry &laquo;", strict=False) == ("Tom & Jerry &laquo;", [])
    with pytest.raises(ValueError, match="Unclosed start tag at byte offset 13"):
        parse_html("🏟 🏟&lt;<abacaba")


async def test_markdown_is_not_implemented() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
            await bot.send_message(1001, "*ciao*", parse_mode=ParseMode.MARKDOWN_V2)


async def test_edits_are_validated() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna")
        markup = keyboard(("Lingua", "lang"))
        sent = await bot.send_message(1001, "<b>Menu</b>", parse_mode="HTML", reply_markup=markup)
        with pytest.raises(BadRequest, match="Message is not modified: specified new message"):
            await bot.edit_message_text(
                "<b>Menu</b>", 1001, sent.message_id, parse_mode="HTML", reply_markup=markup
            )
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", 1001, 999)
        own = await anna.send("ciao")
        with pytest.raises(BadRequest, match="Message can't be edited"):
            await bot.edit_message_text("x", 1001, own)

        # Changing only the formatting is a modification; leaving out reply_markup removes
        # the keyboard, as on Telegram.
        edited = await bot.edit_message_text(
            "<i>Menu</i>", 1001, sent.message_id, parse_mode="HTML"
        )
        assert isinstance(edited, telegram.Message)
        assert edited.reply_markup is None and edited.edit_date is not None
        first, edit = await anna.next_message(), await anna.next_message()
        assert (first.kind, first.button_labels) == ("message", ["Lingua"])
        assert (edit.kind, edit.text, edit.buttons, edit.edited) == ("edit", "Menu", [], True)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(1001, sent.message_id)
        await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=markup)
        assert (await anna.next_message()).buttons == [[Button("Lingua", "lang")]]

        await bot.delete_message(1001, sent.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(1001, sent.message_id)
        assert anna.last_message is None
        assert "bot deleted #1" in anna.transcript


async def test_keyboards_are_validated() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(1001, "x", reply_markup=keyboard(("Troppo", "d" * 65)))
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(1001, "x", reply_markup=keyboard(("Troppo", "è" * 33)))
        await bot.send_message(1001, "x", reply_markup=keyboard(("Giusto", "d" * 64)))
        with pytest.raises(
            BadRequest, match=r"(?i)text buttons are unallowed in the inline keyboard"
        ):
            await bot.send_message(1001, "x", reply_markup=keyboard(("Vuoto", "")))
        with pytest.raises(BadRequest, match=r"(?i)button_text_invalid"):
            await bot.send_message(1001, "x", reply_markup=keyboard(("", "data")))
        # request_contact only exists on reply keyboards: in an inline one it is no action.
        forged = {"inline_keyboard": [[{"text": "Telefono", "request_contact": True}]]}
        answer = await raw_call(tg, "sendMessage", chat_id=1001, text="x", reply_markup=forged)
        assert answer["description"] == (
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard"
        )
        with pytest.raises(BadRequest, match=r"(?i)unsupported url protocol"):
            url_button = InlineKeyboardButton("Sito", url="ftp://smp.example")
            await bot.send_message(1001, "x", reply_markup=InlineKeyboardMarkup([[url_button]]))


async def test_reply_keyboard_with_contact_request() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna", phone_number="+39 333 1234567")
        contact_key = KeyboardButton("Condividi il numero", request_contact=True)
        markup = ReplyKeyboardMarkup([[contact_key], ["Annulla"]], one_time_keyboard=True)
        await bot.send_message(1001, "Mi lasci il numero?", reply_markup=markup)
        msg = await anna.next_message()
        assert msg.reply_keyboard == [
            [KeyboardKey("Condividi il numero", True)],
            [KeyboardKey("Annulla", False)],
        ]
        await anna.tap("Condividi il numero")
        (update,) = await bot.get_updates()
        assert update.message is not None and update.message.contact is not None
        assert update.message.contact.phone_number == "+39 333 1234567"
        assert update.message.contact.user_id == 1001
        assert anna.chat.reply_keyboard is None  # one_time_keyboard hides it

        await bot.send_message(1001, "Fatto", reply_markup=ReplyKeyboardRemove())
        assert (await anna.next_message()).remove_keyboard


async def test_get_updates_returns_real_updates() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna", language_code="it")
        await anna.send("/start promo")
        (update,) = await bot.get_updates()
        message = update.message
        assert message is not None and message.from_user is not None
        assert (message.text, message.chat.type, message.chat.id) == (
            "/start promo",
            "private",
            1001,
        )
        assert (message.from_user.first_name, message.from_user.language_code) == ("Anna", "it")
        assert message.from_user.is_bot is False
        assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]

        menu = await bot.send_message(1001, "Menu", reply_markup=keyboard(("Lingua", "lang:menu")))
        query_id = await anna.press("Lingua")
        (press,) = await bot.get_updates(offset=update.update_id + 1)
        assert press.update_id == update.update_id + 1
        query = press.callback_query
        assert query is not None and query.id == query_id
        assert (query.data, query.from_user.id) == ("lang:menu", 1001)
        assert query.message is not None and query.message.message_id == menu.message_id
        assert isinstance(query.message, telegram.Message)
        assert query.message.reply_markup is not None

        assert await query.answer("Scegli la lingua")
        with pytest.raises(BadRequest, match="Query is too old"):
            await query.answer()
        assert [(a.text, a.show_alert, a.data) for a in anna.answered_callbacks] == [
            ("Scegli la lingua", False, "lang:menu")
        ]
        with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
            await bot.answer_callback_query(await anna.press("Lingua"), text="x" * 201)


async def test_press_explains_what_is_visible() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna")
        await bot.send_message(1001, "Menu", reply_markup=keyboard(("Lingua", "l"), ("Aiuto", "h")))
        with pytest.raises(AssertionError, match=r"Visible buttons: #1: \[Lingua\] \[Aiuto\]"):
            await anna.press("Esci")


async def test_stale_and_forged_callbacks() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        sent = await bot.send_message(1001, "Menu", reply_markup=keyboard(("Lingua", "l")))
        await bot.delete_message(1001, sent.message_id)
        await anna.press_data("forged", message_id=sent.message_id)
        (update,) = await bot.get_updates()
        assert update.callback_query is not None
        assert update.callback_query.data == "forged"
        # PTB parses it as a Message dated 1970 (CallbackQuery.de_json always uses Message)
        assert update.callback_query.message is not None
        assert not update.callback_query.message.is_accessible


async def test_offset_confirms_and_redelivery() -> None:
    async with FakeTelegram(first_update_id=500) as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        await anna.send("uno")
        await anna.send("due")
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [500, 501]
        assert [u.update_id for u in await bot.get_updates(offset=501)] == [501]
        assert await bot.get_updates(offset=502) == ()
        assert tg.pending_updates == []

        await tg.redeliver(501)  # Telegram re-sends an update the bot did not confirm
        (again,) = await bot.get_updates(offset=502)
        assert again.update_id == 501 and again.message is not None
        assert again.message.text == "due"
        assert await bot.get_updates(offset=502) == ()


async def test_long_poll_returns_as_soon_as_an_update_arrives() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        assert not poll.done()
        await anna.send("ciao")
        (update,) = await asyncio.wait_for(poll, 2)
        assert update.message is not None and update.message.text == "ciao"
        assert time.monotonic() - started < 1.5

        started = time.monotonic()
        short = dt.timedelta(milliseconds=200)
        assert await bot.get_updates(offset=update.update_id + 1, timeout=short) == ()
        assert time.monotonic() - started >= 0.2


async def test_a_second_poller_terminates_the_first() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as first, make_bot(tg) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        assert await second.get_updates() == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await waiting


async def test_allowed_updates_filters_new_updates() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        await bot.send_message(1001, "Menu", reply_markup=keyboard(("Lingua", "l")))
        await bot.get_updates(allowed_updates=["callback_query"])
        await anna.send("ignored")
        await anna.press("Lingua")
        (update,) = await bot.get_updates()
        assert update.callback_query is not None
        assert len(tg.updates) == 2


async def eventually(condition: Callable[[], object], within: float = 2.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition still false after {within}s")


async def raw_call(tg: FakeTelegram, method: str, **params: Any) -> dict[str, Any]:
    """A Bot API call as JSON, bypassing PTB's types (to send what PTB would not)."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tg.base_url}{tg.token}/{method}", json=params)
    answer: dict[str, Any] = response.json()
    assert answer.get("error_code", 200) == response.status_code
    return answer


class WebhookReceiver:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = statuses or []
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        self.received.append((await request.json(), request.headers.get(SECRET_TOKEN_HEADER)))
        status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({}, status_code=status)


async def test_webhook_delivery_with_secret_token() -> None:
    receiver = WebhookReceiver()
    async with (
        serve_asgi(receiver.app) as receiver_url,
        FakeTelegram() as tg,
        make_bot(tg) as bot,
    ):
        anna = tg.user(1001, first_name="Anna")
        assert await bot.set_webhook(f"{receiver_url}/hook", secret_token="s3cret-Token_1")
        await anna.send("ciao")
        await eventually(lambda: tg.webhook_deliveries)
        ((body, secret),) = receiver.received
        assert secret == "s3cret-Token_1"
        update = telegram.Update.de_json(body, bot)
        assert update.message is not None and update.message.text == "ciao"
        assert [(d.update_id, d.status) for d in tg.webhook_deliveries] == [(1, 200)]

        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (f"{receiver_url}/hook", 0)
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()

        assert await bot.delete_webhook()
        await anna.send("di nuovo")
        (polled,) = await bot.get_updates()
        assert polled.message is not None and polled.message.text == "di nuovo"


async def test_webhook_failures_are_retried_and_reported() -> None:
    receiver = WebhookReceiver(statuses=[500, 502])
    async with (
        serve_asgi(receiver.app) as receiver_url,
        FakeTelegram(webhook_retry_delays=(0.01, 0.01, 0.01)) as tg,
        make_bot(tg) as bot,
    ):
        await bot.set_webhook(f"{receiver_url}/hook")
        await tg.user(1001).send("ciao")
        await eventually(lambda: len(tg.webhook_deliveries) == 3)
        assert [d.status for d in tg.webhook_deliveries] == [500, 502, 200]
        assert {body["update_id"] for body, _ in receiver.received} == {1}
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
        assert info.pending_update_count == 0


async def test_document_and_photo_round_trip() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        content = bytes(range(256)) * 10 + b"\r\n--boundary-like\r\n"
        sent = await bot.send_document(
            1001,
            content,
            filename="ricevuta 2024.pdf",
            caption="<b>Ricevuta</b>",
            parse_mode="HTML",
        )
        msg = await anna.next_message()
        assert msg.kind == "document" and msg.document is not None
        assert msg.document.content == content
        assert (msg.document.filename, msg.document.mime_type) == (
            "ricevuta 2024.pdf",
            "application/pdf",
        )
        assert msg.text == "Ricevuta" and msg.html == "<b>Ricevuta</b>"
        assert sent.document is not None and sent.document.file_name == "ricevuta 2024.pdf"
        assert sent.caption == "Ricevuta"
        assert [(e.type, e.offset, e.length) for e in sent.caption_entities] == [("bold", 0, 8)]
        file = await bot.get_file(sent.document.file_id)
        assert bytes(await file.download_as_bytearray()) == content

        photo = await bot.send_photo(1001, TINY_PNG, caption="foto")
        shown = await anna.next_message()
        assert shown.kind == "photo" and shown.photo is not None
        assert shown.photo.content == TINY_PNG and shown.text == "foto"
        assert (photo.photo[-1].width, photo.photo[-1].height) == (1, 1)
        with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
            await bot.send_photo(1001, b"not an image")
        answer = await raw_call(tg, "sendDocument", chat_id=1001)
        assert answer["description"] == "Bad Request: there is no document in the request"
        with pytest.raises(BadRequest, match="There is no text in the message to edit"):
            await bot.edit_message_text("x", 1001, sent.message_id)


async def test_users_send_media_that_ptb_parses() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna")
        await anna.send_sticker("🙂")
        await anna.send_photo(caption="scontrino")
        await anna.send_voice(4)
        await anna.send_location(45.0, 7.3)
        await anna.send_contact("+39 333 1234567", user_id=1001)
        await anna.send_document("modulo.pdf", b"%PDF-1.4")
        first = await anna.send("ciao")
        await anna.edit(first, "ciao!")
        updates = await bot.get_updates()
        messages = [u.effective_message for u in updates]
        assert all(m is not None for m in messages)
        sticker, photo, voice, location, contact, document, _, edited = messages
        assert sticker is not None and sticker.sticker is not None
        assert sticker.sticker.emoji == "🙂"
        assert photo is not None and photo.caption == "scontrino" and photo.photo
        assert voice is not None and voice.voice is not None
        assert voice.voice.to_dict()["duration"] == 4
        assert location is not None and location.location is not None
        assert location.location.latitude == 45.0
        assert contact is not None and contact.contact is not None
        assert contact.contact.phone_number == "+39 333 1234567"
        assert document is not None and document.document is not None
        assert updates[-1].edited_message is not None
        assert edited is not None and edited.text == "ciao!" and edited.edit_date is not None

        assert photo.photo is not None
        file = await bot.get_file(photo.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == TINY_PNG


async def test_group_messages_respect_privacy_mode() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        staff = tg.group(-100123, title="Staff SMP")
        marco = tg.user(42, first_name="Marco")
        await marco.send("buongiorno a tutti", chat=staff)
        await marco.send("/staff@sportello_test_bot", chat=staff)
        await marco.send("/staff@other_bot", chat=staff)
        (update,) = await bot.get_updates()
        message = update.message
        assert message is not None and message.from_user is not None
        assert (message.chat.type, message.chat.title) == ("supergroup", "Staff SMP")
        assert message.from_user.id == 42
        assert message.entities[0].length == len("/staff@sportello_test_bot")

        await bot.send_message(-100123, "Nuova richiesta da Anna")
        assert (await staff.next_message()).text == "Nuova richiesta da Anna"
        await marco.expect_silence(0.05)


async def test_blocked_user_and_users_who_never_started_the_bot() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        tg.block(1001)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(1001, "ciao")
        (update,) = await bot.get_updates()
        assert update.my_chat_member is not None
        assert update.my_chat_member.new_chat_member.status == "kicked"

        tg.user(2002, started=False)
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await bot.send_message(2002, "ciao")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(3003, "ciao")


# PTB itself reads RetryAfter.retry_after, which warns about its coming timedelta type.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_answers_retry_after() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        tg.user(2002)
        tg.rate_limit = RateLimit(per_chat=2, overall=3, window=60)
        await bot.send_message(1001, "uno")
        await bot.send_message(1001, "due")
        with pytest.raises(RetryAfter):
            await bot.send_message(1001, "tre")
        await bot.send_message(2002, "uno")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(2002, "due")
        assert "Retry in 60 seconds" in str(raised.value)
        assert tg.rejected[-1].description == "Too Many Requests: retry after 60"
        assert tg.rejected[-1].error_code == 429


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_the_telegram_limits_hold_over_a_sliding_second() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        for user_id in range(1, 5):
            tg.user(user_id)
        tg.rate_limit = RateLimit.telegram(overall=3)
        for user_id in range(1, 4):
            await bot.send_message(user_id, "annuncio")
        answer = await raw_call(tg, "sendMessage", chat_id=4, text="annuncio")
        assert answer == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        await asyncio.sleep(1.0)  # the window slides: the first three are out of it
        await bot.send_message(4, "annuncio")
        with pytest.raises(RetryAfter):
            await bot.send_message(4, "un altro, subito dopo")
        assert tg.peak_rate() == 3
        assert tg.peak_rate(chat_id=4) == 1


async def test_a_dropped_connection_is_a_network_error_with_or_without_the_message() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        tg.drop_next("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "perso per strada")
        await anna.expect_silence(0.05)
        tg.drop_next(after=True)
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "arrivato, ma la risposta no")
        assert (await anna.next_message()).text == "arrivato, ma la risposta no"
        await bot.send_message(1001, "di nuovo in linea")
        assert (await anna.next_message()).text == "di nuovo in linea"


async def test_slow_answers_wait_per_method_or_for_every_call() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        tg.slow(0.3, "sendMessage")
        started = time.monotonic()
        sending = asyncio.create_task(bot.send_message(1001, "piano"))
        await asyncio.sleep(0.1)
        assert tg.in_flight["sendmessage"] == 1
        await sending
        assert time.monotonic() - started >= 0.3
        assert tg.in_flight["sendmessage"] == 0
        started = time.monotonic()
        await bot.get_me()
        assert time.monotonic() - started < 0.3
        tg.slow(0.2)
        started = time.monotonic()
        await bot.get_me()
        assert time.monotonic() - started >= 0.2


async def test_injected_errors() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        tg.user(1001)
        tg.fail_next("sendMessage", 502, "Bad Gateway")
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(1001, "ciao")
        await bot.send_message(1001, "ciao")


async def test_chat_actions_and_commands() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001)
        assert await bot.send_chat_action(1001, "typing")
        assert anna.chat.actions == ["typing"]
        with pytest.raises(BadRequest, match="Wrong parameter action"):
            await bot.send_chat_action(1001, "dancing")

        commands = [telegram.BotCommand("start", "Inizia"), telegram.BotCommand("aiuto", "Aiuto")]
        assert await bot.set_my_commands(commands, language_code="it")
        assert await bot.get_my_commands(language_code="it") == tuple(commands)
        assert await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([telegram.BotCommand("Start", "x")])


async def test_next_message_timeout_shows_the_transcript() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        anna = tg.user(1001, first_name="Anna")
        await anna.send("ciao")
        with pytest.raises(BadRequest):
            await bot.send_message(1001, "<b>rotto", parse_mode="HTML")
        with pytest.raises(AssertionError) as raised:
            await anna.next_message(timeout=0.05)
        report = str(raised.value)
        assert "#1 Anna: ciao" in report
        assert "sendMessage -> 400 Bad Request: can't parse entities" in report
        await bot.send_message(1001, "eccomi")
        with pytest.raises(AssertionError, match="expected silence"):
            await anna.expect_silence(0.01)


async def test_forum_topics_take_messages_until_closed_and_go_when_deleted() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        forum = tg.group(-1001, "Staff", forum=True, bot_is_admin=True)
        ada = tg.user(42, "Ada")
        created = await bot.create_forum_topic(forum.id, "Anna · Telegram · IT")
        topic = created.message_thread_id
        assert (await bot.get_chat(forum.id)).is_forum
        sent = await bot.send_message(forum.id, "card", message_thread_id=topic)
        assert sent.message_thread_id == topic and sent.is_topic_message
        assert (await forum.next_message()).topic == topic
        await ada.send("hello", chat=forum, topic=topic)
        update = (await bot.get_updates())[-1]
        assert update.message is not None and update.message.message_thread_id == topic
        await bot.close_forum_topic(forum.id, topic)
        with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
            await bot.send_message(forum.id, "late", message_thread_id=topic)
        with pytest.raises(BadRequest, match=r"(?i)topic_not_modified"):
            await bot.close_forum_topic(forum.id, topic)
        await bot.delete_forum_topic(forum.id, topic)
        assert forum.topics == {} and forum.bot_messages == []
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(forum.id, "gone", message_thread_id=topic)


async def test_topics_need_a_forum_where_the_bot_is_admin() -> None:
    async with FakeTelegram() as tg, make_bot(tg) as bot:
        plain = tg.group(-1002, "Plain", bot_is_admin=True)
        with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
            await bot.create_forum_topic(plain.id, "x")
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(plain.id, "x", message_thread_id=5)
        tg.group(-1003, "Forum", forum=True)
        with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
            await bot.create_forum_topic(-1003, "x")
        with pytest.raises(ValueError, match="only supergroups"):
            tg.group(-5, "Small", forum=True)
