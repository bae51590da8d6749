"""Staff alerts for errors: at most one a minute per kind of error."""

from __future__ import annotations

import traceback
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import outbox
from bot.storage.models import Alert
from bot.storage.sql_errors import quiet_message
from bot.values.markup import bold, code, join
from bot.values.messages import Address, Delivery, Inbound, Reply

QUIET = timedelta(minutes=1)


def error_kind(error: Exception) -> str:
    """The exception type and where it was raised: one kind per bug, not per user."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__}@{where}"[:128]


def staff_addresses(settings: Settings) -> list[Address]:
    """The staff group if there is one, otherwise each staff member privately."""
    if settings.staff_chat_id is not None:
        return [Address("telegram", str(settings.staff_chat_id))]
    return [Address("telegram", str(user_id)) for user_id in sorted(settings.staff_user_ids)]


def raise_alert(
    session: Session, settings: Settings, inbound: Inbound, error: Exception, now: datetime
) -> bool:
    """Queues an alert unless one of this kind went out in the last minute."""
    kind = error_kind(error)
    alert = session.get(Alert, kind)
    if alert is not None and now - alert.last_sent_at < QUIET:
        alert.suppressed += 1
        return False
    suppressed = alert.suppressed if alert else 0
    if alert is None:
        alert = Alert(kind=kind, last_sent_at=now, suppressed=0)
        session.add(alert)
    alert.last_sent_at, alert.suppressed = now, 0
    text = join(
        [
            bold("⚠️ Sportello: errore"),
            code(kind),
            f"{type(error).__name__}: {quiet_message(error)[:300]}",
            f"canale {inbound.channel}, {inbound.kind.value}, chat {inbound.chat_id}",
            f"(+{suppressed} simili non segnalati)" if suppressed else "",
        ]
    )
    minute = now.strftime("%Y%m%d%H%M")
    for address in staff_addresses(settings):
        key = f"alert:{kind}:{minute}:{address.chat_id}"
        outbox.enqueue(session, Delivery(address, Reply(text), key), now)
    return True
