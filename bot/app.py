"""The one place that wires everything: settings, database, desk, scheduler, channels."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TextIO

import uvicorn
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from telegram.error import InvalidToken, NetworkError

from bot.basics import language, onboarding, privacy, staff
from bot.booking import feature as booking
from bot.booking.agenda import MorningAgenda
from bot.booking.setup import BookingSetup, load_booking, staff_problems
from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import ConsoleChannel
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram_inbox import INBOX as TELEGRAM_INBOX
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.inbound import CHANNEL as WHATSAPP
from bot.config import ConfigError, Settings
from bot.core.desk import Clock, Desk, utc_clock
from bot.core.dispatcher import Dispatcher
from bot.core.turn import Feature
from bot.delivery import alerts, health, outbox, recovery
from bot.delivery.health import Checkup
from bot.delivery.leader import Leadership
from bot.delivery.reminders import Reminders
from bot.delivery.scheduler import Clock as Scheduler
from bot.delivery.scheduler import Housekeeping, install_jobs
from bot.delivery.sender import OutboxSender, Send
from bot.events import feature as events_feature
from bot.events import subscriptions
from bot.events.announcer import Announcer
from bot.events.config import EventsConfig, load_events_config
from bot.faq import desk as faq
from bot.faq.library import Library
from bot.handoff import feature as handoff_feature
from bot.handoff.config import HandoffConfig, load_handoff
from bot.handoff.desk import topics_deleted
from bot.ops.startup import patiently, patiently_async
from bot.paths import CHAT_FILES
from bot.storage.db import Database
from bot.storage.keys import button_key
from bot.survey import feature as survey
from bot.survey.questionnaire import Survey, load_survey
from bot.values import i18n
from bot.values.messages import Answer
from bot.values.payload import Signer
from bot.web import build_web_app, webhook_path

log = logging.getLogger(__name__)


def features(
    library: Library,
    questionnaire: Survey,
    booking_setup: BookingSetup,
    events_config: EventsConfig | None = None,
    handoff_config: HandoffConfig | None = None,
) -> tuple[Feature, ...]:
    """Every capability of the desk, in the order free text is offered to them."""
    faq_desk = faq.feature(library)
    core = (
        onboarding.FEATURE,
        language.FEATURE,
        privacy.FEATURE,
        handoff_feature.feature(handoff_config or load_handoff()),  # before the FAQ: its phrases
        faq_desk,
        survey.feature(questionnaire, side=faq_desk.text or (lambda _turn: None)),
        booking.feature(booking_setup),
        *events_feature.features(events_config or load_events_config()),
    )
    return (*core, staff.feature(core))


class App:
    """Sportello, assembled; `serve` runs the configured channels, `chat` the terminal."""

    def __init__(self, settings: Settings, clock: Clock = utc_clock) -> None:
        self.settings = settings
        i18n.compile_all()
        self.library = Library()
        self.survey = load_survey()
        self.booking = load_booking(settings.booking_file)
        for problem in staff_problems(self.booking, settings.staff_user_ids):
            log.warning("booking: %s", problem)
        if unreachable := alerts.nowhere_to_go(settings):
            log.warning(unreachable)
        self.events = load_events_config()
        self.handoff = load_handoff()
        self.database = Database(settings.database_url)
        patiently(
            "the database",
            self.database.ensure_schema,
            (OperationalError, InterfaceError),
            settings.startup_retry_seconds,
        )
        signer = Signer(button_key(self.database, settings.secret_key))
        self.leadership = Leadership(self.database)
        self.desk = Desk(
            settings,
            self.database,
            signer,
            features(self.library, self.survey, self.booking, self.events, self.handoff),
            clock,
            instance=self.leadership.instance,
        )
        self.dispatcher = Dispatcher(self.desk, self._kick_outbox)
        self.scheduler = Scheduler(lambda: self.leadership.is_leader)
        self.outbox = OutboxSender(self.database, clock, settings, self.leadership.instance)
        self.housekeeping = Housekeeping(
            self.database, settings.retention_months, clock, settings.default_locale
        )
        self.housekeeping.before_erase.append(partial(topics_deleted, settings))
        install_jobs(self.scheduler, self.outbox, self.housekeeping, self.leadership, self._recover)
        renderers = {kind: r for f in self.desk.features for kind, r in f.reminders.items()}
        self.reminders = Reminders(self.database, settings, signer, renderers, clock)
        self.agenda = MorningAgenda(self.database, settings, self.booking, clock)
        self.scheduler.every(20, self.reminders.run, "reminders")
        self.announcer = Announcer(self.database, settings, signer, self.events, clock)
        self.scheduler.every(10, self.announcer.run, "announcements")
        self.outbox.on_blocked.append(subscriptions.on_blocked)
        self.scheduler.every(300, self.agenda.run, "morning-agenda")
        self.checkup = Checkup(self.database, lambda: self.scheduler.last_tick)
        self.ready = asyncio.Event()  # set once the channels take updates
        self.web_port: int | None = None  # where /healthz listens (PORT=0: any free port)

    async def _kick_outbox(self, _answer: Answer) -> None:
        asyncio.get_running_loop().create_task(self.outbox.drain())

    def _start_clock(
        self, senders: dict[str, Send], whatsapp: WhatsAppChannel | None = None
    ) -> None:
        self.outbox.serve(senders)
        if whatsapp is not None:
            self.outbox.serve_rows(WHATSAPP, whatsapp.deliver, whatsapp.profile)
            whatsapp.start()
        self.leadership.keep()  # first: recovery must know this instance is alive
        self._take_back()
        self.scheduler.start()

    async def _recover(self) -> None:
        await asyncio.to_thread(self._take_back)

    def _take_back(self) -> None:
        """What instances that died had taken: outbox rows (those of unknown fate become
        `uncertain`, staff are told) and inbox items (handled again)."""
        live = self.leadership.live_senders
        recovery.recover(self.database, self.settings, live, self.desk.clock())
        with self.database.transaction() as session:
            alive = live(session)
            # WhatsApp's inbox takes back what a dead worker held by the age of its claim.
            if alive is not None and (released := TELEGRAM_INBOX.release(session, alive)):
                log.warning("inbox: %d items of a stopped instance taken again", released)

    async def _stop_clock(self) -> None:
        """Sends nothing more, waits for the jobs under way, lets go of the leadership."""
        self.outbox.close()
        await self.scheduler.stop()
        self.outbox.shutdown()
        self.leadership.close()

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Runs the configured channels (Telegram polling or webhook, WhatsApp's webhook)
        until SIGINT/SIGTERM or `stop`."""
        stop = stop or _stop_on_signals()
        whatsapp = self._whatsapp()
        try:
            if self.settings.telegram_bot_token:
                await self._serve_telegram(stop, whatsapp)
            elif whatsapp is not None:
                await self._serve_whatsapp(stop, whatsapp)
        finally:
            self.dispatcher.executor.shutdown(wait=True)
        self.database.dispose()

    def _whatsapp(self) -> WhatsAppChannel | None:
        if not self.settings.whatsapp_access_token:
            return None
        channel = WhatsAppChannel(self.settings, self.dispatcher, self.database, self.desk.clock)
        channel.on_marketing_stopped.append(subscriptions.on_marketing_stopped)
        return channel

    async def _serve_whatsapp(self, stop: asyncio.Event, whatsapp: WhatsAppChannel) -> None:
        self._start_clock({}, whatsapp)
        try:
            await self._serve_web(self._web_app(None, whatsapp), stop)
        finally:
            await self._stop_clock()
            await whatsapp.stop()

    async def _serve_telegram(self, stop: asyncio.Event, whatsapp: WhatsAppChannel | None) -> None:
        webhook = bool(self.settings.webhook_url)
        telegram = TelegramChannel(
            self.settings, self.dispatcher, self.database, self.desk.clock, self.leadership.instance
        )
        self.desk.durable |= {TELEGRAM}  # its channel sends and settles the recorded replies
        application = telegram.application
        try:
            await patiently_async(
                "the Telegram Bot API",
                application.initialize,
                (NetworkError,),
                self.settings.startup_retry_seconds,
            )
        except InvalidToken:
            raise ConfigError("TELEGRAM_BOT_TOKEN: refused by Telegram (revoked?)") from None
        async with application:
            await telegram.publish_commands()
            self._start_clock({TELEGRAM: telegram.deliver}, whatsapp)
            telegram.worker.start()
            try:
                if webhook:
                    await self._serve_webhook(telegram, stop, whatsapp)
                else:
                    await self._serve_polling(telegram, stop, whatsapp)
            finally:
                await self._stop_clock()
                await telegram.worker.stop()
                if whatsapp is not None:
                    await whatsapp.stop()

    async def _serve_polling(
        self, telegram: TelegramChannel, stop: asyncio.Event, whatsapp: WhatsAppChannel | None
    ) -> None:
        """getUpdates under Sportello's own loop (telegram_inbox.py), until `stop`."""
        polling = asyncio.create_task(telegram.poller.run(ALLOWED_UPDATES))
        try:
            await self._serve_web(self._web_app(None, whatsapp), stop)  # /healthz, /metrics
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)

    async def _serve_webhook(
        self, telegram: TelegramChannel, stop: asyncio.Event, whatsapp: WhatsAppChannel | None
    ) -> None:
        url = str(self.settings.webhook_url)
        await telegram.application.bot.set_webhook(
            url,
            secret_token=self.settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        path = webhook_path(url)
        await self._serve_web(self._web_app(telegram, whatsapp, path), stop)

    def _web_app(
        self, telegram: TelegramChannel | None, whatsapp: WhatsAppChannel | None, path: str = ""
    ) -> Starlette:
        secret = self.settings.webhook_secret if telegram else None
        probes = health.routes(self.checkup, self.settings.metrics_token)
        return build_web_app(telegram, secret, path, whatsapp, probes)

    async def _serve_web(self, web: Starlette, stop: asyncio.Event) -> None:
        """The webhooks (Telegram's, WhatsApp's, both), /healthz and /metrics on HOST:PORT,
        until `stop`."""
        config = uvicorn.Config(
            web,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            log_config=None,  # its lines go through ours (bot/ops/logs.py: JSON, redaction)
            access_log=False,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 (no start event)
            await asyncio.sleep(0.01)
        if server.started:
            self.web_port = server.servers[0].sockets[0].getsockname()[1]
        self.ready.set()
        stopping = asyncio.create_task(stop.wait())
        # uvicorn takes SIGINT/SIGTERM while it serves: either way ends both.
        await asyncio.wait((serving, stopping), return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await serving

    async def chat(
        self, user_id: str, lang: str, stdin: TextIO, stdout: TextIO, files: Path = CHAT_FILES
    ) -> None:
        """The terminal chat, until end of input; files it receives go to `files`."""
        console = ConsoleChannel(self.dispatcher, user_id, lang, stdin, stdout, files=files)
        with self.database.transaction() as session:  # what waited for this terminal goes now
            outbox.due_now(session, CONSOLE, user_id, self.desk.clock())
        self._start_clock({CONSOLE: console.deliver})
        try:
            await console.run()
            await self.outbox.drain()
        finally:
            await self._stop_clock()
            self.dispatcher.executor.shutdown(wait=True)
            self.database.dispose()


def _stop_on_signals(
    signals: Iterable[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
) -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    return stop
