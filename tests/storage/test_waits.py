"""No call waits forever: the log writer's queue and the blocking pool give up at their limit.

A job still waiting its turn when its caller's limit passes is dropped and never runs
(``Busy``: nothing was written); one already under way commits, and its caller is told it may
have (``WaitExpired``). A caller cancelled before its job was taken drops it the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from core.regions import standard_units
from core.units import UnitLevel
from node.app.blocking import BlockingPool
from node.storage.database import Database
from node.storage.tables import tickets
from node.views.tickets import TicketProjection
from sync.errors import Busy, WaitExpired
from sync.identity import NodeIdentity
from sync.writer import LogBatch, LogWriter
from tests.helpers.registrations import register_job

LIMIT = 0.3


@pytest.fixture
def writer(db_url: str) -> Iterator[tuple[Database, LogWriter]]:
    db = Database.open(db_url)
    identity = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    projection = TicketProjection(standard_units().get("620102"))
    log_writer = LogWriter(
        db.writer_engine, identity, lambda: 1_790_000_000_000, projection, wait_limit=LIMIT
    )
    log_writer.start()
    try:
        yield db, log_writer
    finally:
        log_writer.stop()
        db.close()


def count_tickets(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())


def blocker(started: threading.Event, release: threading.Event) -> object:
    """A job that registers a ticket, then holds the writer until ``release``."""
    register = register_job("HELD")

    def job(batch: LogBatch) -> int:
        seq = register(batch)
        started.set()
        release.wait(10)
        return seq

    return job


def test_a_job_still_queued_at_the_limit_is_dropped_and_one_under_way_commits(
    writer: tuple[Database, LogWriter],
) -> None:
    db, log_writer = writer
    started, release = threading.Event(), threading.Event()

    async def scenario() -> tuple[BaseException | int, BaseException | int]:
        held = asyncio.ensure_future(log_writer.run(blocker(started, release)))  # type: ignore[arg-type]
        while not started.is_set():
            await asyncio.sleep(0.01)
        queued = asyncio.ensure_future(log_writer.run(register_job("QUEUED")))
        results = await asyncio.gather(held, queued, return_exceptions=True)
        release.set()
        return results[0], results[1]

    held, queued = asyncio.run(scenario())
    assert isinstance(held, WaitExpired), held
    assert isinstance(queued, Busy), queued
    assert "retry in" in str(queued)
    # The writer goes on: the held job commits; the dropped one never runs.
    assert log_writer.call(register_job("AFTER")) == 2
    assert count_tickets(db) == 2  # HELD and AFTER; QUEUED was never written


def test_a_caller_cancelled_before_its_job_was_taken_drops_it(
    writer: tuple[Database, LogWriter],
) -> None:
    db, log_writer = writer
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def noted(batch: LogBatch) -> int:
        ran.append("cancelled job")
        return register_job("CANCELLED")(batch)

    async def scenario() -> None:
        log_writer.wait_limit = 10
        held = asyncio.ensure_future(log_writer.run(blocker(started, release)))  # type: ignore[arg-type]
        while not started.is_set():
            await asyncio.sleep(0.01)
        queued = asyncio.ensure_future(log_writer.run(noted))
        await asyncio.sleep(0.05)
        queued.cancel()
        release.set()
        await held
        with pytest.raises(asyncio.CancelledError):
            await queued

    asyncio.run(scenario())
    log_writer.call(register_job("AFTER"))
    assert ran == []
    assert count_tickets(db) == 2


def test_the_blocking_pool_drops_work_not_begun_and_tells_of_work_under_way() -> None:
    pool = BlockingPool(workers=1, wait_limit=LIMIT)
    release = threading.Event()
    ran: list[str] = []

    def slow() -> str:
        release.wait(10)
        ran.append("slow")
        return "slow"

    def queued() -> str:
        ran.append("queued")
        return "queued"

    async def scenario() -> tuple[BaseException | str, BaseException | str]:
        first = asyncio.ensure_future(pool.run(slow))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(pool.run(queued))
        results = await asyncio.gather(first, second, return_exceptions=True)
        return results[0], results[1]

    try:
        first, second = asyncio.run(scenario())
        assert isinstance(first, WaitExpired), first
        assert isinstance(second, Busy), second
        release.set()
    finally:
        release.set()
        pool.close()
    assert ran == ["slow"]
