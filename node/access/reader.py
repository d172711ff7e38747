"""Reading the access record for the audit administrator (查阅访问记录), a page at a time.

A read begins by appending its own row (``read-record``: who looked, from where, with which
filter), committed before any row is shown, so nobody reads the record unseen; that row is the
head the read goes up to, and its ``seq`` and digest are what the reader may keep as an anchor
(``hotline audit --anchor``). The rows are then read in pages filtered by the database
(``node.access.record.find``), each page in a read transaction of its own: the record is
append-only, and no row after the read's own is shown, so the pages form one consistent view.
Blocking: callers run these on the node's blocking pool.
"""

from __future__ import annotations

from sqlalchemy import Connection

from core.access.reading import AccessFilter
from core.access.record import AccessAction, AccessOutcome
from node.access import record
from node.access.record import StoredRow
from node.storage.database import Database
from sync.identity import NodeIdentity

PAGE_ROWS = 500
"""Rows per page of a read: about 150 KB on the wire, whatever the record's length."""


def record_the_read(
    conn: Connection,
    identity: NodeIdentity,
    *,
    at_ms: int,
    officer_id: str,
    peer: str,
    session_id: str,
    wanted: AccessFilter,
) -> tuple[int, bytes]:
    """Append the read's own row in ``conn``'s transaction; its ``seq`` and digest."""
    record.append(
        conn,
        identity,
        at_ms=at_ms,
        officer_id=officer_id,
        action=AccessAction.READ_RECORD,
        outcome=AccessOutcome.DONE,
        peer=peer,
        session_id=session_id,
        detail=wanted.describe(),
    )
    return record.head(conn)


def read_page(
    db: Database, wanted: AccessFilter, *, cursor: int, up_to: int, size: int = PAGE_ROWS
) -> list[StoredRow]:
    """The next page of matching rows after (or, newest first, before) ``cursor``."""
    with db.read() as conn:
        return record.find(conn, wanted, cursor=cursor, up_to=up_to, page=size)
