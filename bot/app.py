"""The one place that wires everything: settings, database, desk, scheduler, channels."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable
from typing import TextIO

import uvicorn

from bot import faq, i18n, language, onboarding, privacy, staff, survey
from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import ConsoleChannel
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.config import Settings
from bot.db import Database
from bot.desk import Clock, Desk, utc_clock
from bot.dispatcher import Dispatcher
from bot.keys import button_key
from bot.library import Library
from bot.messages import Answer
from bot.outbox import OutboxSender, Send
from bot.payload import Signer
from bot.questionnaire import Survey, load_survey
from bot.scheduler import Clock as Scheduler
from bot.scheduler import Housekeeping, install_jobs
from bot.turn import Feature
from bot.web import build_web_app, webhook_path

log = logging.getLogger(__name__)


def features(library: Library, questionnaire: Survey) -> tuple[Feature, ...]:
    """Every capability of the desk, in the order free text is offered to them."""
    faq_desk = faq.feature(library)
    core = (
        onboarding.FEATURE,
        language.FEATURE,
        privacy.FEATURE,
        faq_desk,
        survey.feature(questionnaire, side=faq_desk.text or (lambda _turn: None)),
    )
    return (*core, staff.feature(core))


class App:
    """Sportello, assembled; `serve` runs the configured channels, `chat` the terminal."""

    def __init__(self, settings: Settings, clock: Clock = utc_clock) -> None:
        self.settings = settings
        i18n.compile_all()
        self.library = Library()
        self.survey = load_survey()
        self.database = Database(settings.database_url)
        self.database.ensure_schema()
        signer = Signer(button_key(self.database, settings.secret_key))
        self.desk = Desk(
            settings, self.database, signer, features(self.library, self.survey), clock
        )
        self.dispatcher = Dispatcher(self.desk, self._kick_outbox)
        self.scheduler = Scheduler()
        self.outbox = OutboxSender(self.database, clock)
        self.housekeeping = Housekeeping(self.database, settings.retention_months, clock)
        install_jobs(self.scheduler, self.outbox, self.housekeeping)
        self.ready = asyncio.Event()  # set once the channels take updates

    async def _kick_outbox(self, _answer: Answer) -> None:
        asyncio.get_running_loop().create_task(self.outbox.drain())

    def _start_clock(self, senders: dict[str, Send]) -> None:
        self.outbox.serve(senders)
        recovered = self.outbox.recover()
        if recovered:
            log.warning(
                "outbox: %d messages were being sent at the last stop: uncertain", recovered
            )
        self.scheduler.start()

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Runs Telegram (polling or webhook) until SIGINT/SIGTERM or `stop`."""
        stop = stop or _stop_on_signals()
        webhook = bool(self.settings.webhook_url)
        telegram = TelegramChannel(self.settings, self.dispatcher, webhook=webhook)
        application = telegram.application
        async with application:
            await telegram.publish_commands()
            self._start_clock({"telegram": telegram.deliver})
            await application.start()
            try:
                if webhook:
                    await self._serve_webhook(telegram, stop)
                else:
                    assert application.updater is not None
                    await application.updater.start_polling(
                        allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
                    )
                    self.ready.set()
                    await stop.wait()
                    await application.updater.stop()
            finally:
                await self.scheduler.stop()
                await application.stop()
                self.dispatcher.executor.shutdown(wait=True)
        self.database.dispose()

    async def _serve_webhook(self, telegram: TelegramChannel, stop: asyncio.Event) -> None:
        url = str(self.settings.webhook_url)
        await telegram.application.bot.set_webhook(
            url,
            secret_token=self.settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        web = build_web_app(telegram, self.settings.webhook_secret, webhook_path(url))
        config = uvicorn.Config(web, host="0.0.0.0", port=self.settings.port, log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 (no start event)
            await asyncio.sleep(0.01)
        self.ready.set()
        stopping = asyncio.create_task(stop.wait())
        # uvicorn takes SIGINT/SIGTERM while it serves: either way ends both.
        await asyncio.wait((serving, stopping), return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await serving

    async def chat(self, user_id: str, lang: str, stdin: TextIO, stdout: TextIO) -> None:
        """The terminal chat, until end of input."""
        console = ConsoleChannel(self.dispatcher, user_id, lang, stdin, stdout)
        self._start_clock({CONSOLE: console.deliver})
        try:
            await console.run()
            await self.outbox.drain()
        finally:
            await self.scheduler.stop()
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
