"""A node's log writer alone, on a fresh database: for tests that drive the writer directly.

Why: tests of what the writer does with received events need its transaction, folds and
projection, but no node, no network and no trust hierarchy around it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.regions import standard_units
from core.units import level_of
from node.storage.database import Database
from node.views.tickets import TicketProjection
from sync.identity import NodeIdentity
from sync.writer import LogWriter

WRITER_CLOCK_MS = 1_790_000_000_000
"""The writer's fixed wall clock (2026-09-21, China time)."""


@contextmanager
def running_writer(db_url: str, unit: str) -> Iterator[tuple[Database, LogWriter]]:
    """The database at ``db_url`` and a started writer of a fresh node of ``unit``; stopped
    and closed on the way out."""
    db = Database.open(db_url)
    identity = NodeIdentity.generate(unit, level_of(unit))
    projection = TicketProjection(standard_units().get(unit))
    writer = LogWriter(db.writer_engine, identity, lambda: WRITER_CLOCK_MS, projection)
    writer.start()
    try:
        yield db, writer
    finally:
        writer.stop()
        db.close()
