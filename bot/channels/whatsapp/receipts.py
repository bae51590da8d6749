"""What became of the outbox's WhatsApp messages: their ids once sent, then the statuses
WhatsApp notifies (sent, delivered, read, failed), which the outbox rows learn."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.channels.whatsapp.api import (
    MARKETING_CAP,
    MARKETING_STOPPED,
    PAIR_RATE,
    RATE_CODES,
    RE_ENGAGEMENT,
)
from bot.core.desk import Clock
from bot.delivery.outbox import FAILED, QUEUED, SKIPPED
from bot.storage.db import Database
from bot.storage.models import OutboxMessage, WhatsAppSent

log = logging.getLogger(__name__)
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
UserHook = Callable[[Session, int], None]  # (session, user id), in the row's transaction


class Receipts:
    """The WhatsApp message ids of each outbox row, and their statuses (on a thread)."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        # 131050, the user stopped marketing messages: the app's hooks unsubscribe them from
        # announcements and broadcasts (their own bookings' reminders and RSVPs stay).
        self.on_marketing_stopped: list[UserHook] = []

    def marketing_stopped(self, user_id: int | None) -> None:
        if user_id is None:
            return
        with self.database.transaction() as session:
            self._stop_marketing(session, user_id)

    def _stop_marketing(self, session: Session, user_id: int) -> None:
        log.info("whatsapp: user %s stopped marketing messages (131050)", user_id)
        for hook in self.on_marketing_stopped:
            hook(session, user_id)

    def record_sent(self, outbox_id: int, wamids: list[str], template: bool = False) -> None:
        """The ids WhatsApp gave the messages sent for an outbox row (one per part)."""
        now = self.clock()
        with self.database.transaction() as session:
            for wamid in wamids:
                sent = WhatsAppSent(
                    wamid=wamid, outbox_id=outbox_id, updated_at=now, template=template
                )
                session.merge(sent)

    def apply_status(self, status: dict[str, Any]) -> None:
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
                self._failed(session, session.get(OutboxMessage, sent.outbox_id), sent, status)

    def _failed(
        self,
        session: Session,
        row: OutboxMessage | None,
        sent: WhatsAppSent,
        status: dict[str, Any],
    ) -> None:
        error = (status.get("errors") or [{}])[0]
        code = int(error.get("code") or 0)
        sent.error = f"{code}: {error.get('title') or error.get('message') or ''}"
        if row is None:
            return
        row.last_error = sent.error
        if code in (RE_ENGAGEMENT, MARKETING_CAP):
            row.state = SKIPPED  # the window had closed, or Meta's cap: as if never sent
        elif code in RATE_CODES or code == PAIR_RATE:
            row.state, row.due_at = QUEUED, self.clock() + timedelta(minutes=1)
        else:
            row.state = FAILED
        if code == MARKETING_STOPPED and row.user_id is not None:
            self._stop_marketing(session, row.user_id)
