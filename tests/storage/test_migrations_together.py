"""Processes of one hub starting together on a fresh PostgreSQL database migrate it once.

Several ``hotline serve`` processes of a hub may start at the same moment (docs/scaling.md);
each upgrades the schema at start. Without the advisory lock their ``CREATE TABLE``s wait on
one another (tried: the starts hang) or collide, and a process fails to start.
"""

from __future__ import annotations

import threading

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from node.storage.database import MIGRATIONS, migrate, normalize_url
from tests.helpers.databases import PostgresDatabases

STARTS = 3


@pytest.mark.postgres
def test_three_processes_starting_together_migrate_a_fresh_database_once(
    postgres: PostgresDatabases,
) -> None:
    url = postgres.new()
    failures: list[BaseException] = []
    gate = threading.Barrier(STARTS)

    def start() -> None:
        gate.wait()
        try:
            migrate(url)
        except BaseException as exc:  # every start's failure is reported, not the first only
            failures.append(exc)

    starts = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in starts), (
        "a start still waits (without the lock they block)"
    )
    assert failures == []
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert list(versions) == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
    finally:
        engine.dispose()
