"""The signed log and its single writer, on SQLite and PostgreSQL alike (one shared suite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from core.errors import InvalidInput
from core.officers import OfficerRef
from core.regions import standard_units
from core.ticket.events import ComplaintAccepted
from core.ticket.state import TicketState, TicketStatus
from core.units import UnitLevel
from node.storage.database import Database
from node.storage.tables import tickets
from node.views.tickets import TicketProjection
from sync import schema
from sync.envelope import GENESIS_HASH, open_sealed
from sync.errors import StorageError
from sync.identity import NodeIdentity
from sync.log_store import EventLog
from sync.writer import LogBatch, LogWriter
from tests.helpers.registrations import COUNTY, register_job, registration


@pytest.fixture
def node(db_url: str) -> Iterator[tuple[Database, LogWriter, NodeIdentity]]:
    db = Database.open(db_url)
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    units = standard_units()
    writer = LogWriter(
        db.writer_engine, identity, lambda: 1_790_000_000_000, TicketProjection(units.get("620102"))
    )
    writer.start()
    try:
        yield db, writer, identity
    finally:
        writer.stop()
        db.close()


def test_own_events_form_one_signed_chain(node: tuple[Database, LogWriter, NodeIdentity]) -> None:
    db, writer, identity = node
    seqs = [writer.call(register_job(f"T{i}")) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    with db.read() as conn:
        rows = conn.execute(select(schema.events).order_by(schema.events.c.origin_seq)).all()
        head = EventLog(conn).head(identity.node_id)
    previous = GENESIS_HASH
    for row in rows:
        event = open_sealed(row.envelope, row.signature)
        assert event.prev_hash == previous
        assert event.signature_valid(identity.public.public_key)
        previous = event.hash
    assert head is not None and (head.seq, head.hash) == (5, previous)


def test_jobs_queued_together_commit_together_and_each_gets_its_result(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    db, writer, _ = node
    futures = [writer.submit(register_job(f"G{i}")) for i in range(50)]
    assert sorted(f.result(30) for f in futures) == list(range(1, 51))
    with db.read() as conn:
        assert len(conn.execute(select(tickets.c.ticket_id)).all()) == 50


def test_a_job_refused_by_the_domain_leaves_nothing_and_spares_its_group(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    db, writer, _ = node

    def half_written_then_refused(batch: LogBatch) -> None:
        batch.record("BAD", [registration("BAD")], COUNTY.ref(), state=TicketState("BAD"))
        raise InvalidInput("facts", "refused after writing")

    good = writer.submit(register_job("OK1"))
    bad = writer.submit(half_written_then_refused)
    also_good = writer.submit(register_job("OK2"))
    assert (good.result(30), also_good.result(30)) == (1, 2)
    with pytest.raises(InvalidInput):
        bad.result(30)
    with db.read() as conn:
        held = set(conn.execute(select(schema.events.c.ticket_id)).scalars())
    assert held == {"OK1", "OK2"}


def test_a_database_failure_is_a_storage_error_and_fails_only_its_job(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    _, writer, _ = node

    def breaks_a_constraint(batch: LogBatch) -> None:
        batch.conn.execute(insert(schema.node_state).values(name="hlc", value=1))
        batch.conn.execute(insert(schema.node_state).values(name="hlc", value=2))

    first = writer.submit(register_job("A"))
    broken = writer.submit(breaks_a_constraint)
    second = writer.submit(register_job("B"))
    with pytest.raises(StorageError) as caught:
        broken.result(30)
    assert caught.value.__cause__ is not None
    assert {first.result(30), second.result(30)} == {1, 2}


def test_a_read_from_an_unusable_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    db = Database.open(f"sqlite:///{path}")
    db.close()
    path.unlink()
    path.mkdir()  # the database file is now a folder: every connection fails
    with pytest.raises(StorageError) as caught, db.read() as conn:
        conn.execute(select(schema.events))
    assert caught.value.__cause__ is not None


def test_the_projection_is_updated_with_the_events_in_one_transaction(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    db, writer, _ = node
    writer.call(register_job("T1"))

    def accept(batch: LogBatch) -> TicketState:
        batch.record("T1", [ComplaintAccepted("受理")], COUNTY.ref())
        return batch.state_of("T1")

    state = writer.call(accept)
    assert state.status is TicketStatus.IN_HANDLING
    with db.read() as conn:
        row = conn.execute(select(tickets).where(tickets.c.ticket_id == "T1")).one()
    assert (row.status, row.version) == ("in_handling", 2)


def test_officer_ref_in_the_envelope_survives_the_round_trip(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    db, writer, _ = node
    writer.call(register_job("T1"))
    with db.read() as conn:
        (event,) = EventLog(conn).ticket_events("T1")
    assert event.officer == OfficerRef("620102-07", "李强", "620102", UnitLevel.COUNTY)
    assert event.recorded().event == registration("T1")
