"""Where a node stands in handing signed records up to its parent, and taking them down.

Officer account records (``node.desks.officer_accounts``) and the ODR roster's records
(``node.enrolment.roster``) travel the same way at every replication round: the child sends up,
a page at a time, the records signed in its subtree that its parent has not taken, and takes
down the parent's records from where it stopped. Each kind keeps its records in a table with
``pos`` (the order they were kept here), ``signed`` (the record as signed), ``digest`` (its
SHA-256), ``received_from``
(the node it came from) and ``issuer_unit``, and its positions per peer in a cursor table
(``peer``, ``position``): ``up:<parent>`` is what the parent has taken, ``down:<parent>`` how
far this node has taken the parent's. This module is that bookkeeping, once.

The positions hold only if the records a reader sees are always a prefix of ``pos``: a record
committed later with a lower ``pos`` than one already sent would be passed over for good. On
SQLite one writer at a time makes it so. On PostgreSQL two transactions may insert at once and
commit out of order, and each statement of a read sees the commits made before it: so every
insert first takes a lock of its kind held to its commit (``before_insert``), and a reader takes
the end of the records before the records themselves (``unsent``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, insert, select, text, update


@dataclass(frozen=True)
class RecordExchange:
    """The positions of one kind of signed record exchanged with the parent."""

    records: Table
    cursors: Table
    page: int
    """Records at most in one page sent up."""

    def position(self, conn: Connection, peer: str) -> int:
        """The position kept for ``peer`` (0: none yet)."""
        row = conn.execute(
            select(self.cursors.c.position).where(self.cursors.c.peer == peer)
        ).first()
        return int(row.position) if row else 0

    def set_position(self, conn: Connection, peer: str, position: int) -> None:
        """Keep ``position`` for ``peer``."""
        done = conn.execute(
            update(self.cursors).where(self.cursors.c.peer == peer).values(position=position)
        )
        if not done.rowcount:
            conn.execute(insert(self.cursors).values(peer=peer, position=position))

    def held(self, conn: Connection, digests: Sequence[bytes]) -> set[bytes]:
        """Which of ``digests`` (SHA-256 of records as signed) this node already keeps: a
        record received again is a duplicate, whoever sent it."""
        if not digests:
            return set()
        table = self.records.c
        rows = conn.execute(select(table.digest).where(table.digest.in_(list(digests))))
        return {bytes(digest) for digest in rows.scalars()}

    def before_insert(self, conn: Connection) -> None:
        """Called in a transaction before it inserts a record: on PostgreSQL, wait for the
        transactions inserting this kind to commit, so that ``pos`` follows commit order."""
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(self.records.name.encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def unsent(
        self, conn: Connection, parent_node: str, prefix: str
    ) -> tuple[list[bytes], int, bool]:
        """The next page of records signed in the subtree ``prefix`` that ``parent_node`` has
        not taken (not those it sent here): the records as signed, the position to note once it
        has (0: nothing new to note), and whether more wait."""
        table = self.records.c
        after = self.position(conn, f"up:{parent_node}")
        # The end first: records committed after it lie beyond it, and wait for the next page.
        end = int(conn.execute(select(func.coalesce(func.max(table.pos), 0))).scalar_one())
        rows = conn.execute(
            select(table.pos, table.signed)
            .where(
                table.pos > after,
                table.pos <= end,
                table.received_from != parent_node,
                table.issuer_unit.startswith(prefix, autoescape=True),
            )
            .order_by(table.pos)
            .limit(self.page)
        ).all()
        more = len(rows) == self.page
        upto = int(rows[-1].pos) if more else int(end)
        return [bytes(row.signed) for row in rows], (upto if upto > after else 0), more
