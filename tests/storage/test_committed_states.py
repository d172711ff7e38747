"""The writer's kept states of committed tickets: used only while they are exactly what is
committed, and kept only once committed (``sync.writer.committed``), on SQLite and PostgreSQL.

A ticket the writer folded is not read back and folded again by the next transaction while
the ids of its counted events are still those it folded; an event another process of the hub
appended, or a revocation that stopped one counting, is folded in. A job undone or a
transaction that failed leaves nothing of its own states behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from core.regions import standard_units
from core.ticket.events import ComplaintAccepted
from core.ticket.fold import fold
from core.ticket.state import TicketState
from core.units import UnitLevel
from node.storage.database import Database
from node.views.tickets import TicketProjection
from sync import schema
from sync.errors import StorageError
from sync.identity import NodeIdentity
from sync.log_store import EventLog
from sync.writer import LogBatch, LogWriter
from sync.writer.committed import CommittedStates
from tests.helpers.registrations import COUNTY, register_job

CLOCK_MS = 1_790_000_000_000
T = TypeVar("T")


def start_writer(db: Database, identity: NodeIdentity, kept_states: int = 1000) -> LogWriter:
    """A started writer of ``identity``'s node on ``db`` (another process of the same hub
    when ``identity`` is shared)."""
    projection = TicketProjection(standard_units().get(identity.unit_code))
    writer = LogWriter(
        db.writer_engine, identity, lambda: CLOCK_MS, projection, kept_states=kept_states
    )
    writer.start()
    return writer


@pytest.fixture
def node(db_url: str) -> Iterator[tuple[Database, LogWriter, NodeIdentity]]:
    db = Database.open(db_url)
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    writer = start_writer(db, identity)
    try:
        yield db, writer, identity
    finally:
        writer.stop()
        db.close()


def note(ticket_id: str, text: str) -> Callable[[LogBatch], TicketState]:
    """A job recording one more step on ``ticket_id``; it answers the state after it."""

    def job(batch: LogBatch) -> TicketState:
        batch.record(ticket_id, [ComplaintAccepted(text)], COUNTY.ref())
        return batch.state_of(ticket_id)

    return job


def states_and_folds(
    ticket_ids: Sequence[str],
) -> Callable[[LogBatch], list[tuple[TicketState, TicketState]]]:
    """A job answering, for each ticket, its state as the batch gives it and a fresh fold of
    its counted events read from the log in the same transaction."""

    def job(batch: LogBatch) -> list[tuple[TicketState, TicketState]]:
        log = EventLog(batch.conn)
        return [
            (batch.state_of(t), fold(t, [e.recorded() for e in log.ticket_events(t)]))
            for t in ticket_ids
        ]

    return job


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Sequence[str]]:
    """The tickets whose events the writer reads from the log from now on, call by call."""
    reads: list[Sequence[str]] = []
    original = EventLog.events_of_tickets

    def counted(log: EventLog, ticket_ids: Sequence[str]) -> dict[str, list[object]]:
        reads.append(list(ticket_ids))
        return original(log, ticket_ids)  # type: ignore[return-value]

    monkeypatch.setattr(EventLog, "events_of_tickets", counted)
    return reads


def folded_version(writer: LogWriter, ticket_id: str) -> int:
    """The version of ``ticket_id`` the writer gives, checked equal to a fresh fold."""
    [(state, fresh)] = writer.call(states_and_folds([ticket_id]))
    assert state == fresh
    return state.version


def break_the_transaction(batch: LogBatch, name: str) -> None:
    """A database error in a job: the whole transaction is rolled back."""
    batch.conn.execute(insert(schema.node_state).values(name=name, value=1))
    batch.conn.execute(insert(schema.node_state).values(name=name, value=2))


def in_another_process(db: Database, identity: NodeIdentity, job: Callable[[LogBatch], T]) -> T:
    """``job``'s result, run by a second process of the hub: same node, same database."""
    other = start_writer(db, identity)
    try:
        return other.call(job)
    finally:
        other.stop()


