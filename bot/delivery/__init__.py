"""The delivery engine: the outbox and its sender, the shared pace, leadership, recovery,
reminders and the periodic jobs."""
