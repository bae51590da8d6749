"""Quiet hours: which outbox rows wait for the morning (the hours themselves are a setting)."""

# Kinds of outbox rows that wait for the morning; reminders, replies and alerts never do.
WAITING_KINDS = ("announcement", "broadcast")
