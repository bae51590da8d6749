"""The shared pause in the database: a 429, an outage (with staff told when it starts and
ends), and the check right before each call. Runs on the sender's threads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import halt, outbox
from bot.delivery.alerts import staff_addresses
from bot.delivery.halt import Halt
from bot.delivery.pace import Pace
from bot.storage.db import Database
from bot.values.i18n import _
from bot.values.markup import Rich, bold, join
from bot.values.messages import Delivery, Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    """Which claimed rows were marked `sending` (their calls may start), whether the one
    marked is an outage's probe, and until when the others must wait."""

    ids: frozenset[int]
    probe: bool
    paused_until: float


class Outages:
    """Reads and changes a channel's shared pause, each time in one transaction."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        instance: int,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.instance = instance

    def start(self, pace: Pace, ids: Sequence[int]) -> Started:
        """Marks the rows `sending` that may be called now (none while a pause holds)."""
        with self.database.transaction() as session:
            before = pace.halt(session)
            admission = halt.admit(before, time.time(), len(ids))
            if admission.halt != before:
                pace.store(session, admission.halt)
            marked = outbox.start(session, ids[: admission.count], self.instance)
            return Started(frozenset(marked), admission.probe, admission.halt.paused_until)

    def failed(self, pace: Pace, probe: bool, error: str) -> float:
        """A 5xx or no connection: every sender pauses; returns until when."""
        settings = self.settings
        with self.database.transaction() as session:
            before = pace.halt(session)
            after = halt.failed(
                before,
                time.time(),
                probe,
                settings.outage_pause_seconds,
                settings.outage_pause_most_seconds,
            )
            pace.store(session, after)
            if before.outage_since is None and after.outage_since is not None:
                log.warning("outbox: %s does not answer (%s): sending paused", pace.channel, error)
                self._alert(session, pace.channel, after, resumed=False)
            return after.paused_until

    def answered(self, pace: Pace, probe: bool) -> None:
        """The platform answered: if that was the probe, sending resumes (staff are told)."""
        if not probe:
            return
        with self.database.transaction() as session:
            before = pace.halt(session)
            after = halt.answered(before, time.time(), probe)
            if after != before:
                pace.store(session, after, resumed=True)
                log.warning("outbox: %s answers again: sending resumed", pace.channel)
                self._alert(session, pace.channel, before, resumed=True)

    def throttled(self, pace: Pace, until: float, probe: bool) -> None:
        """A 429: nobody calls before `until`."""
        with self.database.transaction() as session:
            before = pace.halt(session)
            after = halt.throttled(before, until, probe)
            pace.store(session, after)
            if before.outage_since is not None and after.outage_since is None:
                self._alert(session, pace.channel, before, resumed=True)

    def _alert(self, session: Session, channel: str, outage: Halt, resumed: bool) -> None:
        """One alert per staff address when an outage starts, one when it ends."""
        text = resumed_text(channel) if resumed else paused_text(channel)
        moment = f"{'resumed' if resumed else 'paused'}:{channel}:{outage.outage_since:.0f}"
        for address in staff_addresses(self.settings):
            key = f"outage:{moment}:{address.chat_id}"
            outbox.enqueue(session, Delivery(address, Reply(text), key, kind="alert"), self.clock())


def paused_text(channel: str) -> Rich:
    return join(
        [
            bold(_("⚠️ Sportello: {channel} non risponde").format(channel=channel)),
            _(
                "Ho sospeso gli invii e riprovo da solo a intervalli crescenti. "
                "Nessun messaggio in coda va perso: partiranno quando risponde di nuovo."
            ),
        ]
    )


def resumed_text(channel: str) -> Rich:
    return bold(
        _("✅ Sportello: {channel} risponde di nuovo, gli invii riprendono.").format(
            channel=channel
        )
    )
