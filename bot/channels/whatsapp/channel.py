"""WhatsApp (Cloud API): a thin channel. The webhook stores verified notifications in the inbox
and answers 200 at once; a worker turns each message into an inbound value for the core and
sends the answer; queued messages go through the outbox with WhatsApp's rules (24-hour window,
templates, rate limits); status notifications update the outbox rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.webhook_body import TooLarge, parse_json, read_body
from bot.channels.whatsapp import inbox
from bot.channels.whatsapp.api import (
    PAIR_RATE,
    RATE_CODES,
    RE_ENGAGEMENT,
    GraphClient,
    GraphError,
)
from bot.channels.whatsapp.content import WhatsAppContent, load_content
from bot.channels.whatsapp.inbound import CHANNEL, items, signature_ok, to_inbound
from bot.channels.whatsapp.render import Choice, Part, Wording, render, template_body
from bot.config import ConfigError, Settings
from bot.core.dispatcher import Dispatcher
from bot.delivery.outbox import (
    FAILED,
    QUEUED,
    SKIPPED,
    AnswerLost,
    Claimed,
    PermanentFailure,
    Skipped,
    Throttled,
)
from bot.delivery.sender import Profile
from bot.storage.db import Database
from bot.storage.models import OutboxMessage, User, WhatsAppContact, WhatsAppSent
from bot.values.i18n import N_, translate_in
from bot.values.markup import text as rich_text
from bot.values.messages import Answer, Outbound, Reply

log = logging.getLogger(__name__)
PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
WINDOW = timedelta(hours=24)  # free-form messages only this long after the user's last one
THROTTLE_PAUSE = 2.0  # seconds every sender waits after 130429
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
IN_FLIGHT = 64  # inbox items handled at once (each user's in order)
N_CHOOSE = N_("Scegli")
N_NUMBER_HINT = N_("Rispondi con il numero della tua scelta.")
P = ParamSpec("P")
R = TypeVar("R")
Clock = Callable[[], datetime]


class WhatsAppChannel:
    """Webhook, inbox worker and senders of the WhatsApp channel."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        database: Database,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.whatsapp_app_secret:
            raise ConfigError("WHATSAPP_APP_SECRET: required to verify WhatsApp notifications")
        self.settings = settings
        self.secret = settings.whatsapp_app_secret
        self.dispatcher = dispatcher
        self.database = database
        self.clock = clock
        self.content: WhatsAppContent = load_content(settings.whatsapp_file)
        self.api = GraphClient(settings, transport)
        self.profile = Profile(
            settings.whatsapp_outbox_rate, timedelta(seconds=settings.whatsapp_chat_gap)
        )
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._numbered: set[str] = set()  # users whose numbered choices are stored
        self._pruned_at = 0.0

    # Webhook ----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self.verify, methods=["GET"]),
            Route(PATH, self.receive, methods=["POST"]),
        ]

    async def verify(self, request: Request) -> Response:
        """Meta's verification handshake: echoes hub.challenge to the right verify token."""
        params = request.query_params
        token = self.settings.whatsapp_verify_token or ""
        given = params.get("hub.verify_token", "")
        if (
            params.get("hub.mode") == "subscribe"
            and token
            and hmac.compare_digest(given.encode(), token.encode())
        ):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(self, request: Request) -> Response:
        """A notification: verified, stored, answered 200; the worker handles it later.
        Its size is limited while it is read; it is parsed only once its signature holds."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            log.warning("whatsapp: a notification without a signature")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            raw = await read_body(request, self.settings.whatsapp_webhook_max_bytes)
        except TooLarge:
            log.warning("whatsapp: a notification over WHATSAPP_WEBHOOK_MAX_BYTES")
            return PlainTextResponse("too large", status_code=413)
        if not signature_ok(self.secret, raw, signature):
            log.warning("whatsapp: a notification with a wrong signature")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            found = items(parse_json(raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("whatsapp: a signed notification that cannot be read")
            return PlainTextResponse("bad request", status_code=400)
        if found:
            await self._db(self._store, found)
            self._wake.set()
        return Response(status_code=200)

    def _store(self, found: list[tuple[str, dict[str, Any]]]) -> None:
        with self.database.transaction() as session:
            inbox.store(session, found, self.clock())

    # Worker -----------------------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Takes nothing more from the inbox, lets the items under way finish."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if self._running:
            await asyncio.wait(self._running, timeout=10)
        await self.api.close()

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                batch = await self._next_batch()
            except Exception:  # the database is away: try again shortly, never stop
                log.exception("whatsapp: cannot read the inbox")
                batch = []
            for item_id, body in batch:
                self._chain(_who(body), self._handle(item_id, body))
            if not batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)

    async def _next_batch(self) -> list[tuple[int, dict[str, Any]]]:
        await self._db(self._prune_now_and_then)
        room = IN_FLIGHT - len(self._running)
        return await self._db(self._claim, room) if room > 0 else []

    def _claim(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        with self.database.transaction() as session:
            return inbox.claim(session, self.clock(), limit)

    def _chain(self, who: str, work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` after the same user's earlier items: each user's messages in order."""
        previous = self._tails.get(who)

        async def in_turn() -> None:
            if previous is not None:
                await asyncio.wait((previous,))
            await work

        task = asyncio.get_running_loop().create_task(in_turn())
        self._tails[who] = task
        self._running.add(task)
        task.add_done_callback(lambda done: self._forget(who, done))

    def _forget(self, who: str, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._tails.get(who) is task:
            del self._tails[who]

    async def _handle(self, item_id: int, body: dict[str, Any]) -> None:
        try:
            if "message" in body:
                await self._on_message(body["message"], str(body.get("name") or ""))
            elif "status" in body:
                await self._db(self._on_status, body["status"])
        except Exception:
            log.exception("whatsapp: inbox item %s failed", item_id)
        await self._db(self._done, item_id)

    def _done(self, item_id: int) -> None:
        with self.database.transaction() as session:
            inbox.done(session, item_id, self.clock())

    def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned_at < 3600:
            return
        self._pruned_at = time.monotonic()
        with self.database.transaction() as session:
            inbox.prune(session, self.clock())

    # Messages -------------------------------------------------------------------------

    async def _on_message(self, message: dict[str, Any], name: str) -> None:
        wa_id = str(message["from"])
        sent_at = datetime.fromtimestamp(int(message.get("timestamp") or 0), UTC)
        first, choices = await self._db(self._before_turn, wa_id, sent_at)
        inbound = to_inbound(message, name, first, choices)
        if inbound is None:
            return
        answer = await self.dispatcher.dispatch(inbound)
        locale = await self._db(self._after_turn, wa_id, sent_at)
        await self.render(wa_id, answer, locale)

    def _before_turn(self, wa_id: str, sent_at: datetime) -> tuple[bool, list[Choice]]:
        """Is this a new user? Their window opens now; the numbered choices they were offered."""
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            if user is None:
                return True, []
            contact = _open_window(session, user, sent_at)
            return False, [(str(label), str(payload)) for label, payload in contact.choices]

    def _after_turn(self, wa_id: str, sent_at: datetime) -> str:
        """The window of a user the turn created; returns the language to answer in."""
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            if user is None:  # erased in this very turn (/cancella)
                return self.settings.default_locale
            _open_window(session, user, sent_at)
            return user.locale

    # Outbound -------------------------------------------------------------------------

    async def render(self, wa_id: str, answer: Answer, locale: str) -> None:
        """Sends a turn's replies at once (replies never wait in the outbox)."""
        replies = answer.replies
        if not replies and answer.notice:
            replies = (Reply(rich_text(answer.notice)),)
        for message in replies:
            await self._send_now(wa_id, message, locale)

    async def _send_now(self, wa_id: str, message: Outbound, locale: str) -> None:
        rendered = render(message, self.wording(locale))
        for part in rendered.parts:
            for attempt in range(3):
                try:
                    await self._send_part(wa_id, part)
                    break
                except GraphError as error:
                    if error.code in RATE_CODES and attempt < 2:
                        await asyncio.sleep(1.0 + 2 * attempt)
                        continue
                    log.warning("whatsapp: a reply to %s was refused: %s", wa_id, error)
                    break
        await self._remember(wa_id, rendered.choices)

    async def _send_part(self, wa_id: str, part: Part) -> str:
        body = part.body
        if part.upload is not None:
            media_id = await self.api.upload(part.upload)
            kind = body["type"]
            body = {**body, kind: {**body[kind], "id": media_id}}
        return await self.api.send(wa_id, body)

    async def _remember(self, wa_id: str, choices: tuple[Choice, ...] | None) -> None:
        if choices is None or (not choices and wa_id not in self._numbered):
            return
        await self._db(self._store_choices, wa_id, choices)
        (self._numbered.add if choices else self._numbered.discard)(wa_id)

    def _store_choices(self, wa_id: str, choices: Sequence[Choice]) -> None:
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            contact = session.get(WhatsAppContact, user.id) if user else None
            if contact is not None:
                contact.choices = [list(choice) for choice in choices]

    def wording(self, locale: str) -> Wording:
        return Wording(
            translate_in(locale, N_CHOOSE),
            translate_in(locale, N_NUMBER_HINT),
            self.content.short_labels,
        )

    # The outbox ---------------------------------------------------------------------

    async def deliver(self, claimed: Claimed) -> None:
        """A queued message: free-form inside the 24-hour window, else its kind's template."""
        locale, opened = await self._db(self._window_of, claimed.chat_id)
        if opened is not None and self.clock() - opened < WINDOW:
            rendered = render(claimed.message, self.wording(locale))
            parts, choices = rendered.parts, rendered.choices
        else:
            template = self.content.template(claimed.kind, locale)
            if template is None:
                raise Skipped(f"outside the 24-hour window, no template for {claimed.kind}")
            parts, choices = (Part(template_body(template, claimed.message)),), None
        wamids = []
        try:
            for part in parts:
                wamids.append(await self._send_part(claimed.chat_id, part))
        except GraphError as error:
            raise outbox_error(error, self.profile) from error
        except (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError) as error:
            raise AnswerLost(repr(error)) from error
        finally:
            if wamids:
                await self._db(self._record, claimed.id, wamids)
        await self._remember(claimed.chat_id, choices)

    def _window_of(self, wa_id: str) -> tuple[str, datetime | None]:
        with self.database.transaction() as session:
            user = _user(session, wa_id)
            if user is None:
                return self.settings.default_locale, None
            contact = session.get(WhatsAppContact, user.id)
            return user.locale, contact.last_inbound_at if contact else None

    def _record(self, outbox_id: int, wamids: list[str]) -> None:
        now = self.clock()
        with self.database.transaction() as session:
            for wamid in wamids:
                session.merge(WhatsAppSent(wamid=wamid, outbox_id=outbox_id, updated_at=now))

    def _on_status(self, status: dict[str, Any]) -> None:
        """sent, delivered, read, failed: the outbox row learns what became of it."""
        state = str(status.get("status"))
        with self.database.transaction() as session:
            sent = session.get(WhatsAppSent, str(status.get("id")))
            if sent is None:  # a reply in a conversation: not an outbox row
                if state == "failed":
                    log.warning("whatsapp: a reply failed: %s", status.get("errors"))
                return
            if STATUS_RANK.get(state, 0) <= STATUS_RANK.get(sent.status, 0):
                return  # statuses may arrive out of order
            sent.status, sent.updated_at = state, self.clock()
            if state == "failed":
                self._failed(session.get(OutboxMessage, sent.outbox_id), sent, status)

    def _failed(
        self, row: OutboxMessage | None, sent: WhatsAppSent, status: dict[str, Any]
    ) -> None:
        error = (status.get("errors") or [{}])[0]
        code = int(error.get("code") or 0)
        sent.error = f"{code}: {error.get('title') or error.get('message') or ''}"
        if row is None:
            return
        row.last_error = sent.error
        if code == RE_ENGAGEMENT:
            row.state = SKIPPED  # the window had closed: as if never sent
        elif code in RATE_CODES or code == PAIR_RATE:
            row.state, row.due_at = QUEUED, self.clock() + timedelta(minutes=1)
        else:
            row.state = FAILED

    async def _db(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(work, *args, **kwargs)


def outbox_error(error: GraphError, profile: Profile) -> Exception:
    """A Graph API refusal in the outbox's terms."""
    if error.code == RE_ENGAGEMENT:
        return Skipped(str(error))
    if error.code == PAIR_RATE:
        return Throttled(max(profile.chat_gap.total_seconds(), 1.0), chat_only=True)
    if error.code in RATE_CODES:
        return Throttled(THROTTLE_PAUSE)
    if 400 <= error.status < 500 and error.status != 429:
        return PermanentFailure(str(error))
    return error  # 5xx: tried again later


def _user(session: Session, wa_id: str) -> User | None:
    query = select(User).where(User.channel == CHANNEL, User.external_id == wa_id)
    return session.scalars(query).one_or_none()


def _open_window(session: Session, user: User, sent_at: datetime) -> WhatsAppContact:
    contact = session.get(WhatsAppContact, user.id)
    if contact is None:
        contact = WhatsAppContact(user_id=user.id, last_inbound_at=sent_at, choices=[])
        session.add(contact)
    elif contact.last_inbound_at < sent_at:
        contact.last_inbound_at = sent_at
    return contact


def _who(body: dict[str, Any]) -> str:
    """Whose item: the sender of a message, the recipient of a status."""
    item = body.get("message") or body.get("status") or {}
    return str(item.get("from") or item.get("recipient_id") or "")
