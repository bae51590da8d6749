"""After a crash: messages whose fate is unknown become `uncertain`, and staff are told."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import outbox, replies
from bot.delivery.alerts import staff_addresses
from bot.storage.db import Database
from bot.values.i18n import _
from bot.values.markup import Rich, bold, code, join
from bot.values.messages import Delivery, Reply

log = logging.getLogger(__name__)
LISTED = 5  # keys shown in the alert; the count says how many more

LiveSenders = Callable[[Session], Collection[int] | None]


def recover(database: Database, settings: Settings, live: LiveSenders, now: datetime) -> list[str]:
    """Takes back the rows of dead senders (see `outbox.mark_uncertain`), queues one alert to
    staff about those of unknown fate, drops the replies no longer fresh."""
    with database.transaction() as session:
        stale = replies.drop_stale(session, now - timedelta(seconds=settings.reply_fresh_seconds))
        if stale:
            log.warning("outbox: %d replies not sent while fresh, dropped: %s", len(stale), stale)
        alive = live(session)
        if alive is None:  # which senders are alive is unknown: touch nothing
            return []
        keys = outbox.mark_uncertain(session, alive)
        if keys:
            log.warning("outbox: %d messages of unknown fate, not resent: %s", len(keys), keys)
            for delivery in uncertain_alerts(settings, keys):
                outbox.enqueue(session, delivery, now)
        return keys


def uncertain_alerts(settings: Settings, keys: list[str]) -> list[Delivery]:
    """One alert per staff address, keyed by the rows so it is queued once."""
    text = uncertain_text(keys)
    key = f"uncertain:{len(keys)}:{keys[0]}"[:150]
    return [
        Delivery(address, Reply(text), f"{key}:{address.chat_id}", kind="alert")
        for address in staff_addresses(settings)
    ]


def uncertain_text(keys: list[str]) -> Rich:
    parts: list[Rich | str] = [
        bold(_("⚠️ Sportello: {count} messaggi dall'esito incerto").format(count=len(keys))),
        _(
            "Si è fermato mentre li inviava: Telegram può averli consegnati o no. "
            "Non li rimando, per non mandarli due volte."
        ),
        join([code(key) for key in keys[:LISTED]]),
    ]
    if len(keys) > LISTED:
        parts.append(_("(e altri {count})").format(count=len(keys) - LISTED))
    return join(parts)
