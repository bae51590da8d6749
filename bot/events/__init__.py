"""Seminars and announcements: subscriptions, RSVP, staff tools, the announcer."""