def test_a_ticket_folded_before_is_not_read_back_while_its_events_are_unchanged(
    node: tuple[Database, LogWriter, NodeIdentity], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, writer, _ = node
    writer.call(register_job("T1"))
    writer.call(note("T1", "受理"))
    reads = count_reads(monkeypatch)
    assert folded_version(writer, "T1") == 2
    assert reads == []


def test_without_kept_states_every_transaction_reads_the_ticket_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database.open(db_url)
    writer = start_writer(db, NodeIdentity.generate("620102", UnitLevel.COUNTY), kept_states=0)
    try:
        writer.call(register_job("T1"))
        reads = count_reads(monkeypatch)
        assert folded_version(writer, "T1") == 1
        assert reads == [["T1"]]
        assert writer.kept_states == 0
    finally:
        writer.stop()
        db.close()


def test_a_job_undone_leaves_nothing_of_its_state_kept(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    _, writer, _ = node
    writer.call(register_job("T1"))

    def step_then_fail(batch: LogBatch) -> None:
        note("T1", "受理")(batch)
        raise RuntimeError("failed after the step")

    failed = writer.submit(step_then_fail)
    looked = writer.submit(states_and_folds(["T1"]))
    with pytest.raises(RuntimeError):
        failed.result(30)
    assert looked.result(30)[0][0].version == 1
    assert folded_version(writer, "T1") == 1


def test_a_transaction_that_fails_empties_the_kept_states(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    _, writer, _ = node
    writer.call(register_job("T1"))
    assert folded_version(writer, "T1") == 1
    assert writer.kept_states == 1

    def step_then_break_the_transaction(batch: LogBatch) -> None:
        note("T1", "受理")(batch)
        break_the_transaction(batch, "twice")

    with pytest.raises(StorageError):
        writer.call(step_then_break_the_transaction)
    assert writer.kept_states == 0
    assert folded_version(writer, "T1") == 1


def test_a_step_another_process_of_the_hub_recorded_is_folded_in(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    db, writer, identity = node
    writer.call(register_job("T1"))
    assert folded_version(writer, "T1") == 1  # this process now holds T1 folded
    in_another_process(db, identity, note("T1", "受理"))
    assert folded_version(writer, "T1") == 2


def test_a_revocation_another_process_took_in_is_folded_in(
    node: tuple[Database, LogWriter, NodeIdentity],
) -> None:
    db, writer, identity = node
    writer.call(register_job("T1"))
    writer.call(note("T1", "受理"))
    assert folded_version(writer, "T1") == 2
    discounted = in_another_process(
        db,
        identity,
        lambda batch: batch.discount_signer(identity.key_id, identity.node_id, 0, "revoked"),
    )
    assert discounted == 1
    assert folded_version(writer, "T1") == 0


def test_the_least_recently_used_state_goes_first() -> None:
    kept = CommittedStates(capacity=2)
    kept.keep("A", frozenset({"a1"}), TicketState("A"))
    kept.keep("B", frozenset({"b1"}), TicketState("B"))
    assert set(kept.held(["A"])) == {"A"}  # A used: B is now the least recent
    kept.keep("C", frozenset({"c1"}), TicketState("C"))
    assert ("A" in kept, "B" in kept, "C" in kept) == (True, False, True)


# -- whatever the jobs do, a state given is the fold of what is held ---------------------------

STEP = st.tuples(
    st.sampled_from(["step", "step", "undone", "broken", "look"]),
    st.integers(min_value=0, max_value=2),
)


@pytest.fixture
def sqlite_node(tmp_path: Path) -> Iterator[tuple[Database, LogWriter, NodeIdentity]]:
    db = Database.open(f"sqlite:///{tmp_path / 'node.db'}")
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    writer = start_writer(db, identity, kept_states=2)  # fewer than the tickets: some go out
    try:
        yield db, writer, identity
    finally:
        writer.stop()
        db.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_every_state_the_writer_gives_is_a_fresh_fold_of_the_log(
    sqlite_node: tuple[Database, LogWriter, NodeIdentity],
    steps: list[tuple[str, int]],
) -> None:
    _, writer, _ = sqlite_node
    run = uuid.uuid4().hex[:8]  # one writer for every example: tickets of their own
    tickets = [f"{run}-{n}" for n in range(3)]
    for ticket_id in tickets:
        writer.call(register_job(ticket_id))
    for what, n in steps:
        ticket_id = tickets[n]
        if what == "step":
            writer.call(note(ticket_id, what))
        elif what == "undone":

            def undone(batch: LogBatch, ticket_id: str = ticket_id) -> None:
                note(ticket_id, "undone")(batch)
                raise RuntimeError("undone")

            with pytest.raises(RuntimeError):
                writer.call(undone)
        elif what == "broken":

            def broken(batch: LogBatch, ticket_id: str = ticket_id) -> None:
                note(ticket_id, "broken")(batch)
                break_the_transaction(batch, run)

            with pytest.raises(StorageError):
                writer.call(broken)
        for state, fresh in writer.call(states_and_folds(tickets)):
            assert state == fresh
