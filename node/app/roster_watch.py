"""Keeping an idle process's roster current when another process of its hub changes it.

A process of a hub on PostgreSQL catches up with what its other processes changed at the start
of each writer transaction (``node.storage.shared_changes``). An officer's roles, though, are
also read when a call arrives, before any transaction: on a process that records nothing for a
while, a role taken away elsewhere would still be held. This job, run by the node's scheduler
every sweep interval, looks at the roster's generation outside the writer and reloads the
roster when it moved. Only the roster: it is swapped whole under its lock, while the rule book
and the trust store are read by writer jobs and change only inside the writer.
"""

from __future__ import annotations

from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.storage.database import Database
from node.storage.shared_changes import ROSTER, SharedChanges


class RosterWatch:
    """A scheduled job (``run_once``) that reloads the roster another process changed."""

    def __init__(self, db: Database, roster: Roster, blocking: BlockingPool) -> None:
        self._db = db
        self._blocking = blocking
        self._changes = SharedChanges({ROSTER: lambda _conn: roster.reload()})

    async def run_once(self) -> int:
        """Look once (on the blocking pool); records no event, so returns 0."""
        await self._blocking.run(self._look)
        return 0

    def _look(self) -> None:
        with self._db.read() as conn:
            self._changes.catch_up(conn)
