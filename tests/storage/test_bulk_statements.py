"""The writer's statements for many rows at once, and what a writer transaction leaves behind.

``sync.statements.BulkRows``, ``BulkDelete`` and ``KeyedQuery`` run on the database driver,
past SQLAlchemy, with one statement text whatever the number of rows; on PostgreSQL from
``COPY_FROM`` rows on by binary ``COPY``. Each is checked on both backends, below and above
that size, and a failure must surface as SQLAlchemy's own error (which the writer turns into
``StorageError``). Then the batch: what it says was committed before it (``state_before``),
and that it is freed when done without waiting for the cyclic garbage collector.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.regions import standard_units
from core.ticket.state import TicketState
from core.units import UnitLevel
from node.storage.database import Database
from node.storage.tables import obligations, tickets
from node.views.tickets import TicketProjection
from sync import schema
from sync.errors import StorageError
from sync.identity import NodeIdentity
from sync.statements import COPY_FROM, BulkDelete, BulkRows, KeyedQuery
from sync.writer import LogBatch, LogWriter
from tests.helpers.registrations import COUNTY, register_job, registration

COLUMNS = [c.name for c in obligations.columns]
INSERT = BulkRows(obligations, COLUMNS)
UPSERT = BulkRows(obligations, COLUMNS, on_conflict="update")
KEEP = BulkRows(obligations, COLUMNS, on_conflict="nothing")
DELETE = BulkDelete(obligations, "ticket_id")
BY_TICKET = KeyedQuery(
    select(obligations.c.ticket_id, obligations.c.next_at_ms)
    .where(obligations.c.duty == "decide_acceptance")
    .order_by(obligations.c.ticket_id),
    obligations.c.ticket_id,
)


def row(n: int, next_at_ms: int = 5, unit: str = "620102") -> dict[str, object]:
    return {
        "ticket_id": f"T{n:04d}",
        "duty": "decide_acceptance",
        "unit_code": unit,
        "started_ms": 1,
        "due_ms": 2,
        "policy_version": "default-2026",
        "next_at_ms": next_at_ms,
        "escalate_at_ms": next_at_ms,
        "escalation_level": 0,
        "escalated_to": "",
        "provisional": "",
    }


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def writer(db: Database) -> Iterator[tuple[LogWriter, NodeIdentity]]:
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    log_writer = LogWriter(
        db.writer_engine,
        identity,
        lambda: 1_790_000_000_000,
        TicketProjection(standard_units().get("620102")),
    )
    log_writer.start()
    try:
        yield log_writer, identity
    finally:
        log_writer.stop()


def held(db: Database) -> list[tuple[object, ...]]:
    with db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(select(obligations)))


@pytest.mark.parametrize("count", [3, COPY_FROM + 5])
def test_rows_are_inserted_replaced_or_kept_as_asked(db: Database, count: int) -> None:
    with db.write() as conn:
        INSERT.run(conn, [row(n) for n in range(count)])
    assert held(db) == sorted(tuple(row(n).values()) for n in range(count))
    with db.write() as conn:
        UPSERT.run(conn, [row(n, next_at_ms=7) for n in range(1, count + 1)])
        KEEP.run(conn, [row(n, next_at_ms=9) for n in range(count + 2)])
    expected = [row(0)] + [row(n, 7) for n in range(1, count + 1)] + [row(count + 1, 9)]
    assert held(db) == sorted(tuple(r.values()) for r in expected)


@pytest.mark.parametrize("count", [3, COPY_FROM + 5])
def test_a_duplicate_key_fails_as_a_database_error(db: Database, count: int) -> None:
    rows = [row(n) for n in range(count)]
    with pytest.raises(StorageError) as caught, db.write() as conn:
        INSERT.run(conn, [*rows, rows[-1]])
    # SQLAlchemy's own error, as a statement run through it would raise: the unit of work
    # (here ``Database.write``, in the writer ``LogWriter._run_group``) maps it.
    assert isinstance(caught.value.__cause__, IntegrityError)
    assert held(db) == []  # nothing half-written


def test_a_value_too_long_for_its_column_fails_on_postgresql_as_row_by_row(
    db: Database,
) -> None:
    if db.backend != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    for count in (1, COPY_FROM):
        with pytest.raises(StorageError) as caught, db.write() as conn:
            INSERT.run(conn, [row(n, unit="6" * 13) for n in range(count)])
        assert isinstance(caught.value.__cause__, DBAPIError)
        assert "too long" in str(caught.value)


def test_many_keys_are_read_and_deleted_with_one_statement(db: Database) -> None:
    rows = [row(n) for n in range(COPY_FROM * 2)]
    with db.write() as conn:
        INSERT.run(conn, rows)
    wanted = [f"T{n:04d}" for n in range(0, COPY_FROM * 2, 3)] + ["nothing"]
    with db.read() as conn:
        assert BY_TICKET.all(conn, wanted) == [(t, 5) for t in sorted(wanted[:-1])]
        assert BY_TICKET.all(conn, []) == []
    with db.write() as conn:
        DELETE.run(conn, wanted)
    assert [r[0] for r in held(db)] == sorted(
        str(r["ticket_id"]) for r in rows if r["ticket_id"] not in wanted
    )


def test_a_large_transaction_numbers_its_events_in_the_order_written(
    db: Database, writer: tuple[LogWriter, NodeIdentity]
) -> None:
    log_writer, _ = writer
    count = COPY_FROM + 3  # events, tickets and signals all go in by COPY on PostgreSQL

    def register_many(batch: LogBatch) -> None:
        for n in range(count):
            ticket_id = f"R{n:04d}"
            batch.record(
                ticket_id, [registration(ticket_id)], COUNTY.ref(), state=TicketState(ticket_id)
            )

    log_writer.call(register_many)
    with db.read() as conn:
        chain = conn.execute(
            select(schema.events.c.origin_seq).order_by(schema.events.c.pos)
        ).scalars()
        assert list(chain) == list(range(1, count + 1))
        assert len(conn.execute(select(tickets.c.ticket_id)).all()) == count
        assert TicketProjection(standard_units().get("620102")).differences(conn) == []


def test_the_state_before_a_batch_is_what_was_committed_and_only_that(
    writer: tuple[LogWriter, NodeIdentity],
) -> None:
    log_writer, identity = writer
    log_writer.call(register_job("S1"))
    log_writer.call(register_job("S2"))

    def look(batch: LogBatch) -> tuple[object, ...]:
        committed = batch.state_of("S1")
        new = batch.record("S3", [registration("S3")], COUNTY.ref(), state=TicketState("S3"))
        return committed, batch.state_before("S1"), batch.state_before("S3"), new

    committed, before, fresh, _ = log_writer.call(look)
    assert before is committed and committed.version == 1  # type: ignore[union-attr]
    assert fresh is None  # nothing of S3 was committed before the batch

    def rejudged(batch: LogBatch) -> object:
        batch.discount_signer(identity.key_id, identity.node_id, 0, "revoked")
        batch.state_of("S2")
        return batch.state_before("S2")

    # Once the batch re-judges what was committed, it no longer knows what the views show.
    assert log_writer.call(rejudged) is None


def test_a_transaction_is_freed_as_soon_as_it_is_done(
    writer: tuple[LogWriter, NodeIdentity],
) -> None:
    log_writer, _ = writer
    seen: list[weakref.ref[LogBatch]] = []

    def job(batch: LogBatch) -> None:
        seen.append(weakref.ref(batch))
        batch.record("W1", [registration("W1")], COUNTY.ref(), state=TicketState("W1"))

    gc.collect()
    gc.disable()  # only reference counting from here: no cycle may keep the batch alive
    try:
        log_writer.call(job)
        assert seen[0]() is None
    finally:
        gc.enable()


def test_two_bulk_statements_of_one_table_can_share_a_transaction(db: Database) -> None:
    # On PostgreSQL both go through the same staging table, with different columns.
    some = [c for c in COLUMNS if c not in ("escalation_level", "escalated_to")]
    defaults = BulkRows(obligations, some, on_conflict="nothing")
    count = COPY_FROM + 1
    with db.write() as conn:
        UPSERT.run(conn, [row(n, next_at_ms=7) for n in range(count)])
        defaults.run(conn, [{c: row(n)[c] for c in some} for n in range(count * 2)])
        UPSERT.run(conn, [row(n, next_at_ms=8) for n in range(count)])
    assert held(db) == sorted(
        [tuple(row(n, 8).values()) for n in range(count)]
        + [tuple(row(n).values()) for n in range(count, count * 2)]
    )
