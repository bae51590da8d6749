"""Callback booking: settings, free times, the chat flow, staff cards, calendar files, CLI."""
