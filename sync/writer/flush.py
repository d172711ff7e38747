"""Writing a writer transaction: every buffered change in one statement per table.

At the end of a group the batch's buffers are written in a fixed order: new verdicts of
committed events a revocation stopped counting, the new events (numbered, ``event_row`` is the
one place an event's row is built), the chain heads and the hybrid clock, then the other
tables' rows (updates and deletes before inserts and upserts), then the views of every changed
ticket (``ProjectionHook``), and last the steps jobs asked to run after the views
(``LogBatch.on_flush``: e.g. a new rule book's obligations, derived from the views just
written). The transaction commits only after all of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, insert, select, update

from core.ticket.state import TicketState
from sync import schema
from sync.envelope import SealedEvent
from sync.log_store import HLC_STATE
from sync.statements import BulkRows, log_statements
from sync.writer.batch import LogBatch
from sync.writer.buffer import RowWrites


class ProjectionHook(Protocol):
    """Called once per transaction with the tickets it changed; returns their encoded views."""

    def __call__(
        self,
        conn: Connection,
        states: dict[str, TicketState],
        new_positions: dict[str, list[int]],
        committed: Mapping[str, TicketState],
        encoded: Mapping[str, bytes],
    ) -> dict[str, bytes]:
        """Update the views for ``states``; ``new_positions`` are the events just stored;
        ``committed`` holds, for some of the tickets, the state the views were last written
        from (``LogBatch.state_before``); ``encoded``, for some, their view already encoded
        (``LogBatch.encoded_views``)."""


EVENT_COLUMNS = (
    "event_id",
    "origin_node",
    "origin_unit",
    "origin_seq",
    "prev_hash",
    "hash",
    "ticket_id",
    "event_type",
    "hlc",
    "signer_key_id",
    "envelope",
    "signature",
    "received_from",
    "verdict",
)
"""The columns of an event's row besides its local position ``pos``."""


def event_row(e: SealedEvent, received_from: str = "", verdict: str = "") -> dict[str, Any]:
    """The ``events`` row of a sealed event (without ``pos``): the one place it is built."""
    return {
        "event_id": e.event_id,
        "origin_node": e.origin_node,
        "origin_unit": e.origin_unit,
        "origin_seq": e.origin_seq,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "ticket_id": e.ticket_id,
        "event_type": e.event_type,
        "hlc": e.hlc,
        "signer_key_id": e.signer_key_id,
        "envelope": e.envelope,
        "signature": e.signature,
        "received_from": received_from,
        "verdict": verdict[:300],
    }


_UPSERT_HEADS = BulkRows(
    schema.origin_heads, ("origin_node", "origin_unit", "seq", "hash"), on_conflict="update"
)
_UPSERT_STATE = BulkRows(schema.node_state, ("name", "value"), on_conflict="update")
_INSERT_EVENTS = BulkRows(schema.events, EVENT_COLUMNS, returning=("pos", "event_id"))
"""PostgreSQL: the sequence numbers the rows, in the order given."""
_NUMBERED_EVENTS = BulkRows(schema.events, ("pos", *EVENT_COLUMNS))
"""SQLite: the writer numbers the rows itself (it holds the database's write lock)."""
_REJUDGE = (
    update(schema.events)
    .where(schema.events.c.event_id == bindparam("judged_event"))
    .values(verdict=bindparam("judged_verdict"))
)


def flush(batch: LogBatch, project: ProjectionHook) -> None:
    """Write everything ``batch`` buffered, in its transaction (``LogWriter`` commits it)."""
    conn = batch.conn
    batch.read_committed()
    rejudged = batch.rejudged()
    if rejudged:
        conn.execute(
            _REJUDGE,
            [{"judged_event": e, "judged_verdict": v} for e, v in rejudged.items()],
        )
    positions = _write_events(conn, batch.buffered_events())
    heads = batch.changed_heads()
    if heads:
        _UPSERT_HEADS.run(
            conn,
            [
                {
                    "origin_node": h.origin_node,
                    "origin_unit": h.origin_unit,
                    "seq": h.seq,
                    "hash": h.hash,
                }
                for h in heads
            ],
        )
    clock = batch.clock_to_keep()
    if clock is not None:
        _UPSERT_STATE.run(conn, [{"name": HLC_STATE, "value": clock}])
    _write_rows(conn, batch.row_writes())
    changed, committed = batch.changed_states()
    if changed:
        encoded = batch.encoded_views(changed)
        batch.views.update(project(conn, changed, positions, committed, encoded))
    for step in batch.flush_steps():
        step()


