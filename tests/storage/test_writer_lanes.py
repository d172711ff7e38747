"""The log writer's lanes: the desk's jobs go before a peer's backlog, and the backlog still moves.

A registration at the desk must not wait for a replication storm's backlog queued before it
(docs/storm.md); a backlog must not wait forever behind a busy desk either. Each job below
notes when it ran, so the order the writer took them in is what is checked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest

from core.regions import standard_units
from core.units import UnitLevel
from node.storage.database import Database
from node.views.tickets import TicketProjection
from sync.identity import NodeIdentity
from sync.writer import Lane, LogBatch, LogWriter
from tests.helpers.holding import hold_writer
from tests.helpers.registrations import register_job

MakeWriter = Callable[..., LogWriter]


@pytest.fixture
def make_writer(db_url: str) -> Iterator[MakeWriter]:
    """Start a writer on a fresh database, with the given settings; stopped after the test."""
    db = Database.open(db_url)
    writers: list[LogWriter] = []

    def make(**settings: float) -> LogWriter:
        identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
        projection = TicketProjection(standard_units().get("620102"))
        writer = LogWriter(
            db.writer_engine, identity, lambda: 1_790_000_000_000, projection, **settings
        )
        writer.start()
        writers.append(writer)
        return writer

    try:
        yield make
    finally:
        for writer in writers:
            writer.stop()
        db.close()


class Ledger:
    """The order jobs ran in, and the groups (jobs per transaction) the writer committed."""

    def __init__(self, writer: LogWriter) -> None:
        self.ran: list[str] = []
        self.groups: list[int] = []
        writer.on_group = lambda size, seconds: self.groups.append(size)

    def job(
        self, name: str, seconds: float = 0.0, then: Callable[[LogBatch], object] | None = None
    ) -> Callable[[LogBatch], str]:
        """A writer job that works ``seconds``, does ``then`` if given, and notes ``name``."""

        def run(batch: LogBatch) -> str:
            time.sleep(seconds)
            if then is not None:
                then(batch)
            self.ran.append(name)
            return name

        return run


def settle(futures: list[Future[str]]) -> list[str]:
    return [f.result(30) for f in futures]


def test_registration_is_not_queued_behind_a_backlog(make_writer: MakeWriter) -> None:
    writer = make_writer()
    ledger = Ledger(writer)
    release, holder = hold_writer(writer)
    backlog = [
        writer.submit(ledger.job(f"slice {i}", seconds=0.05), lane=Lane.BACKLOG) for i in range(6)
    ]
    registration = writer.submit(ledger.job("registration", then=register_job("T-DESK")))
    release.set()
    settle([registration, *backlog])
    holder.result(30)
    # Offered after six slices of a backlog, it waited for the one under way only.
    assert ledger.ran == ["slice 0", "registration", *(f"slice {i}" for i in range(1, 6))]
    assert ledger.groups[:3] == [1, 1, 1]  # the holder, one slice, the registration alone


def test_a_backlog_moves_between_the_groups_of_a_busy_desk(make_writer: MakeWriter) -> None:
    writer = make_writer(max_batch=4)
    ledger = Ledger(writer)
    release, holder = hold_writer(writer)
    backlog = [writer.submit(ledger.job(f"R{i}"), lane=Lane.BACKLOG) for i in range(3)]
    desk = [writer.submit(ledger.job(f"D{i}")) for i in range(12)]
    release.set()
    settle(backlog + desk)
    holder.result(30)
    # The lanes take turns: a slice, four desk jobs, a slice, four, a slice, four.
    assert ledger.ran == [
        "R0", "D0", "D1", "D2", "D3", "R1", "D4", "D5", "D6", "D7", "R2", "D8", "D9", "D10", "D11",
    ]  # fmt: skip


def test_a_backlog_commits_in_few_groups_while_the_desk_is_quiet(
    make_writer: MakeWriter,
) -> None:
    writer = make_writer(backlog_budget=10.0)
    ledger = Ledger(writer)
    release, holder = hold_writer(writer)
    backlog = [writer.submit(ledger.job(f"R{i}"), lane=Lane.BACKLOG) for i in range(8)]
    release.set()
    assert settle(backlog) == [f"R{i}" for i in range(8)]
    holder.result(30)
    assert ledger.groups == [1, 8]  # the holder, then every slice in one transaction


def test_a_backlog_group_closes_after_its_budget(make_writer: MakeWriter) -> None:
    writer = make_writer(backlog_budget=0.5)
    ledger = Ledger(writer)
    release, holder = hold_writer(writer)
    backlog = [writer.submit(ledger.job(f"R{i}", seconds=0.3), lane=Lane.BACKLOG) for i in range(5)]
    release.set()
    settle(backlog)
    holder.result(30)
    assert ledger.ran == [f"R{i}" for i in range(5)]
    assert ledger.groups == [1, 2, 2, 1]  # 0.3 s each: the second job passes the 0.5 s


def test_a_backlog_group_closes_when_a_desk_job_arrives(make_writer: MakeWriter) -> None:
    writer = make_writer(backlog_budget=10.0)
    ledger = Ledger(writer)

    def slice_that_lets_the_desk_in(batch: LogBatch) -> str:
        ledger.ran.append("R0")
        desk.append(writer.submit(ledger.job("D0")))
        return "R0"

    release, holder = hold_writer(writer)
    desk: list[Future[str]] = []
    first = writer.submit(slice_that_lets_the_desk_in, lane=Lane.BACKLOG)
    rest = [writer.submit(ledger.job(f"R{i}"), lane=Lane.BACKLOG) for i in range(1, 4)]
    release.set()
    settle([first, *rest])
    settle(desk)
    holder.result(30)
    assert ledger.ran == ["R0", "D0", "R1", "R2", "R3"]
    assert ledger.groups == [1, 1, 1, 3]


def test_stop_commits_the_jobs_queued_in_both_lanes(make_writer: MakeWriter) -> None:
    writer = make_writer()
    ledger = Ledger(writer)
    release, holder = hold_writer(writer)
    queued = [writer.submit(register_job(f"Q{i}")) for i in range(3)]
    queued += [writer.submit(ledger.job(f"R{i}"), lane=Lane.BACKLOG) for i in range(3)]
    stopping = threading.Thread(target=writer.stop)
    stopping.start()
    while not writer.stopping:
        time.sleep(0.005)
    release.set()
    stopping.join(30)
    holder.result(30)
    assert all(f.done() and f.exception() is None for f in queued)
    assert sorted(ledger.ran) == ["R0", "R1", "R2"]
