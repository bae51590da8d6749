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


def nowhere_to_go(settings: Settings) -> str | None:
    """One line for the log when staff notices could reach no one on the channels served."""
    telegram = settings.telegram_bot_token is not None
    whatsapp = settings.whatsapp_access_token is not None
    on_telegram = telegram and (settings.staff_chat_id is not None or settings.staff_user_ids)
    on_whatsapp = whatsapp and settings.staff_whatsapp_ids
    if on_telegram or on_whatsapp or not (telegram or whatsapp):
        return None
    return (
        "staff: alerts, booking cards and delivery reports have nowhere to go: set "
        + ("STAFF_CHAT_ID or STAFF_USER_IDS (Telegram)" if telegram else "")
        + (" or " if telegram and whatsapp else "")
        + ("STAFF_WHATSAPP_IDS (WhatsApp)" if whatsapp else "")
    )


def staff_addresses(settings: Settings) -> list[Address]:
    """The staff group if there is one, otherwise each staff member privately; and each
    staff member on WhatsApp (which has no groups for bots)."""
    on_whatsapp = [Address("whatsapp", i) for i in sorted(settings.staff_whatsapp_ids)]
    if settings.staff_chat_id is not None:
        return [Address("telegram", str(settings.staff_chat_id)), *on_whatsapp]
    on_telegram = [Address("telegram", str(user_id)) for user_id in sorted(settings.staff_user_ids)]
    return [*on_telegram, *on_whatsapp]


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