def _write_events(
    conn: Connection, buffered: Sequence[tuple[SealedEvent, str, str]]
) -> dict[str, list[int]]:
    """Insert the batch's events; returns the local positions of counted ones, by ticket."""
    positions: dict[str, list[int]] = defaultdict(list)
    if not buffered:
        return positions
    rows = [event_row(e, peer, verdict) for e, peer, verdict in buffered]
    if conn.dialect.name == "sqlite":
        # One writer holds SQLite's write lock for the whole transaction (BEGIN IMMEDIATE), so
        # it can number the rows itself and insert them in one executemany; with RETURNING,
        # SQLite would take one statement per row.
        last = conn.execute(select(func.coalesce(func.max(schema.events.c.pos), 0)))
        first = int(last.scalar_one()) + 1
        for pos, row in enumerate(rows, start=first):
            row["pos"] = pos
        _NUMBERED_EVENTS.run(conn, rows)
        numbered = [(row["pos"], row["event_id"]) for row in rows]
    else:
        numbered = _INSERT_EVENTS.run(conn, rows)
    counted = {e.event_id: e.ticket_id for e, _, verdict in buffered if not verdict}
    for pos, event_id in numbered:
        ticket_id = counted.get(event_id)
        if ticket_id is not None:
            positions[ticket_id].append(pos)
    return positions


def _write_rows(conn: Connection, writes: RowWrites) -> None:
    for change in writes.updates:
        table = change.table
        conn.execute(
            update(table)
            .where(*(table.c[name] == value for name, value in change.where.items()))
            .values(**change.values)
        )
    for table, keys in writes.deletes.items():
        columns = list(table.primary_key.columns)
        statement = delete(table).where(and_(*(c == bindparam(f"key_{c.name}") for c in columns)))
        conn.execute(
            statement,
            [{f"key_{c.name}": v for c, v in zip(columns, key, strict=True)} for key in keys],
        )
    for table, rows in writes.inserts.items():
        bulk = _whole_rows(table, rows, "")
        if bulk is not None:
            bulk.run(conn, rows)
        else:
            conn.execute(_insert_statement(table), rows)
    sql = log_statements(conn.dialect.name)
    for table, upserted in writes.upserts.items():
        bulk = _whole_rows(table, upserted, "update")
        if bulk is not None:
            bulk.run(conn, upserted)
        else:
            conn.execute(sql.upsert(table), upserted)


_INSERTS: dict[Table, Any] = {}
_WHOLE_ROWS: dict[tuple[Table, str], BulkRows | None] = {}


def _whole_rows(
    table: Table, rows: Sequence[Mapping[str, Any]], on_conflict: str
) -> BulkRows | None:
    """The driver-level statement for ``rows`` of ``table`` (``BulkRows``), when it writes
    exactly what SQLAlchemy's would: every row carries every column (nothing left to a
    default, an upsert replaces the whole row) and every column is of a type the driver takes
    as is. None: write them through SQLAlchemy.

    Why: a backlog's registrations each bring a row or two more (a personal seal), and
    SQLAlchemy's per-row parameter processing was a tenth of the catch-up's main process
    (docs/benchmarks.md, issue 14).
    """
    key = (table, on_conflict)
    if key not in _WHOLE_ROWS:
        try:
            _WHOLE_ROWS[key] = BulkRows(table, table.columns.keys(), on_conflict=on_conflict)
        except TypeError:
            _WHOLE_ROWS[key] = None  # a column type BulkRows does not carry
    bulk = _WHOLE_ROWS[key]
    if bulk is None:
        return None
    names = set(bulk.columns)
    return bulk if all(row.keys() == names for row in rows) else None


def _insert_statement(table: Table) -> Any:
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = insert(table)
    return statement
