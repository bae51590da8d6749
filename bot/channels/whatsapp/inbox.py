"""The inbox: verified notification items stored first, then handled by the channel's worker."""

from __future__ import annotations

from datetime import timedelta

from bot.channels.inbox import Inbox
from bot.storage.models import WhatsAppInbox

KEEP = timedelta(days=8)  # Meta re-delivers for up to 7 days: ids are kept that long
INBOX = Inbox(WhatsAppInbox, KEEP)
