"""Catching up, in one process of a hub, with what another process changed in the database.

Several processes of one hub serve one PostgreSQL database (DESIGN rule 8, docs/scaling.md).
Most of what a process knows it reads from the database when it needs it; three things it holds
in memory, because every command reads them: the roster (officers and units), the province's
rule book and the trust store (certificates and revocation lists). When another process changes
one of them, triggers bump that kind's generation in ``shared_changes`` in the same transaction
(migration 0018). ``SharedChanges.catch_up`` runs at the start of each writer transaction, after
the node's head row is locked: writer transactions of all the processes are serialised by that
lock, so a transaction that sees a generation unchanged judges by state no other process has
changed since, and one that sees it moved reloads that state first. A revocation another
process took in is therefore in force for every event this process records after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy import Connection, select

from node.storage.tables import shared_changes

log = logging.getLogger(__name__)

ROSTER = "roster"
"""Officers and units (``node.desks.roster.Roster``)."""
RULES = "rules"
"""The province's rule book (``node.desks.province_rules.ProvinceRules``)."""
TRUST = "trust"
"""Certificates and revocation lists (``sync.trust.TrustStore``)."""


def generations(conn: Connection) -> dict[str, int]:
    """Each kind's generation as committed (absent before migration 0018: none)."""
    rows = conn.execute(select(shared_changes.c.name, shared_changes.c.generation))
    return {str(row.name): int(row.generation) for row in rows}


class SharedChanges:
    """Reloads what changed since this process last looked; one per process."""

    def __init__(self, reloads: Mapping[str, Callable[[Connection], object]]) -> None:
        self._reloads = dict(reloads)
        self._seen: dict[str, int] = {}
        """Generations this process's state was loaded at; empty until the first look, so
        the first look reloads everything (what start-up loaded may predate it)."""

    def catch_up(self, conn: Connection) -> list[str]:
        """Reload, in ``conn``'s transaction, each kind whose generation moved; their names."""
        now = generations(conn)
        first = not self._seen
        moved = [k for k in self._reloads if k not in self._seen or now.get(k) != self._seen[k]]
        for kind in moved:
            self._reloads[kind](conn)
        self._seen.update(now)
        if moved and not first:
            log.info("reloaded what changed in the database: %s", ", ".join(moved))
        return moved
