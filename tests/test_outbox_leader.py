"""Leadership: one instance runs the periodic jobs; another takes over when it goes away."""

from __future__ import annotations

import os

from sqlalchemy import text

from bot.delivery.leader import Leadership
from bot.storage.db import Database


def test_one_instance_leads_and_another_takes_over_when_its_connection_drops(
    database_url: str,
) -> None:
    first_db, second_db = Database(database_url), Database(database_url)
    first, second = Leadership(first_db), Leadership(second_db)
    try:
        if first_db.is_sqlite:  # one instance only, always the leader
            assert first.keep() and first.is_leader
            return
        assert first.keep() is True
        assert second.keep() is False
        with second_db.transaction() as session:
            assert second.live_senders(session) == {first.instance, second.instance}
            session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": f"sportello-{os.getpid()}-{first.instance}"},
            )
        assert first.keep() is False  # its lock went with the connection
        assert second.keep() is True
        with second_db.transaction() as session:
            assert second.live_senders(session) == {second.instance}
        assert first.keep() is False  # back, and the lock is taken: it follows
        with first_db.transaction() as session:
            assert first.live_senders(session) == {first.instance, second.instance}
    finally:
        first.close()
        second.close()
        first_db.dispose()
        second_db.dispose()
